"""Operators' actions on runs: applied as run_control events, in the contact's order, audited."""

from __future__ import annotations

import pytest

from flows import run_actions
from flows.models import FlowRevision, FlowRun, InboundEvent, RunAction
from flows.nodes import registry
from flows.nodes.base import Next, NodeType, StepError, labels
from flows.services import contact_events_process
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import chain, definition, edge, make_contact, make_flow, make_user, node
from tests.flows.helpers import inbound

pytestmark = pytest.mark.usefixtures("run_in_english")

START = node("t", "trigger", event="message", match="keyword", keywords=["start"])


class FlakyNode(NodeType):
    """Fails while its config says so: the flow is "fixed" by publishing a revision without it."""

    key = "test_flaky"
    label = labels("Instável", "Flaky")
    category = "flow"

    def execute(self, ctx):
        if ctx.config.get("fail"):
            raise StepError("the company API answered 500", code="http_status")
        return Next("next", {"ok": True})


@pytest.fixture
def flaky():
    registry.register(FlakyNode)
    yield
    registry._registry.pop(FlakyNode.key, None)


@pytest.fixture
def ana(db):
    return make_user("ana", role="editor")


def _failing_flow():
    return make_flow(chain(START, node("x", "test_flaky", fail=True), node("m", "send_message", text="feito")))


def _publish_fix(flow):
    fixed = chain(START, node("x", "test_flaky", fail=False), node("m", "send_message", text="feito"))
    # Set directly: the temporary node type has no config schema for full validation.
    flow.published_revision = FlowRevision.objects.create(flow=flow, revision=2, spec_version=1, definition=fixed)
    flow.save(update_fields=["published_revision"])


def _apply(contact) -> None:
    contact_events_process(contact_id=contact.pk)


def test_cancel_a_waiting_run_is_applied_as_an_event_and_audited(contact, ana):
    flow = make_flow(chain(START, node("w", "wait_for_reply")))
    inbound(contact, "start")
    run = flow.runs.get()
    assert run.status == FlowRun.Status.WAITING
    action = run_actions.run_action_request(run=run, action="cancel", user=ana)
    run.refresh_from_db()
    assert run.status == FlowRun.Status.WAITING  # nothing happens in the request itself
    event = action.event
    assert event.kind == "run_control" and event.contact_id == contact.pk and event.payload["action_id"] == action.pk
    _apply(contact)
    run.refresh_from_db()
    action.refresh_from_db()
    event.refresh_from_db()
    assert run.status == FlowRun.Status.CANCELLED and run.end_reason == "cancelled by ana"
    assert action.state == RunAction.State.DONE and action.requested_by == ana and action.applied_at is not None
    assert event.state == InboundEvent.State.DONE


def test_actions_that_do_not_apply_are_refused_up_front(contact, ana):
    flow = make_flow(chain(START, node("m", "send_message", text="oi")))
    inbound(contact, "start")
    run = flow.runs.get()
    assert run.status == FlowRun.Status.COMPLETED
    for name in ("cancel", "retry"):
        with pytest.raises(run_actions.ActionRefused) as refused:
            run_actions.run_action_request(run=run, action=name, user=ana)
        assert refused.value.code == "not_applicable"
    assert not RunAction.objects.exists()


def test_an_action_waits_for_the_contacts_earlier_events(contact, ana):
    """A reply recorded before the cancel is processed first: the run completes, the cancel is ignored."""
    flow = make_flow(chain(START, node("w", "wait_for_reply"), node("m", "send_message", text="obrigado")))
    inbound(contact, "start")
    run = flow.runs.get()
    inbound(contact, "minha resposta", process=False)
    action = run_actions.run_action_request(run=run, action="cancel", user=ana)
    _apply(contact)
    run.refresh_from_db()
    action.refresh_from_db()
    assert run.status == FlowRun.Status.COMPLETED
    assert action.state == RunAction.State.IGNORED and "cannot be cancelled" in action.result
    assert InboundEvent.objects.get(pk=action.event_id).state == InboundEvent.State.IGNORED


def test_retry_on_the_published_fix_completes_the_run(contact, ana, flaky):
    flow = _failing_flow()
    inbound(contact, "start")
    run = flow.runs.get()
    assert run.status == FlowRun.Status.FAILED and run.current_node == "x"
    _publish_fix(flow)
    action = run_actions.run_action_request(run=run, action="retry", user=ana)
    _apply(contact)
    run.refresh_from_db()
    action.refresh_from_db()
    assert run.status == FlowRun.Status.COMPLETED, run.end_reason
    assert run.revision.revision == 2 and run.ended_at is not None
    assert [s.node_id for s in run.steps.order_by("seq")] == ["t", "x", "x", "m"]
    retried = run.steps.order_by("seq")[2]
    assert retried.error == "" and retried.event_id == action.event_id
    assert action.state == RunAction.State.DONE and "revision 2 (published)" in action.result
    assert run.messages.get().content["text"]["body"] == "feito"


