"""Celery tasks of the flows app: thin, idempotent wrappers over services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

logger = logging.getLogger(__name__)


def contact_events_queue(contact_id: int) -> None:
    """Queue the processing of a contact's pending events (the inbox's dispatcher, see flows.apps)."""
    contact_events_process.delay(contact_id)


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
             retry_jitter=True, max_retries=10)
def contact_events_process(self, contact_id: int) -> int:
    """Process every pending event of one contact, oldest first, under the contact's lock."""
    from flows.services import contact_events_process as process

    return process(contact_id=contact_id)


@shared_task(acks_late=True)
def timers_fire_due() -> int:
    """Periodic (every FLUXO_TIMER_INTERVAL s): start the sweepers for the timers due by the next tick.

    One indexed probe: the earliest timer due before the next tick. When there is one,
    ``FLUXO_TIMER_SWEEPERS`` sweep tasks go to the inbound queue, timed for that moment (a delay
    due at 10:00:00.2 resumes then, not at the tick after it); each holds a slot lock, so at most
    that many sweep at once, sharing the due runs through ``SKIP LOCKED``.
    """
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from flows.processing import timers_next_due

    now = timezone.now()
    interval = float(getattr(settings, "FLUXO_TIMER_INTERVAL", 1.0))
    due = timers_next_due(until=now + timedelta(seconds=interval))
    if due is None:
        return 0
    sweepers = int(getattr(settings, "FLUXO_TIMER_SWEEPERS", 2))
    for slot in range(sweepers):
        timers_sweep.apply_async((slot,), eta=due if due > now else None)
    return sweepers


@shared_task(acks_late=True)
def timers_sweep(slot: int = 0) -> int:
    """Resume due timers in batches until none is due (one sweeper per slot at a time)."""
    from django.conf import settings
    from django.core.cache import cache

    from flows.processing import timers_sweep as sweep

    lock = f"fluxo:lock:timers-sweep:{slot}"
    if not cache.add(lock, "1", timeout=120):
        return 0
    try:
        return sweep(batch=int(getattr(settings, "FLUXO_TIMER_BATCH", 500)), max_batches=500)
    finally:
        cache.delete(lock)


@shared_task(acks_late=True)
def events_requeue_stale() -> int:
    """Re-queue contacts whose pending events have waited too long (a lost task, a dead worker)."""
    from flows.services import events_requeue_stale as requeue

    return requeue()


@shared_task(acks_late=True)
def schedules_fire_due() -> int:
    """Start scheduled flows for their tagged contacts (deduplicated per contact and day)."""
    from flows.services import schedules_fire_due as fire

    return fire()


@shared_task(acks_late=True)
def runs_expire_stale() -> int:
    """Expire runs that waited for an answer longer than FLUXO_RUN_MAX_WAIT_DAYS."""
    from flows.services import runs_expire_stale as expire

    return expire()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True,
             max_retries=5)
def external_call_execute(run_id: int, token: str) -> bool:
    """Make a waiting run's call (HTTP, AI, notification) outside any transaction; its result resumes the run."""
    from flows.calls import call_execute

    return call_execute(run_id=run_id, token=token)
