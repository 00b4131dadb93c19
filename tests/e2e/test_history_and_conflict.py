"""In the browser: restore an old revision as the new draft; a concurrent save is reported, not
overwritten; after reloading, keyboard copy/paste/undo, a sticky note and auto-layout are saved."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from flows import drafts, services
from tests.e2e.conftest import shot
from tests.e2e.helpers import login, select_node, wait_saved
from tests.factories import definition, edge, make_user, node

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def _definition(text: str) -> dict:
    return definition([node("start", "trigger", event="message", match="any"), node("hello", "send_message", text=text)],
                      [edge("start", "hello")])


def _latest(flow):
    return flow.revisions.order_by("-revision").first()


def test_restore_a_revision_see_a_conflicting_save_then_keep_editing(browser_page):
    page = browser_page
    ana = make_user("ana", role="editor", first_name="Ana")
    bruno = make_user("bruno", role="editor", first_name="Bruno")
    flow = services.flow_create(name="Boas-vindas", definition=_definition("Versão um"), author=ana)

    login(page, "ana")
    expect(page.locator("[data-testid=flow-row]")).to_contain_text("Boas-vindas")
    shot(page, "00-flow-list")
    page.goto(f"{page.base_url}/flows/{flow.pk}")
    select_node(page, "hello")
    text = page.locator("[data-testid=side-panel] [data-testid=field-text]")
    expect(text).to_have_value("Versão um")
    text.fill("Versão dois")
    wait_saved(page)
    expect(page.locator("[data-testid=draft-revision]")).to_contain_text("2")
    assert _latest(flow).definition["nodes"][1]["config"]["text"] == "Versão dois"

    # History lists both revisions; "Ver" previews one on its own canvas, restoring asks first.
    page.click("[data-testid=open-history]")
    history = page.locator("[data-testid=history-panel]")
    expect(history.locator("[data-testid=revision-2]")).to_contain_text("~1 alterados")
    history.locator("[data-testid=preview-1]").click()
    preview = page.locator("[data-testid=revision-preview]")
    expect(preview.locator("[data-testid=node-hello]")).to_contain_text("Versão um")
    expect(preview.locator("[data-testid=node-hello]")).to_have_class(re.compile("diff-changed"))  # vs the draft
    preview.locator("[data-testid=preview-restore]").click()
    page.locator("[data-testid=confirm-dialog]").get_by_role("button", name="Cancelar").click()
    expect(page.locator("[data-testid=node-hello]").first).to_contain_text("Versão dois")  # nothing restored
    preview.locator("[data-testid=preview-restore]").click()
    page.click("[data-testid=confirm-ok]")
    expect(page.locator("[data-testid=notice]")).to_contain_text("Revisão #1 restaurada")
    expect(page.locator("[data-testid=node-hello]")).to_contain_text("Versão um")
    wait_saved(page)
    latest = _latest(flow)
    assert latest.revision == 3
    assert latest.definition["nodes"][1]["config"]["text"] == "Versão um"
    expect(history.locator("[data-testid=revision-3]")).to_contain_text("Restaurado da revisão 1")
    shot(page, "04-history-restored")
    page.locator("[data-testid=history-panel] [aria-label=Fechar]").click()

    # Bruno saves on top of revision 3 from elsewhere; Ana's next autosave must not overwrite it.
    services.flow_revision_save(flow=flow, definition=_definition("Versão do Bruno"), base_revision=3, author=bruno)
    select_node(page, "hello")
    page.locator("[data-testid=side-panel] [data-testid=field-text]").fill("Minha edição")
    banner = page.locator("[data-testid=conflict-banner]")
    expect(banner).to_be_visible(timeout=10_000)
    expect(banner).to_contain_text("bruno salvou este fluxo")
    expect(banner).to_contain_text("Nada do que você digitou foi perdido")
    expect(page.locator("[data-testid=save-status]")).to_have_attribute("data-status", "conflict")
    shot(page, "05-conflict")
    latest = _latest(flow)
    assert latest.revision == 4
    assert latest.definition["nodes"][1]["config"]["text"] == "Versão do Bruno"

    # Merge: Ana's edit goes on top of Bruno's revision (both changed the block: hers is kept).
    banner.locator("[data-testid=conflict-merge]").click()
    expect(banner).to_have_count(0)
    expect(page.locator("[data-testid=notice]")).to_contain_text("mescladas")
    wait_saved(page)
    assert _latest(flow).revision == 5
    assert _latest(flow).definition["nodes"][1]["config"]["text"] == "Minha edição"

    # The same person in another tab is told apart from someone else; discarding loads that version.
    other_tab = _latest(flow)
    drafts.revision_autosave(flow=flow, definition=_definition("Da outra aba"), base_revision=other_tab.revision,
                             base_saves=other_tab.saves, session="outra-aba", author=ana)
    select_node(page, "hello")
    page.locator("[data-testid=side-panel] [data-testid=field-text]").fill("Versão do Bruno, revisada")
    expect(banner).to_contain_text("Você salvou este fluxo em outra aba", timeout=10_000)
    banner.locator("[data-testid=conflict-reload]").click()
    expect(banner).to_have_count(0)
    expect(page.locator("[data-testid=node-hello]")).to_contain_text("Da outra aba")
    select_node(page, "hello")
    page.locator("[data-testid=side-panel] [data-testid=field-text]").fill("Versão final")
    wait_saved(page)
    assert _latest(flow).revision == 7
    before_layout = _latest(flow).definition["ui"]["nodes"]

    # A 250-character name is refused by the API, and the person is told why.
    page.locator("[data-testid=flow-name] button").click()
    page.locator("[data-testid=flow-name-input]").fill("x" * 250)
    page.locator("[data-testid=flow-name-input]").press("Enter")
    expect(page.locator("[data-testid=notice]")).to_contain_text("Não foi possível renomear")
    expect(page.locator("[data-testid=notice]")).to_contain_text("200 caracteres")

    # Keyboard: copy and paste a step, then undo the paste.
    select_node(page, "hello")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(page.locator(".step-card")).to_have_count(3)
    expect(page.locator(".react-flow__node.selected")).to_have_count(1)  # the copy, with a new id
    assert page.locator(".react-flow__node.selected").get_attribute("data-id") == "send_message_1"  # readable
    page.keyboard.press("Control+z")
    expect(page.locator(".step-card")).to_have_count(2)

    # A connection dragged from a port into empty canvas opens the palette there; the block arrives
    # connected to that port, where it was dropped. Undo takes it away again.
    start = page.locator("[data-testid=port-hello-failure]").bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 150, start["y"] + 160, steps=10)
    page.mouse.up()
    page.locator("[data-testid=quick-add]").wait_for()
    page.locator("[data-testid=quick-add-search]").fill("fim")
    page.locator("[data-testid=quick-add-search]").press("Enter")
    expect(page.locator(".react-flow__edge[data-id='e_hello_failure_end_1']")).to_have_count(1)
    shot(page, "05b-dropped-connection")
    page.click("[data-testid=undo]")
    expect(page.locator(".react-flow__edge[data-id='e_hello_failure_end_1']")).to_have_count(0)
    page.click("[data-testid=fit-view]")
    expect(page.locator(".step-card")).to_have_count(2)

    # A sticky note and auto-layout are saved in the layout part of the definition only.
    page.click("[data-testid=add-note]")
    note = page.locator(".note-card textarea")
    note.fill("Revisar com o time de vendas")
    page.locator(".react-flow__pane").click(position={"x": 600, "y": 500})  # leaving the note commits it
    page.click("[data-testid=auto-layout]")
    wait_saved(page)
    latest = _latest(flow)
    assert [n["text"] for n in latest.definition["ui"]["notes"]] == ["Revisar com o time de vendas"]
    positions = latest.definition["ui"]["nodes"]
    assert positions != before_layout  # auto-layout moved the steps...
    assert positions["start"]["position"]["x"] < positions["hello"]["position"]["x"]  # ...left to right
    assert [n["id"] for n in latest.definition["nodes"]] == ["start", "hello"]
    assert page.js_errors == []
