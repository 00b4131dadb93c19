"""End to end in the browser: build, validate, publish and test-run the post-call follow-up flow."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from flows.models import Flow
from tests.e2e.conftest import shot
from tests.e2e.helpers import connect, drop_node, login, pick_variable, select_node, wait_saved
from tests.factories import make_channel, make_template, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def test_build_publish_and_test_run_the_post_call_follow_up(browser_page):
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
    page.locator("[data-testid=palette-trigger]").wait_for()
    expect(page.locator(".react-flow__node")).to_have_count(0)  # an empty canvas

    # Drag every step from the palette.
    trigger = drop_node(page, "trigger", 130, 90)
    delay = drop_node(page, "delay", 400, 90)
    branch = drop_node(page, "branch", 670, 90)
    no_answer_tpl = drop_node(page, "send_template", 400, 420)
    answered_tpl = drop_node(page, "send_template", 670, 460)
    connect(page, trigger, "next", delay)
    connect(page, delay, "next", branch)

    # Branch on {{trigger.call_result}}: one port per condition appears on the node.
    select_node(page, branch)
    panel = page.locator("[data-testid=side-panel]")
    for index, (label, value) in enumerate([("Não atendeu", "no_answer"), ("Atendeu", "answered")]):
        panel.locator("[data-testid=add-condition]").click()
        condition = panel.locator("[data-testid=condition]").nth(index)
        condition.locator("[data-testid=condition-label]").fill(label)
        condition.locator("[data-testid=rule-left]").fill("{{trigger.call_result}}")
        condition.locator("[data-testid=rule-right]").fill(value)
    expect(page.locator(f"[data-testid=port-{branch}-c1]")).to_be_visible()
    expect(page.locator(f"[data-testid=port-{branch}-c2]")).to_be_visible()
    expect(page.locator(f"[data-testid=port-{branch}-default]")).to_be_visible()
    connect(page, branch, "c1", no_answer_tpl)
    connect(page, branch, "c2", answered_tpl)

    # Template picker: the template's text and one expression field per variable, with autocomplete.
    for node_id, template in [(no_answer_tpl, "retorno_ligacao"), (answered_tpl, "obrigado_ligacao")]:
        select_node(page, node_id)
        panel.locator("[data-testid=template-select]").select_option(f"{template}|pt_BR")
        expect(panel.locator("[data-testid=template-text]")).to_contain_text("{{1}}")
        pick_variable(page, panel.locator("[data-testid=template-var-0]"), "{{contact.na", "contact.name")
        expect(panel.locator("[data-testid=template-var-0]")).to_have_value("{{contact.name}}")

    # The trigger: an external event without a name is an error pinned on the node, then fixed.
    select_node(page, trigger)
    panel.locator("[data-testid=trigger-event]").select_option("external")
    expect(page.locator(f"[data-testid=node-errors-{trigger}]")).to_be_visible()
    problem = page.locator("[data-testid=problem]", has_text="evento externo")
    expect(problem).to_be_visible()
    select_node(page, delay)
    problem.click()  # the problems panel selects the node
    expect(page.locator(f".react-flow__node[data-id='{trigger}']")).to_have_class(re.compile("selected"))
    page.click("[data-testid=fit-view]")  # the problem click centred the trigger; bring all back in view
    page.wait_for_timeout(400)
    shot(page, "01-validation-error")
    # Publishing now is refused, with the reason.
    page.click("[data-testid=publish]")
    page.fill("[data-testid=publish-comment]", "Ainda incompleto")
    page.click("[data-testid=publish-confirm]")
    expect(page.locator("[data-testid=publish-errors]")).to_contain_text("evento externo")
    page.locator("[data-testid=publish-dialog]").get_by_role("button", name="Cancelar").click()
    assert Flow.objects.get(name="Pós-ligação").published_revision is None
    panel.locator("[data-testid=field-event_name]").fill("call.finished")
    expect(page.locator(f"[data-testid=node-errors-{trigger}]")).to_have_count(0)

    select_node(page, delay)
    panel.locator("[data-testid=delay-duration] input").fill("2")
    expect(page.locator(f"[data-testid=node-{delay}]")).to_contain_text("2 horas")
    expect(page.locator("[data-testid=problem]")).to_have_count(0)
    wait_saved(page)
    page.click("[data-testid=fit-view]")
    page.wait_for_timeout(400)  # the fit is animated
    shot(page, "02-flow-built")

    # The saved draft is exactly what was drawn.
    flow = Flow.objects.get(name="Pós-ligação")
    definition = flow.latest_revision.definition
    assert {n["id"]: n["type"] for n in definition["nodes"]} == {
        trigger: "trigger", delay: "delay", branch: "branch", no_answer_tpl: "send_template", answered_tpl: "send_template"}
    assert {(e["source"], e["source_port"], e["target"]) for e in definition["edges"]} == {
        (trigger, "next", delay), (delay, "next", branch), (branch, "c1", no_answer_tpl), (branch, "c2", answered_tpl)}

    # Publish asks for a comment.
    page.click("[data-testid=publish]")
    page.fill("[data-testid=publish-comment]", "Primeira versão do pós-ligação")
    page.click("[data-testid=publish-confirm]")
    expect(page.locator("[data-testid=notice]")).to_contain_text("publicada")
    flow.refresh_from_db()
    assert flow.published_revision is not None

    # Test run: the external event's payload, a chat as the customer, fast-forward the 2-hour delay.
    page.click("[data-testid=open-test-run]")
    payload = page.locator("[data-testid=test-payload]")
    assert "call_result" in json.loads(payload.input_value())  # prefilled from {{trigger.*}} in the flow
    payload.fill(json.dumps({"call_result": "no_answer"}))
    page.click("[data-testid=test-start]")
    run_panel = page.locator("[data-testid=test-run-panel]")
    expect(run_panel.locator(f"[data-testid=trace-step][data-node-id={delay}]")).to_be_visible(timeout=20_000)
    expect(page.locator(f"[data-testid=node-{delay}]")).to_have_class(re.compile("run-active"))
    run_panel.locator("[data-testid=chat-input]").fill("Oi! Vi que vocês ligaram.")
    run_panel.locator("[data-testid=chat-input]").press("Enter")
    expect(run_panel.locator("[data-testid=bubble-in]")).to_contain_text("Vi que vocês ligaram", timeout=20_000)
    expect(run_panel.locator("[data-testid=bubble-out]")).to_have_count(0)
    run_panel.locator("[data-testid=fast-forward]").click()
    template_bubble = run_panel.locator("[data-testid=bubble-out][data-kind=template]")
    expect(template_bubble).to_be_visible(timeout=20_000)
    expect(template_bubble).to_contain_text("Teste Ana")
    expect(run_panel.locator(f"[data-testid=trace-step][data-node-id={no_answer_tpl}]")).to_be_visible()
    expect(run_panel.locator(f"[data-testid=trace-step][data-node-id={answered_tpl}]")).to_have_count(0)
    # The path lights up: the taken edges and the visited steps, not the other branch.
    for edge in [f"e_{trigger}_next_{delay}", f"e_{delay}_next_{branch}", f"e_{branch}_c1_{no_answer_tpl}"]:
        expect(page.locator(f".react-flow__edge[data-id='{edge}']")).to_have_class(re.compile("edge-taken"))
    expect(page.locator(f".react-flow__edge[data-id='e_{branch}_c2_{answered_tpl}']")).not_to_have_class(re.compile("edge-taken"))
    expect(page.locator(f"[data-testid=node-{no_answer_tpl}]")).to_have_class(re.compile("run-visited"))
    expect(page.locator(f"[data-testid=node-{answered_tpl}]")).not_to_have_class(re.compile("run-visited"))
    expect(run_panel.locator("[data-testid=variables]")).to_contain_text("no_answer")
    page.click("[data-testid=fit-view]")
    page.wait_for_timeout(400)
    shot(page, "03-test-run")
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
    expect(run_panel.locator("[data-testid=test-payload]")).to_have_count(0)  # message trigger: no event data
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
    expect(run_panel.locator("[data-testid=variables]")).to_contain_text('"answer": "Sim"')
    # A step's input and output open on click.
    run_panel.locator("[data-testid=trace-step][data-node-id=route] button").click()
    expect(run_panel.locator("[data-testid=trace-step][data-node-id=route]")).to_contain_text('"matched": "yes"')
    shot(page, "06-test-run-buttons")
    assert page.js_errors == []
