"""Runs page and dashboard on a million runs: query plans, page times, roll-up throughput.

    .venv/bin/python bench/runs_dashboard.py [--runs 1000000] [--repeat 15]

Builds a fresh PostgreSQL database (fluxo_bench_runs) with 20 published flows, 50,000 contacts and
N runs spread over 30 days (completed, failed with a few reasons, waiting, expired, cancelled, 1 %
test runs), two steps per run (trigger, then an http_request that fails for the failed runs) and an
outbound message for half the completed runs, with delivered/read statuses. Then:

1. the roll-up (flows.stats.stats_rollup) adds everything to the hourly counters, timed;
2. GET /api/dashboard/ (global and one flow; 24 h, 7 days, 30 days) and the path counts, timed
   through the real view (the target: <= 300 ms with 1,000,000 runs);
3. each filter of the Runs page: EXPLAIN ANALYZE of its first page, the index it uses and its time.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

from _setup import django_on_postgres, percentile

FLOWS = 20
CONTACTS = 50_000


def build(runs: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from flows.models import Flow, FlowRevision
    from messaging.models import SandboxChannel

    channel = SandboxChannel.objects.create(name="Sandbox")
    definition = {"spec_version": 1, "nodes": [
        {"id": "t", "type": "trigger", "config": {"event": "message", "match": "any"}},
        {"id": "h", "type": "http_request", "config": {"method": "GET", "url": "https://erp.example/pedidos/1"}},
        {"id": "m", "type": "send_message", "config": {"text": "Seu pedido: {{vars.status}}"}}],
        "edges": [{"id": "e1", "source": "t", "source_port": "next", "target": "h"},
                  {"id": "e2", "source": "h", "source_port": "success", "target": "m"}], "ui": {}}
    for number in range(FLOWS):
        flow = Flow.objects.create(name=f"Fluxo {number:02d}", status=Flow.Status.ACTIVE)
        flow.published_revision = FlowRevision.objects.create(flow=flow, revision=1, spec_version=1,
                                                              definition=definition)
        flow.published_at = timezone.now()
        flow.save()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO messaging_contact (phone, name, channel_id, attributes, consent, is_test, created_at, updated_at,
                                           last_inbound_at)
            SELECT '+55119' || lpad(i::text, 8, '0'),
                   (ARRAY['Maria', 'João', 'Ana', 'Pedro', 'Rita', 'Caio'])[1 + i %% 6] || ' Silva ' || i,
                   %s, '{}', '{}', i %% 100 = 0, now(), now(), now()
            FROM generate_series(1, %s) AS i""", [channel.pk, CONTACTS])
        cursor.execute("SELECT min(id) FROM messaging_contact")
        first_contact = cursor.fetchone()[0]
        cursor.execute("SELECT min(id), min(published_revision_id) FROM flows_flow")
        first_flow, first_revision = cursor.fetchone()
        # status by i % 100: 0-69 completed, 70-79 failed, 80-94 waiting, 95-97 expired, 98-99 cancelled.
        cursor.execute("""
            INSERT INTO flows_flowrun (flow_id, revision_id, contact_id, status, current_node, context, wait_kind,
                                       wait_token, is_test, step_count, end_reason, started_at, updated_at, ended_at,
                                       wake_at)
            SELECT %(flow)s + f, %(revision)s + f, %(contact)s + (i %% %(contacts)s),
                   CASE WHEN s < 70 THEN 'completed' WHEN s < 80 THEN 'failed' WHEN s < 95 THEN 'waiting'
                        WHEN s < 98 THEN 'expired' ELSE 'cancelled' END,
                   CASE WHEN s < 70 THEN 'm' WHEN s < 80 THEN 'h' ELSE 'm' END,
                   '{}', CASE WHEN s BETWEEN 80 AND 94 THEN 'reply' ELSE '' END, '', (i %% 100) = 37, 2,
                   CASE WHEN s BETWEEN 70 AND 79 THEN 'http_request ''h'': https://erp.example/pedidos/' || i ||
                             (ARRAY[' answered 500', ' did not answer within 10 s', ' answered 404'])[1 + i %% 3]
                        WHEN s BETWEEN 95 AND 97 THEN 'waited more than 30 days for an answer'
                        WHEN s >= 98 THEN 'cancelled by ana' ELSE 'reached the end of the flow at ''m''' END,
                   at, at, CASE WHEN s BETWEEN 80 AND 94 THEN NULL ELSE at + interval '3 seconds' END,
                   CASE WHEN s BETWEEN 80 AND 84 THEN at + interval '1 day' END
            FROM (SELECT i, (i::bigint * 7919) %% 100 AS s, i %% %(flows)s AS f,
                         now() - (interval '30 days') * (1 - i::float / %(runs)s) AS at
                  FROM generate_series(1, %(runs)s) AS i) AS g""",
                       {"flow": first_flow, "revision": first_revision, "contact": first_contact,
                        "contacts": CONTACTS, "flows": FLOWS, "runs": runs})
        cursor.execute("""
            INSERT INTO flows_runstep (run_id, seq, node_id, node_type, port, outcome, input, output, error, started_at,
                                       duration_us)
            SELECT id, 1, 't', 'trigger', 'next', 'next', '{"config": {}}', '{}', '', started_at, 120 FROM flows_flowrun""")
        cursor.execute("""
            INSERT INTO flows_runstep (run_id, seq, node_id, node_type, port, outcome, input, output, error, started_at,
                                       duration_us)
            SELECT id, 2, 'h', 'http_request', CASE WHEN status = 'failed' THEN 'failure' ELSE 'success' END,
                   CASE WHEN status = 'failed' THEN 'error' ELSE 'next' END,
                   '{"config": {"url": "https://erp.example/pedidos/1"}}',
                   CASE WHEN status = 'failed' THEN '{"code": "http_status"}'::jsonb ELSE '{}'::jsonb END,
                   CASE WHEN status = 'failed' THEN end_reason ELSE '' END, started_at, 45000 FROM flows_flowrun""")
        cursor.execute("""
            INSERT INTO messaging_message (direction, kind, content, contact_id, run_id, status, error_code, error, attempts,
                                           created_at, sent_at, delivered_at, read_at)
            SELECT 'out', 'text', '{"text": {"body": "Seu pedido: enviado"}}', contact_id, id,
                   CASE WHEN id % 3 = 0 THEN 'read' ELSE 'delivered' END, '', '', 1, ended_at, ended_at, ended_at,
                   CASE WHEN id % 3 = 0 THEN ended_at END
            FROM flows_flowrun WHERE status = 'completed' AND id % 2 = 0""")
        cursor.execute("VACUUM ANALYZE")  # the steady state: visibility maps set, as autovacuum keeps them
    print(f"data: {runs:,} runs, {2 * runs:,} steps, {CONTACTS:,} contacts in {time.perf_counter() - started:.1f} s")


