"""Guards against ops-written patterns on customer text, and clean stops of test runs."""

from __future__ import annotations

import pytest

from flows import testruns
from flows.models import FlowRun
from flows.services import contact_events_process
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import definition, edge, make_flow, make_user, node
from tests.flows.helpers import inbound

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_in_english")]

EVIL = "(a|aa)+$"  # exponential backtracking, even for the regex module
SUBJECT = "a" * 40 + "!"


def test_catastrophic_branch_regex_fails_the_step_quickly_instead_of_stalling(contact):
    make_flow(definition(
        [node("t", "trigger", event="message", match="any"),
         node("b", "branch", conditions=[{"id": "x", "label": "x",
                                          "rules": [{"left": "{{trigger.text}}", "op": "regex", "right": EVIL}]}])],
        [edge("t", "b")]))
    inbound(contact, SUBJECT)
    run = FlowRun.objects.get()
    assert run.status == "failed" and "took too long" in run.end_reason


def test_catastrophic_trigger_regex_is_cut_off_and_does_not_match(contact, caplog):
    make_flow(definition([node("t", "trigger", event="message", match="regex", pattern=EVIL)], []))
    with caplog.at_level("WARNING", logger="flows.nodes.trigger"):
        inbound(contact, SUBJECT)
    assert not FlowRun.objects.exists()
    cut_off = [r for r in caplog.records if r.name == "flows.nodes.trigger" and r.exc_info]
    assert cut_off and "took too long" in str(cut_off[0].exc_info[1])


def test_ordinary_regexes_still_match(contact):
    make_flow(definition([node("t", "trigger", event="message", match="regex", pattern=r"pedido\s*#?\d+")], []))
    inbound(contact, "Qual o status do PEDIDO #123?")
    assert FlowRun.objects.get().status == "completed"


def test_stopping_a_test_run_cancels_a_waiting_subflow_child_too():
    user = make_user("ana", role="editor")
    child = make_flow(definition(
        [node("t", "trigger", event="message", match="any"), node("w", "wait_for_reply", timeout=None)],
        [edge("t", "w")]), name="filho", publish=False)
    parent = make_flow(definition(
        [node("t", "trigger", event="message", match="any"),
         node("sub", "subflow", flow_id=child.pk, revision="published"), node("done", "end")],
        [edge("t", "sub"), edge("sub", "done", "completed")]), name="pai", publish=False)
    test = testruns.test_run_start(flow=parent, user=user)
    testruns.test_run_inbound(test=test, text="oi")
    contact_events_process(contact_id=test.contact_id)
    runs = FlowRun.objects.filter(contact_id=test.contact_id)
    assert sorted(runs.values_list("status", flat=True)) == ["waiting", "waiting"]
    testruns.test_run_stop(test=test)
    assert sorted(runs.values_list("status", flat=True)) == ["cancelled", "cancelled"]


def test_an_event_recorded_as_ignored_is_kept_with_its_reason_and_never_processed(contact):
    from flows.models import InboundEvent
    from flows.services import event_record

    make_flow(definition([node("t", "trigger", event="message", match="any")], []))
    event, created = event_record(kind="message", dedupe_key="wa:group:1", contact=contact,
                                  payload={"type": "text", "text": "oi"}, ignore_reason="group update: not for flows")
    assert created
    contact_events_process(contact_id=contact.pk)
    event.refresh_from_db()
    assert event.state == InboundEvent.State.IGNORED and event.error == "group update: not for flows"
    assert not FlowRun.objects.exists()
    assert event_record(kind="message", dedupe_key="wa:group:1", contact=contact, payload={})[1] is False


def test_a_later_assignment_sees_the_contact_change_of_an_earlier_one(contact):
    make_flow(definition(
        [node("t", "trigger", event="message", match="any"),
         node("v", "set_variable", assignments=[
             {"target": "vars.before", "value": "{{contact.first_name}}"},
             {"target": "contact.name", "value": "João Souza"},
             {"target": "contact.tags", "value": "vip", "operation": "add_tag"},
             {"target": "vars.after", "value": "{{contact.first_name}} {{contact.tags | json}}"}])],
        [edge("t", "v")]))
    inbound(contact, "oi")
    run = FlowRun.objects.get()
    assert run.context["vars"] == {"before": "Maria", "after": 'João ["vip"]'}


def test_reply_variables_are_unknown_on_the_timeout_path():
    from flows.validation import definition_validate

    defn = definition(
        [node("t", "trigger", event="message", match="any"),
         node("w", "wait_for_reply", timeout={"value": 1, "unit": "hours"}, save_as="answer"),
         node("got", "send_message", text="Você disse {{vars.answer}} ({{reply.text}})"),
         node("late", "send_message", text="Sem resposta: {{vars.answer}}")],
        [edge("t", "w"), edge("w", "got", "reply"), edge("w", "late", "timeout")])
    result = definition_validate(defn)
    assert [(i.node_id, i.field, i.code) for i in result.issues] == [("late", "text", "unknown_variable")]
    assert "reply.text" in result.scope["got"] and "reply.text" not in result.scope["late"]
