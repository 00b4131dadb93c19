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
    """Turn due delays and wait timeouts into timer events (claimed with SKIP LOCKED)."""
    from flows.services import timers_fire_due as fire

    return fire()


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
