"""End to end in the browser: build, validate, publish and test-run the post-call follow-up flow."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from flows.models import Flow
from tests.e2e.conftest import shot
from tests.e2e.helpers import add_after, login, pick_variable, search_block, select_node, wait_saved
from tests.factories import make_channel, make_template, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def test_build_the_post_call_follow_up_from_ports_check_test_publish_and_restore(browser_page):
    """Seed 003's post-call follow-up, built in pt-BR with "+" on output ports only (no drag):
    trigger "chamada completada" → delay → branch on the call result → a template per branch."""
    page = browser_page
    make_user("ana", role="editor", first_name="Ana")
    make_channel()
    make_template("retorno_ligacao", body="Olá {{1}}, tentamos falar com você. Podemos ligar de novo?")
    make_template("obrigado_ligacao", body="Obrigado pela conversa, {{1}}!")

    page.goto(page.base_url + "/flows")
    page.locator("[data-testid=login-form]").wait_for()  # not logged in: the login page
    shot(page, "00-login")
    login(page, "ana")
    page.click("[data-testid=new-flow]")
    page.fill("[data-testid=new-flow-name]", "Pós-ligação")
    page.click("[data-testid=create-flow]")
    page.wait_for_url(re.compile(r"/flows/\d+$"))
    flow = Flow.objects.get(name="Pós-ligação")
    page.locator("[data-testid=palette-trigger]").wait_for()
    # The empty canvas says where to start.
    expect(page.locator("[data-testid=canvas-empty]")).to_contain_text("Comece pelo gatilho")
    expect(page.locator(".react-flow__minimap")).to_have_count(0)  # no empty white minimap
    shot(page, "00-empty-canvas")
    page.click("[data-testid=empty-add-trigger]")
    trigger = "trigger_1"
    panel = page.locator("[data-testid=side-panel]")
    select_node(page, trigger)

    # The trigger: an external event "call.finished" that declares its data (call_result).
    panel.locator("[data-testid=field-event]").select_option("external")
    expect(page.locator(f"[data-testid=node-errors-{trigger}]")).to_be_visible()  # no event name yet
    expect(page.locator("[data-testid=problem]", has_text="Informe o nome do evento externo")).to_be_visible()
    panel.locator("[data-testid=field-event_name]").fill("call.finished")
    panel.locator("[data-testid='add-fields']").click()
    panel.locator("[data-testid='field-fields.0.name']").fill("call_result")
    panel.locator("[data-testid='field-fields.0.sample']").fill("no_answer")
    expect(page.locator(f"[data-testid=node-errors-{trigger}]")).to_have_count(0)

    # "+" on the trigger's output: the palette opens there and the delay arrives connected.
    delay = add_after(page, trigger, "next", "delay")
    panel.locator("[data-testid=field-duration] input").fill("2")
    expect(page.locator(f"[data-testid=node-{delay}]")).to_contain_text("2 horas")
    branch = add_after(page, delay, "next", "branch")
    for index, (label, value) in enumerate([("Não atendeu", "no_answer"), ("Atendeu", "answered")]):
        panel.locator("[data-testid=add-condition]").click()
        condition = panel.locator("[data-testid=condition]").nth(index)
        condition.locator("[data-testid=condition-label]").fill(label)
        pick_variable(page, condition.locator("[data-testid=rule-left]"), "{{trigger.call", "trigger.call_result")
        condition.locator("[data-testid=rule-right]").fill(value)
    # The card says what each path tests.
    expect(page.locator(f"[data-testid=node-{branch}]")).to_contain_text("Não atendeu: trigger.call_result é igual a no_answer")
    shot(page, "01-branch-panel")
    no_answer_tpl = add_after(page, branch, "c1", "send_template")
    panel.locator("[data-testid=template-select]").select_option("retorno_ligacao|pt_BR")
    expect(panel.locator("[data-testid=template-text]")).to_contain_text("{{1}}")
    # Deliberate mistake: the template's variable left empty is an error pinned on the block.
    empty = "A variável {{1}} do template está vazia"
    expect(page.locator(f"[data-testid=node-{no_answer_tpl}]")).to_contain_text(empty)
    expect(page.locator("[data-testid=problem]", has_text=empty)).to_be_visible()
    expect(panel.locator("[data-testid=template-var-0]")).to_have_attribute("placeholder", "Escolha uma variável ou digite um valor")
    answered_tpl = add_after(page, branch, "c2", "send_template")
    panel.locator("[data-testid=template-select]").select_option("obrigado_ligacao|pt_BR")
    pick_variable(page, panel.locator("[data-testid=template-var-0]"), "{{contact.first", "contact.first_name")
    page.click("[data-testid=fit-view]")
    page.wait_for_timeout(400)
    shot(page, "02-empty-variable-error")
    # Fix it: the problem selects the block, the autocomplete fills the variable.
    page.locator("[data-testid=problem]", has_text=empty).click()
    expect(page.locator(f".react-flow__node[data-id='{no_answer_tpl}']")).to_have_class(re.compile("selected"))
    pick_variable(page, panel.locator("[data-testid=template-var-0]"), "{{contact.first", "contact.first_name")
    expect(page.locator("[data-testid=problem]")).to_have_count(0)
    expect(page.locator(f"[data-testid=node-{no_answer_tpl}]")).to_contain_text("Olá {{contact.first_name}}, tentamos")

    # The other path: a free-form message after a 25-hour delay — a WhatsApp policy warning.
    late_delay = add_after(page, branch, "default", "delay")
    panel.locator("[data-testid=node-name]").fill("Esperar 25 h")
    panel.locator("[data-testid=node-name]").press("Enter")
    panel.locator("[data-testid=field-duration] input").fill("25")
    late_text = add_after(page, late_delay, "next", "send_message")
    panel.locator("[data-testid=field-text]").fill("Oi! Ainda podemos ajudar com a ligação?")
    warning = page.locator("[data-testid=warning][data-code=policy_window_delay]")
    expect(warning).to_contain_text("Esperar 25 h")
    expect(page.locator(f"[data-testid=node-warnings-{late_text}]")).to_be_visible()
    expect(page.locator("[data-testid=problem]")).to_have_count(0)  # a warning, not an error
    page.click("[data-testid=auto-layout]")
    page.wait_for_timeout(700)
    shot(page, "03-policy-warning")
    wait_saved(page)

    # The saved draft is what was drawn, with readable ids.
    definition = flow.latest_revision.definition
    assert {(e["source"], e["source_port"], e["target"]) for e in definition["edges"]} == {
        (trigger, "next", delay), (delay, "next", branch), (branch, "c1", no_answer_tpl),
        (branch, "c2", answered_tpl), (branch, "default", late_delay), (late_delay, "next", late_text)}
    assert [delay, branch, no_answer_tpl, answered_tpl] == ["delay_1", "branch_1", "send_template_1", "send_template_2"]

    # Test while editing: the panel sits beside the block settings; the event data is a form.
    page.click("[data-testid=open-test-run]")
    run_panel = page.locator("[data-testid=test-run-panel]")
    expect(panel).to_be_visible()
    expect(run_panel.locator("[data-testid=test-field-call_result]")).to_have_value("no_answer")  # the sample
    run_panel.locator("[data-testid=test-contact-name]").fill("Maria Teste")
    shot(page, "04-test-form")
    run_panel.locator("[data-testid=test-start]").click()
    expect(run_panel.locator(f"[data-testid=trace-step][data-node-id={delay}]")).to_be_visible(timeout=20_000)
    expect(run_panel.locator("[data-testid=trace]")).to_contain_text("Gatilho → Próximo")
    expect(page.locator(f"[data-testid=node-{delay}]")).to_have_class(re.compile("run-active"))
    run_panel.locator("[data-testid=fast-forward]").click()
    template_bubble = run_panel.locator("[data-testid=bubble-out][data-kind=template]")
    expect(template_bubble).to_be_visible(timeout=20_000)
    expect(template_bubble).to_contain_text("Maria")
    expect(run_panel.locator("[data-testid=trace]")).to_contain_text("Condição → Não atendeu")
    expect(run_panel.locator("[data-testid=variables]")).to_contain_text("trigger.call_result")
    expect(run_panel.locator("[data-testid=variables]")).to_contain_text("no_answer")
    expect(run_panel.locator("[data-testid=test-contact-line]")).to_contain_text("Maria Teste")
    # Both usable at once: edit a block while the test panel is open (found with Ctrl+K by its text).
    search_block(page, "Ainda podemos ajudar", keyboard=True)
    expect(page.locator(f".react-flow__node[data-id='{late_text}']")).to_have_class(re.compile("selected"))
    expect(panel.locator("[data-testid=field-text]")).to_be_visible()
    shot(page, "05-test-run")
    # Run again with the same data and the same test contact.
    run_panel.locator("[data-testid=test-run-again]").click()
    # A fresh trace: the trigger and the delay it waits on (the previous run's steps are gone).
    expect(run_panel.locator("[data-testid=trace-step]")).to_have_count(2, timeout=20_000)
    expect(run_panel.locator(f"[data-testid=trace-step][data-node-id={delay}]")).to_contain_text("em espera")
    expect(run_panel.locator("[data-testid=test-contact-line]")).to_contain_text("Maria Teste")

    # Publish: the policy warning is listed and must be confirmed.
    page.click("[data-testid=publish]")
    dialog = page.locator("[data-testid=publish-dialog]")
    expect(dialog.locator("[data-testid=publish-warnings]")).to_contain_text("janela de 24 h")
    page.fill("[data-testid=publish-comment]", "Primeira versão do pós-ligação")
    expect(page.locator("[data-testid=publish-confirm]")).to_be_disabled()
    shot(page, "06-publish-dialog")
    page.click("[data-testid=publish-accept-warnings]")
    page.click("[data-testid=publish-confirm]")
    expect(page.locator("[data-testid=notice]")).to_contain_text("publicada")
    flow.refresh_from_db()
    published = flow.published_revision
    assert published is not None and published.sealed
    assert [w["code"] for w in flow.publications.get().warnings] == ["policy_window_delay"]
    expect(page.locator("[data-testid=publish]")).to_contain_text("Publicado")  # nothing new to publish

    # A later edit, then restore the published revision from its diff.
    select_node(page, late_text)
    page.locator("[data-testid=delete-node]").click()
    wait_saved(page)
    page.click("[data-testid=open-history]")
    history = page.locator("[data-testid=history-panel]")
    latest = flow.revisions.order_by("-revision").first()
    expect(history.locator(f"[data-testid=revision-{latest.revision}]")).to_contain_text("removidos")
    expect(history.locator(f"[data-testid=revision-{published.revision}]")).to_contain_text("Primeira versão do pós-ligação")
    history.locator(f"[data-testid=preview-{published.revision}]").click()
    preview = page.locator("[data-testid=revision-preview]")
    expect(preview.locator(f"[data-testid=node-{late_text}]")).to_be_visible()
    expect(preview.locator(".step-card.diff-added")).not_to_have_count(0)
    shot(page, "07-history-preview")
    preview.locator("[data-testid=preview-restore]").click()
    expect(page.locator("[data-testid=confirm-dialog]")).to_contain_text(f"Restaurar a revisão #{published.revision}?")
    page.click("[data-testid=confirm-ok]")
    expect(page.locator("[data-testid=notice]")).to_contain_text(f"Revisão #{published.revision} restaurada")
    expect(page.locator(f"[data-testid=node-{late_text}]")).to_be_visible()
    wait_saved(page)
    restored = flow.revisions.order_by("-revision").first()
    assert restored.definition["nodes"] == published.definition["nodes"]
    assert restored.comment == f"Restaurado da revisão {published.revision}"
    # The restore can be undone.
    page.locator("[data-testid=notice-undo]").click()
    expect(page.locator(f"[data-testid=node-{late_text}]")).to_have_count(0)
    page.click("[data-testid=fit-view]")
    page.wait_for_timeout(400)
    shot(page, "08-restored-and-undone")
    assert page.js_errors == []


def test_test_run_chat_with_reply_buttons_follows_the_tapped_path(browser_page):
    """A message-started flow: the customer types, gets reply buttons, taps one, and the trace follows it."""
    from flows import services
    from tests.factories import definition, edge, node

    page = browser_page
    ana = make_user("ana", role="editor", first_name="Ana")
    make_channel()
    flow = services.flow_create(name="Atendimento", author=ana, definition=definition(
        [node("start", "trigger", event="message", match="any"),
         node("ask", "send_message", text="Quer falar com um atendente?",
              buttons=[{"id": "sim", "title": "Sim"}, {"id": "nao", "title": "Não"}]),
         node("wait", "wait_for_reply", timeout={"value": 1, "unit": "hours"}, save_as="answer"),
         node("route", "branch", conditions=[{"id": "yes", "label": "Sim", "match": "all",
                                              "rules": [{"left": "{{reply.reply_id}}", "op": "equals", "right": "sim"}]}]),
         node("human", "send_message", text="Já vamos te atender, {{contact.name}}."),
         node("bye", "send_message", text="Tudo bem, até mais!")],
        [edge("start", "ask"), edge("ask", "wait"), edge("wait", "route", "reply"), edge("route", "human", "yes"),
         edge("route", "bye", "default")]))

    login(page, "ana")
    # "Test run" from the flow list opens the editor with the test panel.
    page.locator("[data-testid=flow-row]", has_text="Atendimento").locator("[data-testid=list-test-run]").click()
    page.wait_for_url(re.compile(rf"/flows/{flow.pk}\?test$"))
    run_panel = page.locator("[data-testid=test-run-panel]")
    expect(run_panel.locator("[data-testid=test-event-form]")).to_have_count(0)  # message trigger: no event data
    run_panel.locator("[data-testid=test-start]").click()
    run_panel.locator("[data-testid=chat-input]").fill("oi")
    run_panel.locator("[data-testid=chat-send]").click()
    question = run_panel.locator("[data-testid=bubble-out]", has_text="Quer falar com um atendente?")
    expect(question).to_be_visible(timeout=20_000)
    expect(page.locator("[data-testid=node-wait]")).to_have_class(re.compile("run-active"), timeout=20_000)
    question.locator("[data-testid=reply-sim]").click()
    expect(run_panel.locator("[data-testid=bubble-out]", has_text="Já vamos te atender")).to_be_visible(timeout=20_000)
    expect(run_panel.locator("[data-testid=bubble-in]", has_text="Sim")).to_be_visible()
    expect(run_panel.locator("[data-testid=trace-step][data-node-id=human]")).to_be_visible()
    expect(run_panel.locator("[data-testid=trace-step][data-node-id=bye]")).to_have_count(0)
    expect(page.locator(".react-flow__edge[data-id='e-route-yes-human']")).to_have_class(re.compile("edge-taken"))
    variables = run_panel.locator("[data-testid=variables]")
    expect(variables.locator("tr", has_text="vars.answer")).to_contain_text("Sim")
    variables.locator("[data-testid=variables-json]").click()  # raw JSON behind a toggle
    expect(variables).to_contain_text('"answer": "Sim"')
    # A step's input and output open on click, as a table; the trace names the port taken.
    expect(run_panel.locator("[data-testid=trace-step][data-node-id=route]")).to_contain_text("Condição → Sim")
    run_panel.locator("[data-testid=trace-step][data-node-id=route] button").first.click()
    expect(run_panel.locator("[data-testid=trace-step][data-node-id=route] [data-testid=step-output] tr", has_text="matched")).to_contain_text("yes")
    shot(page, "06-test-run-buttons")
    assert page.js_errors == []
