"""The editor's layout at 1280 px, in pt-BR and English: one toolbar row, no panel overflowing
(the Condição panel with groups and long rules), and the test panel beside the block settings."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from flows import services
from tests.e2e.conftest import shot
from tests.e2e.helpers import login, select_node
from tests.factories import definition, edge, make_user, node

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

RULE = {"left": "{{contact.attributes.segmento_do_cliente_principal}}", "op": "not_in_list",
        "right": "varejo, atacado, distribuidores regionais"}


def _overflow(page, selector: str) -> dict:
    return page.evaluate(f"""() => {{
        const el = document.querySelector({selector!r});
        const box = el.getBoundingClientRect();
        const outside = [...el.querySelectorAll('input, select, button, textarea')].filter((child) => {{
            const r = child.getBoundingClientRect();
            return r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1);
        }}).map((child) => child.outerHTML.slice(0, 80));
        return {{scroll: el.scrollWidth - el.clientWidth, outside}};
    }}""")


def _one_row(page) -> bool:
    """Every toolbar control centred on one line, and the toolbar one control high."""
    centres = page.evaluate("[...document.querySelectorAll('.toolbar > *')].map((el) => {"
                            " const r = el.getBoundingClientRect(); return r.top + r.height / 2; })")
    height = page.evaluate("document.querySelector('.toolbar').getBoundingClientRect().height")
    assert max(centres) - min(centres) < 4 and height < 56, (centres, height)
    return True


@pytest.mark.parametrize("language", ["pt-BR", "en"])
def test_toolbar_and_panels_fit_at_1280(browser_page, language):
    page = browser_page
    ana = make_user("ana", role="editor", first_name="Ana")
    if language == "en":
        from flows.models import UserPreference

        UserPreference.objects.create(user=ana, language="en")
    flow = services.flow_create(
        name="Pós-ligação — clientes do plano empresarial com retorno em até duas horas", author=ana,
        definition=definition(
            [node("start", "trigger", event="message", match="any"),
             node("route", "branch", conditions=[
                 {"id": "vip", "label": "Clientes VIP do programa de fidelidade", "match": "any",
                  "rules": [RULE, {"match": "all", "rules": [RULE, {"op": "business_hours"}]}]},
                 {"id": "c2", "label": "Demais", "rules": [RULE]}])],
            [edge("start", "route")]))
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, "ana")
    page.goto(f"{page.base_url}/flows/{flow.pk}")
    toolbar = page.locator(".toolbar")
    expect(toolbar.locator("[data-testid=publish]")).to_be_visible()
    # One row: every toolbar control on the same line, nothing cut at the right edge.
    assert _one_row(page)
    assert page.evaluate("document.querySelector('.toolbar').scrollWidth <= document.querySelector('.toolbar').clientWidth")
    box = toolbar.locator("[data-testid=publish]").bounding_box()
    assert box["x"] + box["width"] <= 1280

    select_node(page, "route")
    panel = page.locator("[data-testid=side-panel]")
    expect(panel.locator("[data-testid=condition]")).to_have_count(2)
    result = _overflow(page, "[data-testid=side-panel]")
    assert result == {"scroll": 0, "outside": []}, result
    shot(page, f"09-layout-1280-{language}")

    page.click("[data-testid=open-test-run]")
    expect(page.locator("[data-testid=test-run-panel]")).to_be_visible()
    expect(panel.locator("[data-testid=condition]").first).to_be_visible()  # both at once
    for selector in ("[data-testid=side-panel]", "[data-testid=test-run-panel]"):
        result = _overflow(page, selector)
        assert result == {"scroll": 0, "outside": []}, (selector, result)
    assert _one_row(page)
    shot(page, f"10-layout-1280-test-{language}")
    assert page.js_errors == []
