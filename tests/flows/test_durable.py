"""Durability on PostgreSQL with real Celery workers (separate processes), real Redis and real
database connections: duplicates run once, one contact's events run in order and never at the
same time, delays fire through the periodic task, and a killed worker loses nothing."""

from __future__ import annotations

import threading
import time

import pytest

from flows.models import FlowRun, InboundEvent
from flows.services import event_record, events_requeue_stale
from tests.factories import chain, make_contact, make_flow, node
from tests.workers import start_beat, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SLOW_NODES = {"FLUXO_EXTRA_NODE_MODULES": "tests.flows.slow_node"}




def _settled(contact) -> bool:
    return not InboundEvent.objects.filter(contact=contact, state=InboundEvent.State.PENDING).exists()


def test_duplicate_event_from_two_threads_runs_once(workers):
    contact = make_contact()
    make_flow(chain(node("t", "trigger", event="external", event_name="order.created"),
                    node("v", "set_variable", assignments=[{"target": "vars.seen", "value": "yes"}])))
    workers("w1")
    barrier = threading.Barrier(4)
    created = []

    def deliver():
        from django.db import connection

        barrier.wait()
        try:
            _, was_created = event_record(kind="external", dedupe_key="api:shop:order-42", contact=contact,
                                          payload={"event": "order.created", "order": 42})
            created.append(was_created)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created) == [False, False, False, True]
    wait_for(lambda: FlowRun.objects.filter(contact=contact, status="completed").exists(), message="the run")
    time.sleep(0.5)  # a duplicate run, if any, would appear now
    assert FlowRun.objects.filter(contact=contact).count() == 1
    assert InboundEvent.objects.filter(dedupe_key="api:shop:order-42").count() == 1


def test_two_workers_process_one_contacts_events_in_order_and_never_together(workers):
    contact = make_contact()
    make_flow(chain(node("t", "trigger", event="external", event_name="tick"),
                    node("slow", "test_slow", seconds=0.3),
                    node("v", "set_variable", assignments=[{"target": "vars.n", "value": "{{trigger.n}}"}])))
    workers("w1", **SLOW_NODES)
    workers("w2", **SLOW_NODES)
    for n in range(6):
        event_record(kind="external", dedupe_key=f"tick:{n}", contact=contact, payload={"event": "tick", "n": n})
    wait_for(lambda: FlowRun.objects.filter(contact=contact, status="completed").count() == 6, timeout=60,
             message="six completed runs")
    runs = list(FlowRun.objects.filter(contact=contact).order_by("started_at"))
    assert [r.context["trigger"]["n"] for r in runs] == list(range(6)), "events ran out of order"
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert earlier.ended_at <= later.started_at, "two events of one contact ran at the same time"


def test_two_second_delay_fires_through_the_scheduler_and_resumes(workers):
    contact = make_contact()
    make_flow(chain(node("t", "trigger", event="external", event_name="call.finished"),
                    node("d", "delay", mode="duration", duration={"value": 2, "unit": "seconds"}),
                    node("s", "send_message", text="Tudo certo, {{contact.first_name}}?")))
    workers("w1")
    beat = start_beat(FLUXO_TIMER_INTERVAL="0.3")
    try:
        event_record(kind="external", dedupe_key="call:1", contact=contact, payload={"event": "call.finished"})
        wait_for(lambda: FlowRun.objects.filter(contact=contact, status="waiting").exists(), message="run waiting")
        waiting_since = time.monotonic()
        wait_for(lambda: FlowRun.objects.filter(contact=contact, status="completed").exists(), timeout=30,
                 message=f"the delay to fire\n{beat.output()}")
        waited = time.monotonic() - waiting_since
    finally:
        beat.stop()
    run = FlowRun.objects.get(contact=contact)
    delay_steps = list(run.steps.filter(node_id="d").order_by("seq"))
    assert [s.outcome for s in delay_steps] == ["wait", "next"]
    assert (delay_steps[1].started_at - delay_steps[0].started_at).total_seconds() >= 2.0
    assert waited >= 1.5
    assert run.messages.get().content["text"]["body"] == "Tudo certo, Maria?"


def test_worker_killed_mid_run_loses_nothing(workers, tmp_path):
    contact = make_contact()
    marker = tmp_path / "started"
    make_flow(chain(node("t", "trigger", event="external", event_name="order.paid"),
                    node("send", "send_message", text="Pagamento recebido!"),
                    node("slow", "test_slow", seconds=30, marker=str(marker)),
                    node("v", "set_variable", assignments=[{"target": "vars.done", "value": "yes"}])))
    doomed = workers("doomed", **SLOW_NODES)
    event, _ = event_record(kind="external", dedupe_key="pay:1", contact=contact, payload={"event": "order.paid"})
    wait_for(lambda: marker.exists(), timeout=30, message=f"the slow step to start\n{doomed.output()}")
    doomed.kill()

    # The attempt died inside its transaction: nothing of it is visible, the event is still pending.
    event.refresh_from_db()
    assert event.state == InboundEvent.State.PENDING
    assert not FlowRun.objects.filter(contact=contact).exists()

    workers("rescuer", **SLOW_NODES | {"FLUXO_TEST_FAST": "1"})
    # The periodic job that re-queues stale contacts (its own code, called here without waiting 30 s).
    InboundEvent.objects.filter(pk=event.pk).update(received_at=event.received_at.replace(year=2000))
    assert events_requeue_stale(older_than_seconds=0) == 1
    wait_for(lambda: FlowRun.objects.filter(contact=contact, status="completed").exists(), timeout=60,
             message="the rescued run")
    run = FlowRun.objects.get(contact=contact)
    assert run.context["vars"]["done"] == "yes"
    assert run.messages.count() == 1, "the message of the killed attempt must not exist twice"
    event.refresh_from_db()
    assert event.state == InboundEvent.State.DONE and event.attempts == 1
