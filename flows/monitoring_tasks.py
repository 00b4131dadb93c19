"""Celery tasks of runs monitoring: the roll-up, alert notifications, bulk run actions, channel health.

Kept apart from ``flows/tasks.py`` (the execution path); imported by ``FlowsConfig.ready`` so the
worker registers them.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(acks_late=True)
def stats_rollup() -> dict:
    """Periodic: add what happened since the last pass to the dashboard's counters (one pass at a time)."""
    from flows.stats import stats_rollup as rollup

    return rollup()


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def alert_notify(alert_id: int) -> bool:
    """Send a newly opened alert to its team (once)."""
    from flows.alerts import alert_send

    return alert_send(alert_id=alert_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def run_action_batch_record(batch_id: int) -> int:
    """Record the per-run actions (and events) of a bulk action; safe to run twice."""
    from flows.run_actions import run_action_batch_record as record

    return record(batch_id=batch_id)


@shared_task(acks_late=True)
def channels_health_sync() -> int:
    """Hourly: ask Meta for each WhatsApp number's quality rating and messaging limit tier."""
    from flows.channel_health import channels_health_sync as sync

    return sync()
