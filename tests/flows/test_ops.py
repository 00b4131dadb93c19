"""/healthz, /readyz and /metrics: what the people running Fluxo probe and scrape."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from core import metrics as core_metrics
from flows import stats
from tests.factories import chain, make_contact, make_flow, node
from tests.flows.helpers import inbound

pytestmark = pytest.mark.django_db

TOKEN = "s3cr3t-metrics-token"


def test_healthz_answers_without_touching_anything():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_database_migrations_broker_and_redis():
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    checks = response.json()
    assert any("Database" in name for name in checks) and any("MigrationsApplied" in name for name in checks)
    assert any("BrokerReachable" in name for name in checks)
    assert all(value == "OK" for value in checks.values()), checks


@pytest.mark.django_db(transaction=True)
def test_readyz_fails_when_a_migration_is_not_applied():
    # Committed, because the check runs on another thread's connection; put back at the end.
    # The newest migration of flows (later branches add theirs after it).
    from django.db.migrations.loader import MigrationLoader

    latest = next(name for app, name in MigrationLoader(None).graph.leaf_nodes() if app == "flows")
    where = f"app = 'flows' AND name = '{latest}'"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name, applied FROM django_migrations WHERE {where}")
        row = cursor.fetchone()
        cursor.execute(f"DELETE FROM django_migrations WHERE {where}")
    try:
        response = Client().get("/readyz")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)", row)
    assert response.status_code == 503
    failed = {name: value for name, value in response.json().items() if value != "OK"}
    assert list(failed.values()) == [f"Unavailable: 1 migration(s) not applied: flows.{latest}"], failed


def test_readyz_fails_when_the_broker_is_down():
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = Client().get("/readyz")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 503
    assert any("broker unreachable" in value for value in response.json().values()), response.json()


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {TOKEN}", "Bearer "])
def test_metrics_refuse_without_the_token(settings, header):
    settings.FLUXO_METRICS_TOKEN = TOKEN
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get("/metrics", **extra)
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_metrics_are_refused_to_everyone_without_a_configured_token(settings):
    settings.FLUXO_METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_metrics_report_events_runs_sends_queues_timers_and_graph_latency(settings, channel):
    settings.FLUXO_METRICS_TOKEN = TOKEN
    core_metrics.metrics_reset()
    flow = make_flow(chain(node("t", "trigger", event="message", match="any"), node("m", "send_message", text="oi")))
    inbound(make_contact(channel=channel), "oi")
    inbound(make_contact(channel=channel), "olá")
    core_metrics.graph_api_observe(seconds=0.3, result="ok")
    core_metrics.graph_api_observe(seconds=2.0, result="131047")
    stats.stats_rollup()
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        assert family.name.startswith("fluxo_"), family.name
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    assert samples[("fluxo_events_received_total", (("kind", "message"),))] == 2
    assert samples[("fluxo_events_processed_total", ())] == 2
    assert samples[("fluxo_runs_started_total", ())] == 2
    assert samples[("fluxo_runs_ended_total", (("status", "completed"),))] == 2
    assert samples[("fluxo_messages_queued", ())] == 2
    assert ("fluxo_timers_overdue", ()) in samples and ("fluxo_timer_lateness_seconds", ()) in samples
    assert samples[("fluxo_graph_api_request_duration_seconds_count", ())] == 2
    assert samples[("fluxo_graph_api_request_duration_seconds_bucket", (("le", "0.5"),))] == 1
    assert samples[("fluxo_graph_api_request_duration_seconds_bucket", (("le", "+Inf"),))] == 2
    assert samples[("fluxo_graph_api_requests_total", (("result", "131047"),))] == 1
    assert ("fluxo_queue_depth", (("queue", "celery"),)) in samples
    assert flow.runs.count() == 2
    core_metrics.metrics_reset()