def test_retry_on_the_runs_own_revision_fails_again(contact, ana, flaky):
    flow = _failing_flow()
    inbound(contact, "start")
    run = flow.runs.get()
    _publish_fix(flow)
    action = run_actions.run_action_request(run=run, action="retry", user=ana, options={"use_published": False})
    _apply(contact)
    run.refresh_from_db()
    action.refresh_from_db()
    assert run.status == FlowRun.Status.FAILED and run.revision.revision == 1
    assert run.steps.filter(node_id="x").count() == 2
    assert action.state == RunAction.State.DONE and "now failed" in action.result


def test_restart_starts_a_new_run_with_the_same_trigger_data(contact, ana, flaky):
    flow = _failing_flow()
    inbound(contact, "start")
    run = flow.runs.get()
    _publish_fix(flow)
    action = run_actions.run_action_request(run=run, action="restart", user=ana)
    _apply(contact)
    action.refresh_from_db()
    run.refresh_from_db()
    new = action.new_run
    assert run.status == FlowRun.Status.FAILED  # the old run stays as it was
    assert new is not None and new.pk != run.pk and new.status == FlowRun.Status.COMPLETED
    assert new.context["trigger"] == run.context["trigger"] and new.trigger_event_id == run.trigger_event_id
    assert new.revision.revision == 2


def test_an_action_event_processed_twice_applies_once(contact, ana):
    flow = make_flow(chain(START, node("w", "wait_for_reply")))
    inbound(contact, "start")
    run = flow.runs.get()
    action = run_actions.run_action_request(run=run, action="cancel", user=ana)
    _apply(contact)
    from core.inbox import event_reprocess

    event_reprocess(event=action.event)
    _apply(contact)
    action.event.refresh_from_db()
    assert action.event.state == InboundEvent.State.IGNORED and "already done" in action.event.error
    assert RunAction.objects.get().state == RunAction.State.DONE


def test_cancelling_a_subflow_parent_cancels_its_child_without_resuming_it(contact, ana):
    child_flow = make_flow(chain(node("c", "trigger", event="external", event_name="child"),
                                 node("cw", "wait_for_reply")), name="Filho")
    parent = make_flow(definition(
        [START, node("s", "subflow", flow_id=child_flow.pk), node("after", "send_message", text="voltou")],
        [edge("t", "s"), edge("s", "after", "completed"), edge("s", "after", "failed")]), name="Pai")
    inbound(contact, "start")
    run = parent.runs.get()
    child = child_flow.runs.get()
    assert run.status == FlowRun.Status.WAITING and child.status == FlowRun.Status.WAITING
    run_actions.run_action_request(run=run, action="cancel", user=ana)
    _apply(contact)
    run.refresh_from_db()
    child.refresh_from_db()
    assert run.status == FlowRun.Status.CANCELLED and child.status == FlowRun.Status.CANCELLED
    assert not run.steps.filter(node_id="after").exists()


def test_test_runs_are_left_to_the_editor(ana, flaky):
    flow = _failing_flow()
    contact = make_contact(is_test=True)
    from flows.engine.interpreter import Interpreter

    run = Interpreter().run_start(flow=flow, revision=flow.published_revision, contact=contact, trigger_node_id="t",
                                  is_test=True, trigger_payload={})
    with pytest.raises(run_actions.ActionRefused) as refused:
        run_actions.run_action_request(run=run, action="retry", user=ana)
    assert refused.value.code == "test_run"


def test_bulk_retry_records_one_audited_action_per_eligible_run(ana, flaky, channel):
    flow = _failing_flow()
    contacts = [make_contact(channel=channel) for _ in range(3)]
    for person in contacts:
        inbound(person, "start")
    _publish_fix(flow)
    batch = run_actions.run_action_batch_request(action="retry", filters={"flow": flow.pk, "status": ["failed"]},
                                                 user=ana)
    assert batch.total == 3
    assert run_actions.run_action_batch_record(batch_id=batch.pk) == 3
    assert run_actions.run_action_batch_record(batch_id=batch.pk) == 3  # a second run of the task adds nothing
    assert RunAction.objects.filter(batch=batch, requested_by=ana).count() == 3
    for person in contacts:
        _apply(person)
    assert set(flow.runs.values_list("status", flat=True)) == {FlowRun.Status.COMPLETED}
    with pytest.raises(run_actions.ActionRefused) as refused:
        run_actions.run_action_batch_request(action="retry", filters={"flow": flow.pk}, user=ana)
    assert refused.value.code == "nothing_selected"


def test_bulk_refuses_a_selection_over_the_limit(ana, flaky, channel, settings):
    settings.FLUXO_RUN_BULK_MAX = 1
    flow = _failing_flow()
    for _ in range(2):
        inbound(make_contact(channel=channel), "start")
    with pytest.raises(run_actions.ActionRefused) as refused:
        run_actions.run_action_batch_request(action="restart", filters={"flow": flow.pk}, user=ana)
    assert refused.value.code == "too_many"
