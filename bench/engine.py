"""Interpreter cost per node step, and events/s from stored event to finished run, on PostgreSQL.

    .venv/bin/python bench/engine.py [--steps 200] [--events 300] [--workers 2]

Prints: µs per step (in-process, each step writing its RunStep row), events/s processed
in-process by one thread, and events/s with N real Celery worker processes over Redis.
"""

from __future__ import annotations

import argparse
import time

from _setup import django_on_postgres


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    django_on_postgres()

    from django.conf import settings
    from django.db import connection

    from flows.models import FlowRun, InboundEvent
    from flows.services import contact_events_process, event_record
    from messaging.models import SandboxChannel
    from messaging.services import contact_get_or_create
    from tests.factories import chain, make_flow, node

    settings.FLUXO_MAX_STEPS_PER_EVENT = args.steps + 10
    channel = SandboxChannel.objects.create(name="bench")

    # 1. Cost per node step: one event drives a run through a long chain of branch + set_variable nodes.
    nodes = [node("t", "trigger", event="external", event_name="steps")]
    for i in range(args.steps // 2):
        nodes.append(node(f"b{i}", "branch", conditions=[
            {"id": "big", "label": "big", "rules": [{"left": "{{trigger.amount}}", "op": "gt", "right": "100"}]}]))
        nodes.append(node(f"v{i}", "set_variable", assignments=[{"target": "vars.x", "value": "{{trigger.amount}}"}]))
    defn = chain(*nodes)
    # A branch has no "next" port: wire both of its ports (big, default) to the following node.
    defn["edges"] = [e for e in defn["edges"] if not e["source"].startswith("b")]
    for i in range(args.steps // 2):
        for port in ("big", "default"):
            defn["edges"].append({"id": f"{port}{i}", "source": f"b{i}", "source_port": port, "target": f"v{i}"})
    make_flow(defn, name="bench-steps")
    contact, _ = contact_get_or_create(phone="+5511999990000", channel=channel)
    timings = []
    for rep in range(5):
        event_record(kind="external", dedupe_key=f"steps:{rep}", contact=contact,
                     payload={"event": "steps", "amount": 150})
        started = time.perf_counter()
        contact_events_process(contact_id=contact.pk)
        timings.append(time.perf_counter() - started)
    run = FlowRun.objects.filter(contact=contact).order_by("-id").first()
    assert run.status == "completed", run.end_reason
    steps = run.step_count
    best = min(timings)
    pure = sum(s.duration_us for s in run.steps.all()) / steps
    print(f"node step: {best / steps * 1e6:.0f} µs per step including its RunStep write "
          f"({steps} steps/event, best of 5); node code alone {pure:.0f} µs")

    # 2. Events/s in-process: N contacts, each event starts a short flow (trigger → branch → set_variable).
    make_flow(chain(node("t", "trigger", event="external", event_name="order"),
                    node("b", "branch", conditions=[{"id": "vip", "label": "vip", "rules": [
                        {"left": "{{trigger.total}}", "op": "gte", "right": "500"}]}]),
                    node("v", "set_variable", assignments=[{"target": "vars.total", "value": "{{trigger.total}}"}])),
              name="bench-events")
    contacts = [contact_get_or_create(phone=f"+55119{80000000 + i:08d}", channel=channel)[0] for i in range(args.events)]
    for i, c in enumerate(contacts):
        event_record(kind="external", dedupe_key=f"order:a:{i}", contact=c, payload={"event": "order", "total": i})
    started = time.perf_counter()
    for c in contacts:
        contact_events_process(contact_id=c.pk)
    elapsed = time.perf_counter() - started
    print(f"events in-process (1 thread): {args.events / elapsed:.0f} events/s "
          f"({args.events} stored events → finished runs in {elapsed:.2f} s)")

    # 3. Events/s with real Celery workers (separate processes, Redis broker): stored → finished.
    from tests.workers import purge_queue, start_worker, wait_for

    purge_queue()
    workers = [start_worker(f"bench{i}") for i in range(args.workers)]
    try:
        time.sleep(3)  # let the workers boot, so we time processing, not Python start-up
        connection.close()
        started = time.perf_counter()
        from django.db import transaction

        with transaction.atomic():
            for i, c in enumerate(contacts):
                event_record(kind="external", dedupe_key=f"order:b:{i}", contact=c, payload={"event": "order", "total": i})
        wait_for(lambda: not InboundEvent.objects.filter(state="pending").exists(), timeout=300, interval=0.05)
        elapsed = time.perf_counter() - started
    finally:
        for w in workers:
            w.stop()
    print(f"events with {args.workers} Celery workers: {args.events / elapsed:.0f} events/s "
          f"({args.events} events stored → finished runs in {elapsed:.2f} s)")


if __name__ == "__main__":
    main()
