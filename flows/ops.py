"""Endpoints for the people who run Fluxo: ``/healthz``, ``/readyz`` and Prometheus ``/metrics``.

* ``/healthz``: the process answers (no dependency is touched: a liveness probe).
* ``/readyz``: the database answers, every migration is applied, the broker and Redis answer
  (django-health-check's checks, plus two of ours); 503 with the failing checks otherwise.
* ``/metrics``: Prometheus text, ``Authorization: Bearer <FLUXO_METRICS_TOKEN>`` required. Every
  figure is read at scrape time from the roll-up's counters and gauges, Redis and the broker, so a
  scrape costs a few indexed queries whatever the size of the tables.
"""

from __future__ import annotations

import dataclasses
import hmac
import time
from collections import defaultdict

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from core import metrics as core_metrics


@require_GET
def healthz(request):
    """Liveness: the process is up and serving requests."""
    return JsonResponse({"status": "ok"})


@dataclasses.dataclass
class MigrationsApplied(HealthCheck):
    """Every migration of the code is applied to the database."""

    def run(self):
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        try:
            loader = MigrationExecutor(connection).loader
            # Every migration of the code, not only the plan to the latest: a gap (a migration missing
            # before a later applied one) leaves the schema incomplete too.
            pending = sorted(set(loader.graph.nodes) - set(loader.applied_migrations))
        finally:
            connection.close()  # this runs on a worker thread: do not leave its connection open
        if pending:
            names = ", ".join(f"{app}.{name}" for app, name in pending[:5])
            raise ServiceUnavailable(f"{len(pending)} migration(s) not applied: {names}")


@dataclasses.dataclass
class BrokerReachable(HealthCheck):
    """The Celery broker accepts a connection (Redis in production, the filesystem transport embedded)."""

    def run(self):
        from config.celery import app

        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # noqa: BLE001 - any failure to connect means not ready
            raise ServiceUnavailable(f"broker unreachable ({type(exc).__name__})") from exc


def _redis_client():
    from redis.asyncio import Redis

    return Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


class ReadyView(HealthCheckView):
    """Readiness: database, migrations, broker and (when configured) Redis, answered as JSON."""

    def get_checks(self):
        checks = [Database(), MigrationsApplied(), BrokerReachable()]
        if settings.REDIS_URL:
            from health_check.contrib.redis import Redis

            checks.append(Redis(client_factory=_redis_client))
        return checks

    def render_to_response(self, context, **response_kwargs):
        return self.render_to_response_json(response_kwargs.get("status", 200))

    def render_to_response_json(self, status):
        # Not ready is 503 (take this node out of the pool), not the library's generic 500.
        return super().render_to_response_json(503 if status >= 500 else status)