def rollup() -> None:
    from flows import stats
    from flows.models import StatCounter

    started = time.perf_counter()
    passes = 0
    while True:
        result = stats.stats_rollup(budget=60)
        passes += 1
        if not result.get("more"):
            break
    seconds = time.perf_counter() - started
    print(f"roll-up of the whole history: {seconds:.1f} s in {passes} call(s); "
          f"{StatCounter.objects.count():,} counter rows")
    started = time.perf_counter()
    stats.stats_rollup()
    print(f"roll-up pass with nothing new: {(time.perf_counter() - started) * 1000:.0f} ms")


def timed(label: str, call, repeat: int) -> None:
    call()  # warm caches and connections
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    print(f"  {label:<44} median {statistics.median(samples):6.1f} ms   p95 {percentile(samples, 95):6.1f} ms")


def dashboard(repeat: int) -> None:
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from flows.models import Flow

    user = get_user_model().objects.filter(username="bench").first() or \
        get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-senha-forte-123")
    client = APIClient()
    client.force_authenticate(user)
    flow = Flow.objects.order_by("id").first()
    print("dashboard through GET /api/dashboard/ (target: <= 300 ms):")
    for period in ("1", "7", "30"):
        since = f"{int(period) * 24}h"
        from datetime import timedelta

        from django.utils import timezone

        start = (timezone.now() - timedelta(days=int(period))).isoformat()
        timed(f"all flows, last {since}", lambda s=start: client.get("/api/dashboard/", {"since": s}), repeat)
        timed(f"one flow, last {since}", lambda s=start: client.get("/api/dashboard/", {"since": s, "flow": flow.pk}),
              repeat)
    start = (timezone.now() - timedelta(days=30)).isoformat()
    timed("path counts of one flow, 30 days", lambda: client.get(f"/api/flows/{flow.pk}/path-counts/",
                                                                 {"since": start}), repeat)
    body = client.get("/api/dashboard/", {"since": start}).json()
    print(f"  (30 days: {body['runs']['started']:,} started, {body['runs']['failed']:,} failed, "
          f"{body['messages']['sent']:,} messages sent, delivery rate {body['messages']['delivery_rate']})")
    timed("runs page, first page (no filter)", lambda: client.get("/api/runs/"), repeat)


def plans(repeat: int) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from flows.models import Flow
    from flows.selectors import run_list_rows, runs_filtered

    flow = Flow.objects.order_by("id")[3]
    old_week = timezone.now() - timedelta(days=20)
    cases = [
        ("newest real runs", {}),
        ("one flow", {"flow": flow.pk}),
        ("failed", {"status": ["failed"]}),
        ("one flow, failed", {"flow": flow.pk, "status": ["failed"]}),
        ("waiting or active", {"status": ["waiting", "active"]}),
        ("a week 20 days ago", {"since": old_week, "until": old_week + timedelta(days=7)}),
        ("has an error", {"has_error": True}),
        ("contact by phone", {"contact": "+55 11 9000 12345"}),
        ("contact by name", {"contact": "rita silva 123"}),
        ("end reason contains", {"q": "did not answer"}),
        ("test runs", {"tests": True}),
    ]
    print("Runs page, first page of 50 per filter (EXPLAIN ANALYZE):")
    for label, filters in cases:
        queryset = run_list_rows(runs_filtered(filters)).order_by("-id")[:50]
        sql, params = queryset.query.sql_with_params()
        samples = []
        with connection.cursor() as cursor:
            for _ in range(repeat):
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                samples.append((time.perf_counter() - started) * 1000)
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        indexes = sorted(set(re.findall(r"(?:Index|Index Only|Bitmap Index) Scan (?:Backward )?(?:using|on) (\w+)", plan)))
        seq = "Seq Scan on flows_flowrun" in plan
        print(f"  {label:<24} median {statistics.median(samples):7.1f} ms  indexes: {', '.join(indexes) or '-'}"
              f"{'  (SEQ SCAN of runs!)' if seq else ''}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run (no rebuild)")
    args = parser.parse_args()
    import os

    os.environ.setdefault("FLUXO_STATS_BATCH", "50000")
    django_on_postgres("fluxo_bench_runs", fresh=not args.reuse)
    if not args.reuse:
        build(args.runs)
        rollup()
    dashboard(args.repeat)
    plans(args.repeat)
