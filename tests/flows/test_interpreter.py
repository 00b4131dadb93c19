"""The interpreter and event processing: caps, failures, stale timers, step log, ordering, test contacts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.logging import register_secret
from core.signals import domain_event
from flows import services, testruns
from flows.engine.interpreter import Interpreter
from flows.models import FlowRun, InboundEvent, RunStep, TestRun
from flows.nodes import registry
from flows.nodes.base import Next, NodeType, labels
from flows.services import contact_events_process, event_record, timers_fire_due
from messaging.models import Message
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import chain, definition, edge, make_contact, make_flow, node
from tests.flows.helpers import inbound

pytestmark = pytest.mark.usefixtures("run_in_english")

T = node("t", "trigger", event="message", match="any")
START = node("t", "trigger", event="message", match="keyword", keywords=["start"])


def start(flow, contact, **payload) -> FlowRun:
    run = Interpreter().run_start(flow=flow, revision=flow.published_revision, contact=contact,
                                  trigger_node_id="t", trigger_payload=payload)
    run.refresh_from_db()
    return run


def _setvars(count):
    return [node(f"n{i}", "set_variable", assignments=[{"target": f"vars.v{i}", "value": str(i)}])
            for i in range(count)]


def _quiz_flow():
    """ask → wait → (reply "fim" → end; anything else → ask again): a loop through a wait."""
    return make_flow(definition(
        [START, node("ask", "send_message", text="Diga 'fim' para sair"), node("w", "wait_for_reply"),
         node("b", "branch", conditions=[{"id": "fim", "label": "Fim",
                                          "rules": [{"left": "{{reply.text}}", "op": "equals", "right": "fim"}]}]),
         node("e", "end", reason="saiu")],
        [edge("t", "ask"), edge("ask", "w"), edge("w", "b", "reply"), edge("b", "e", "fim"),
         edge("b", "ask", "default")],
    ))


# --- Caps ------------------------------------------------------------------------------------------


def test_a_loop_through_a_wait_is_fine(contact, settings):
    settings.FLUXO_MAX_STEPS_PER_EVENT = 5  # each reply takes 4 steps: w, b, ask, w
    flow = _quiz_flow()
    inbound(contact, "start")
    for answer in ["a", "b", "c", "d", "e", "f"]:
        inbound(contact, answer)
        run = flow.runs.get()
        assert run.status == FlowRun.Status.WAITING, run.end_reason
    inbound(contact, "fim")
    run = flow.runs.get()
    assert run.status == FlowRun.Status.COMPLETED and run.end_reason == "saiu"
    assert run.context["_visits"]["ask"] == 7


def test_a_long_straight_chain_over_the_step_cap_fails_the_run(contact, settings):
    settings.FLUXO_MAX_STEPS_PER_EVENT = 5
    flow = make_flow(chain(T, *_setvars(8)))
    run = start(flow, contact)
    assert run.status == FlowRun.Status.FAILED
    assert run.end_reason == "stopped after 5 steps in one event: the flow loops without waiting"
    assert run.steps.count() == 5 and run.step_count == 5
    assert run.ended_at is not None


def test_a_chain_within_the_cap_completes(contact, settings):
    settings.FLUXO_MAX_STEPS_PER_EVENT = 5
    run = start(make_flow(chain(T, *_setvars(4))), contact)
    assert run.status == FlowRun.Status.COMPLETED
    assert run.context["vars"] == {"v0": "0", "v1": "1", "v2": "2", "v3": "3"}


def test_node_visit_cap(contact, settings):
    settings.FLUXO_MAX_NODE_VISITS = 3
    flow = _quiz_flow()
    inbound(contact, "start")
    inbound(contact, "a")
    inbound(contact, "b")
    run = flow.runs.get()
    assert run.status == FlowRun.Status.WAITING
    inbound(contact, "c")  # the fourth visit of "ask"
    run = flow.runs.get()
    assert run.status == FlowRun.Status.FAILED
    assert run.end_reason == "node 'ask' was visited 3 times in this run: stopped to avoid an endless loop"
    assert Message.objects.filter(run=run, direction="out").count() == 3


# --- Broken graphs and broken nodes ----------------------------------------------------------------


def test_edge_to_a_missing_node_fails_the_run(contact):
    defn = chain(T)
    defn["edges"].append(edge("t", "ghost"))
    run = start(make_flow(defn), contact)
    assert run.status == FlowRun.Status.FAILED
    assert run.end_reason == "node 'ghost' is missing or of an unknown type"


def test_unknown_node_type_fails_the_run(contact):
    run = start(make_flow(chain(T, node("x", "teleport"))), contact)
    assert run.status == FlowRun.Status.FAILED
    assert run.end_reason == "node 'x' is missing or of an unknown type"


def test_waiting_on_a_node_missing_from_the_revision(contact):
    flow = _quiz_flow()
    inbound(contact, "start")
    FlowRun.objects.filter(flow=flow).update(current_node="gone")
    event = inbound(contact, "oi")
    run = flow.runs.get()
    assert event.state == InboundEvent.State.DONE
    assert run.status == FlowRun.Status.FAILED
    assert run.end_reason == "node 'gone' is missing from revision 1"


class ExplodingNode(NodeType):
    key = "test_exploding"
    label = labels("Explode", "Explode")
    category = "flow"
    ports = []

    def execute(self, ctx):
        raise ZeroDivisionError("kaboom")


class EchoNode(NodeType):
    key = "test_echo"
    label = labels("Eco", "Echo")
    category = "flow"

    def execute(self, ctx):
        return Next("next", {"seen": ctx.render("{{trigger.text}}")})


@pytest.fixture
def temporary_types():
    registry.register(ExplodingNode)
    registry.register(EchoNode)
    yield
    registry._registry.pop(ExplodingNode.key, None)
    registry._registry.pop(EchoNode.key, None)


def test_a_node_raising_an_unexpected_exception_fails_the_run_clearly(contact, temporary_types):
    flow = make_flow(chain(T, node("x", "test_exploding")))
    event = inbound(contact, "oi")
    run = flow.runs.get()
    assert event.state == InboundEvent.State.DONE  # the event is not lost or retried forever
    assert run.status == FlowRun.Status.FAILED
    assert run.end_reason == "node 'x' (Explode): internal error: ZeroDivisionError: kaboom"
    step = run.steps.get(node_id="x")
    assert step.outcome == "error" and step.error == "internal error: ZeroDivisionError: kaboom"


def test_temporary_node_types_are_removed(temporary_types):
    assert registry.get("test_echo") is not None


def test_registry_has_no_leftover_test_types():
    assert registry.get("test_exploding") is None and registry.get("test_echo") is None


# --- Timers ----------------------------------------------------------------------------------------


def _delay_flow():
    return make_flow(chain(START, node("d", "delay", mode="duration", duration={"value": 1, "unit": "hours"}),
                           node("e", "end")))


def test_stale_timer_with_an_old_token_is_ignored(contact):
    flow = _delay_flow()
    inbound(contact, "start")
    run = flow.runs.get()
    event, created = event_record(kind=InboundEvent.Kind.TIMER, dedupe_key=f"timer:{run.pk}:old", contact=contact,
                                  payload={"run_id": run.pk, "token": "old-token"})
    assert created
    contact_events_process(contact_id=contact.pk)
    event.refresh_from_db()
    run.refresh_from_db()
    assert event.state == InboundEvent.State.IGNORED and "stale timer" in event.error
    assert run.status == FlowRun.Status.WAITING and run.step_count == 2


def test_timer_for_another_run_or_a_finished_run_is_ignored(contact):
    flow = _delay_flow()
    inbound(contact, "start")
    run = flow.runs.get()
    other = make_contact(channel=contact.channel)
    event, _ = event_record(kind=InboundEvent.Kind.TIMER, dedupe_key="timer:x", contact=other,
                            payload={"run_id": run.pk, "token": run.wait_token})
    contact_events_process(contact_id=other.pk)
    event.refresh_from_db()
    assert event.state == InboundEvent.State.IGNORED  # a run of another contact is never touched
    run.refresh_from_db()
    assert run.status == FlowRun.Status.WAITING

    timers_fire_due(now=timezone.now() + timedelta(hours=2))
    contact_events_process(contact_id=contact.pk)
    run.refresh_from_db()
    assert run.status == FlowRun.Status.COMPLETED
    late, _ = event_record(kind=InboundEvent.Kind.TIMER, dedupe_key="timer:late", contact=contact,
                           payload={"run_id": run.pk, "token": ""})
    contact_events_process(contact_id=contact.pk)
    late.refresh_from_db()
    assert late.state == InboundEvent.State.IGNORED


def test_a_due_timer_fires_once(contact):
    flow = _delay_flow()
    inbound(contact, "start")
    later = timezone.now() + timedelta(hours=2)
    assert timers_fire_due(now=later) == 1
    assert timers_fire_due(now=later) == 0  # resumed in place: wake_at cleared, the run moved on
    run = flow.runs.get()
    assert run.status == FlowRun.Status.COMPLETED
    assert run.steps.filter(node_id="d", port="next").count() == 1  # the delay's resume, logged once


def test_a_due_timer_waits_behind_the_contacts_pending_events(contact):
    """A contact with an event still pending gets its timer as an event behind it, never ahead."""
    flow = _delay_flow()
    inbound(contact, "start")
    earlier, _ = event_record(kind="external", dedupe_key="api:earlier", contact=contact, payload={"x": 1})
    assert timers_fire_due(now=timezone.now() + timedelta(hours=2)) == 1
    timer = InboundEvent.objects.get(kind=InboundEvent.Kind.TIMER)
    assert timer.pk > earlier.pk and timer.state == InboundEvent.State.PENDING
    assert flow.runs.get().status == FlowRun.Status.WAITING
    contact_events_process(contact_id=contact.pk)
    assert flow.runs.get().status == FlowRun.Status.COMPLETED


def test_timers_not_yet_due_stay(contact):
    _delay_flow()
    inbound(contact, "start")
    assert timers_fire_due(now=timezone.now() + timedelta(minutes=59)) == 0


# --- Step log --------------------------------------------------------------------------------------


def test_a_run_step_is_logged_per_step(contact, temporary_types):
    flow = make_flow(definition(
        [T, node("echo", "test_echo"), node("s", "set_variable", assignments=[{"target": "vars.n", "value": "x",
                                                                                "type": "number"}])],
        [edge("t", "echo"), edge("echo", "s")],
    ))
    event = inbound(contact, "olá")
    run = flow.runs.get()
    steps = list(run.steps.order_by("seq"))
    assert [(s.seq, s.node_id, s.node_type, s.outcome, s.port) for s in steps] == [
        (1, "t", "trigger", "next", "next"), (2, "echo", "test_echo", "next", "next"), (3, "s", "set_variable", "error", "")]
    assert all(s.event == event for s in steps)
    assert steps[0].input == {"config": {"event": "message", "match": "any"}}
    assert steps[0].output == {"event": "message"}
    assert steps[1].output == {"seen": "olá"}
    assert steps[2].input["config"]["assignments"][0]["target"] == "vars.n"
    assert steps[2].error == "'x' is not a number"
    assert steps[2].output == {"error": "'x' is not a number", "code": "not_a_number"}
    for step in steps:
        assert step.duration_us >= 0 and step.started_at is not None
    assert run.step_count == 3


def test_a_resume_step_logs_the_event(contact):
    flow = _quiz_flow()
    inbound(contact, "start")
    answer = inbound(contact, "fim")
    step = flow.runs.get().steps.get(node_id="w", port="reply")
    assert step.input == {"event_kind": "message", "event": answer.payload}
    assert step.output["reply"]["text"] == "fim"


def test_secrets_are_masked_in_the_step_log(contact):
    register_secret("sk-live-7f3a9c1e2b")
    flow = make_flow(chain(T, node("s", "set_variable", assignments=[{"target": "vars.k", "value": "{{trigger.key}}"}])))
    run = start(flow, contact, key="sk-live-7f3a9c1e2b")
    step = run.steps.get(node_id="s")
    assert "sk-live-7f3a9c1e2b" not in str(step.output)
    assert step.output["assigned"]["vars.k"] == "••••"


# --- Events ----------------------------------------------------------------------------------------


def test_a_duplicate_event_is_a_no_op(contact):
    flow = make_flow(chain(T, node("e", "end")))
    payload = {"type": "text", "text": "oi"}
    first, created = event_record(kind="message", dedupe_key="wa:msg:wamid.ABC", contact=contact, payload=payload)
    again, created_again = event_record(kind="message", dedupe_key="wa:msg:wamid.ABC", contact=contact,
                                        payload={"type": "text", "text": "different"})
    assert created and not created_again and again.pk == first.pk
    assert contact_events_process(contact_id=contact.pk) == 1
    assert contact_events_process(contact_id=contact.pk) == 0
    assert flow.runs.count() == 1
    assert InboundEvent.objects.filter(dedupe_key="wa:msg:wamid.ABC").count() == 1


def test_an_event_without_contact_is_kept_and_ignored(db):
    event, created = event_record(kind="message", dedupe_key="orphan", payload={"text": "?"})
    event.refresh_from_db()
    assert created and event.state == InboundEvent.State.IGNORED and "no contact" in event.error


def test_events_of_one_contact_are_processed_in_id_order(contact):
    flow = make_flow(definition(
        [START, node("w1", "wait_for_reply", save_as="first"), node("w2", "wait_for_reply", save_as="second"),
         node("w3", "wait_for_reply", save_as="third")],
        [edge("t", "w1"), edge("w1", "w2", "reply"), edge("w2", "w3", "reply")],
    ))
    events = [inbound(contact, text, process=False) for text in ["start", "um", "dois", "três"]]
    assert [e.state for e in events] == [InboundEvent.State.PENDING] * 4
    assert contact_events_process(contact_id=contact.pk) == 4
    run = flow.runs.get()
    assert run.context["vars"] == {"first": "um", "second": "dois", "third": "três"}
    processed = list(InboundEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("id"))
    assert all(e.state == InboundEvent.State.DONE and e.attempts == 1 for e in processed)
    stamps = [e.processed_at for e in processed]
    assert stamps == sorted(stamps)


def test_a_message_consumed_by_a_waiting_run_does_not_start_other_flows(contact):
    waiting = _quiz_flow()
    catch_all = make_flow(chain(T, node("e", "end")), name="catch-all")
    inbound(contact, "start")
    assert waiting.runs.count() == 1 and catch_all.runs.count() == 0  # the keyword flow won
    inbound(contact, "qualquer coisa")
    assert catch_all.runs.count() == 0
    inbound(contact, "fim")
    assert waiting.runs.get().status == FlowRun.Status.COMPLETED
    inbound(contact, "oi de novo")
    assert catch_all.runs.count() == 1


def test_the_newest_waiting_run_gets_the_reply_first(contact):
    flow_a = make_flow(definition([node("t", "trigger", event="message", match="keyword", keywords=["a"]),
                                   node("w", "wait_for_reply", save_as="x")], [edge("t", "w")]), name="a")
    flow_b = make_flow(definition([node("t", "trigger", event="message", match="keyword", keywords=["b"]),
                                   node("w", "wait_for_reply", save_as="x")], [edge("t", "w")]), name="b")
    start(flow_a, contact)
    start(flow_b, contact)
    inbound(contact, "resposta")
    assert flow_b.runs.get().status == FlowRun.Status.COMPLETED
    assert flow_a.runs.get().status == FlowRun.Status.WAITING


def test_test_contacts_only_reach_their_test_run(contact, editor):
    published = make_flow(chain(T, node("m", "send_message", text="publicado")), name="published")
    draft = make_flow(chain(T, node("m", "send_message", text="rascunho")), name="draft", publish=False)
    test = testruns.test_run_start(flow=draft, user=editor)
    assert test.contact.is_test and test.run is None

    testruns.test_run_inbound(test=test, text="oi")
    contact_events_process(contact_id=test.contact_id)
    test.refresh_from_db()
    assert test.run is not None and test.run.is_test and test.run.flow == draft
    assert test.run.status == FlowRun.Status.COMPLETED
    assert not published.runs.filter(contact=test.contact).exists()
    assert [m.content["text"]["body"] for m in Message.objects.filter(contact=test.contact, direction="out")] == [
        "rascunho"]

    inbound(contact, "oi")  # a real contact never reaches the draft under test
    assert draft.runs.filter(is_test=False).count() == 0
    assert published.runs.filter(contact=contact).count() == 1


def test_a_stopped_test_run_ignores_messages(editor):
    draft = make_flow(chain(T, node("e", "end")), publish=False)
    test = testruns.test_run_start(flow=draft, user=editor)
    testruns.test_run_stop(test=test)
    assert test.status == TestRun.Status.STOPPED
    event = testruns.test_run_inbound(test=test, text="oi")
    contact_events_process(contact_id=test.contact_id)
    event.refresh_from_db()
    assert event.state == InboundEvent.State.IGNORED
    assert not draft.runs.exists()


def test_test_run_with_payload_and_fast_forward(editor):
    draft = make_flow(chain(T, node("d", "delay", mode="duration", duration={"value": 3, "unit": "days"}),
                            node("e", "end", reason="acordou")), publish=False)
    test = testruns.test_run_start(flow=draft, payload={"order_id": "A1"}, user=editor)
    run = test.run
    assert run.status == FlowRun.Status.WAITING and run.context["trigger"] == {"order_id": "A1", "kind": "external"}
    assert testruns.test_run_fast_forward(test=test) is True
    contact_events_process(contact_id=test.contact_id)
    run.refresh_from_db()
    assert run.status == FlowRun.Status.COMPLETED and run.end_reason == "acordou"
    assert testruns.test_run_fast_forward(test=test) is False


# --- Domain events ---------------------------------------------------------------------------------


@pytest.fixture
def domain_events():
    received: list[tuple[str, dict]] = []

    def receiver(sender, event_type, data, **kwargs):
        received.append((event_type, data))

    domain_event.connect(receiver, weak=False)
    yield received
    domain_event.disconnect(receiver)


def test_run_completed_and_failed_domain_events(contact, domain_events, django_capture_on_commit_callbacks):
    ok = make_flow(chain(T, node("e", "end", reason="fim")), name="ok")
    bad = make_flow(chain(T, node("e", "end", status="failed", reason="quebrou")), name="bad")
    with django_capture_on_commit_callbacks(execute=True):
        good_run = start(ok, contact)
        bad_run = start(bad, contact)
    runs = [(t, d) for t, d in domain_events if t.startswith("run.")]
    assert runs == [
        ("run.completed", {"run_id": good_run.pk, "flow_id": ok.pk, "contact": contact.phone, "reason": "fim"}),
        ("run.failed", {"run_id": bad_run.pk, "flow_id": bad.pk, "contact": contact.phone, "reason": "quebrou"}),
    ]


def test_domain_events_wait_for_the_commit(contact, domain_events, django_capture_on_commit_callbacks):
    flow = make_flow(chain(T, node("e", "end")))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        start(flow, contact)
    assert domain_events == []  # nothing announced before the transaction commits
    assert callbacks


def test_no_domain_event_for_waiting_cancelled_or_test_runs(contact, editor, domain_events,
                                                             django_capture_on_commit_callbacks):
    waiting = make_flow(chain(T, node("w", "wait_for_reply")), name="waiting")
    draft = make_flow(chain(T, node("e", "end")), name="draft", publish=False)
    with django_capture_on_commit_callbacks(execute=True):
        run = start(waiting, contact)
        Interpreter().run_cancel(run=run, reason="cancelado")
        testruns.test_run_start(flow=draft, payload={}, user=editor)
    run.refresh_from_db()
    assert run.status == FlowRun.Status.CANCELLED and run.end_reason == "cancelado"
    assert [t for t, _ in domain_events if t.startswith("run.")] == []


def test_run_steps_survive_in_order_across_events(contact):
    flow = _quiz_flow()
    inbound(contact, "start")
    inbound(contact, "x")
    inbound(contact, "fim")
    run = flow.runs.get()
    seqs = list(RunStep.objects.filter(run=run).order_by("id").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1)) and run.step_count == len(seqs)


# --- Expiry of runs that wait too long -------------------------------------------------------------


def test_expiry_leaves_subflow_parents_and_fired_delays_alone(contact):
    child = make_flow(chain(node("t", "trigger", event="external", event_name="never"),
                            node("d", "delay", mode="duration", duration={"value": 90, "unit": "days"})), name="child")
    parent = make_flow(definition([START, node("sub", "subflow", flow_id=child.pk)], [edge("t", "sub")]),
                       name="parent")
    inbound(contact, "start")
    parent_run, child_run = parent.runs.get(), child.runs.get()
    assert parent_run.wait_kind == "subflow" and child_run.wait_kind == "delay"
    timers_fire_due(now=timezone.now() + timedelta(days=91))  # the child's timer fired; its event is queued
    FlowRun.objects.update(updated_at=timezone.now() - timedelta(days=60))
    assert services.runs_expire_stale(max_wait_days=30) == 0
    contact_events_process(contact_id=contact.pk)
    parent_run.refresh_from_db()
    child_run.refresh_from_db()
    assert child_run.status == FlowRun.Status.COMPLETED
    assert parent_run.status == FlowRun.Status.COMPLETED, parent_run.end_reason