def _authorized(request) -> bool:
    token = getattr(settings, "FLUXO_METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


class FluxoCollector:
    """Reads the figures at scrape time (roll-up counters and gauges, Redis, the broker)."""

    def collect(self):
        from flows.models import RollupState, StatCounter, StatGauge
        from flows.stats import EPOCH

        totals: dict[str, dict[str, int]] = defaultdict(dict)
        for metric, key, value in StatCounter.objects.filter(bucket=EPOCH).values_list("metric", "key", "value"):
            totals[metric][key] = value
        gauges: dict[str, float] = defaultdict(float)
        for name, value in StatGauge.objects.filter(flow_id=0).values_list("name", "value"):
            gauges[name] = value
        for name, value in StatGauge.objects.filter(name__in=["runs.waiting", "runs.active"]).values_list("name", "value"):
            gauges[f"open.{name}"] += value

        received = CounterMetricFamily("fluxo_events_received", "Inbound events recorded, by kind.", labels=["kind"])
        for kind, n in sorted(totals.get("events.received", {}).items()):
            received.add_metric([kind], n)
        yield received
        processed = CounterMetricFamily("fluxo_events_processed", "Inbound events processed (received minus pending).")
        processed.add_metric([], max(0, sum(totals.get("events.received", {}).values()) - gauges["events.pending"]))
        yield processed
        yield GaugeMetricFamily("fluxo_events_pending", "Events waiting for a worker.", value=gauges["events.pending"])
        yield GaugeMetricFamily("fluxo_events_oldest_pending_seconds", "Age of the oldest pending event.",
                                value=gauges["events.oldest_pending"])

        runs = GaugeMetricFamily("fluxo_runs", "Open runs, by status (test runs excluded).", labels=["status"])
        for status in ("active", "waiting"):
            runs.add_metric([status], gauges[f"open.runs.{status}"])
        yield runs
        ended = CounterMetricFamily("fluxo_runs_ended", "Run endings, by status (a retried run ends again).",
                                    labels=["status"])
        for status in ("completed", "failed", "expired", "cancelled"):
            ended.add_metric([status], sum(totals.get(f"runs.{status}", {}).values()))
        yield ended
        started = CounterMetricFamily("fluxo_runs_started", "Runs started (test runs excluded).")
        started.add_metric([], sum(totals.get("runs.started", {}).values()))
        yield started

        sends = CounterMetricFamily("fluxo_messages", "Outbound messages by result.", labels=["result"])
        for result in ("sent", "delivered", "read", "failed"):
            sends.add_metric([result], sum(totals.get(f"msg.{result}", {}).values()))
        yield sends
        yield GaugeMetricFamily("fluxo_messages_queued", "Outbound messages queued or being sent.",
                                value=gauges["messages.queued"])

        depth = GaugeMetricFamily("fluxo_queue_depth", "Tasks waiting in the broker queue.", labels=["queue"])
        queued = _broker_depth()
        if queued is not None:
            depth.add_metric(["celery"], queued)
        yield depth
        yield GaugeMetricFamily("fluxo_timers_overdue", "Timers due for more than FLUXO_TIMER_OVERDUE_SECONDS.",
                                value=gauges["timers.overdue"])
        yield GaugeMetricFamily("fluxo_timer_lateness_seconds", "How late the most overdue timer is.",
                                value=gauges["timers.lateness"])

        graph = core_metrics.graph_api_snapshot()
        latency = graph["latency"]
        cumulative, buckets = 0.0, []
        for bound in core_metrics.LATENCY_BUCKETS:
            cumulative += latency.get(f"le:{bound:g}", 0)
            buckets.append((f"{bound:g}", cumulative))
        buckets.append(("+Inf", latency.get("count", cumulative + latency.get("le:+Inf", 0))))
        yield HistogramMetricFamily("fluxo_graph_api_request_duration_seconds", "Graph API request latency.",
                                    buckets=buckets, sum_value=latency.get("sum", 0.0))
        calls = CounterMetricFamily("fluxo_graph_api_requests", "Graph API requests by result (ok or error code).",
                                    labels=["result"])
        for result, n in sorted(graph["calls"].items()):
            calls.add_metric([result], n)
        yield calls
        statuses = CounterMetricFamily("fluxo_graph_api_status_errors", "Failed message statuses by Graph error code.",
                                       labels=["code"])
        for code, n in sorted(totals.get("graph.status_errors", {}).items()):
            statuses.add_metric([code], n)
        yield statuses

        last = RollupState.objects.filter(name="lock").values_list("moment", flat=True).first()
        age = time.time() - last.timestamp() if last else float("nan")
        yield GaugeMetricFamily("fluxo_stats_rollup_age_seconds", "Seconds since the last roll-up pass.", value=age)


def _broker_depth() -> int | None:
    """Length of the default Celery queue when the broker is Redis (None otherwise)."""
    if not settings.REDIS_URL:
        return None
    try:
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1)
        return int(client.llen("celery"))
    except Exception:  # noqa: BLE001 - a missing figure, not a failed scrape
        return None


@require_GET
def metrics(request):
    """Prometheus metrics, for a caller with the bearer token of ``FLUXO_METRICS_TOKEN``."""
    if not _authorized(request):
        response = JsonResponse({"error": {"code": "not_authenticated", "details": {},
                                           "message": "Send Authorization: Bearer <FLUXO_METRICS_TOKEN>."}},
                                status=401)
        response["WWW-Authenticate"] = 'Bearer realm="fluxo-metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FluxoCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
