"""Celery tasks of the messaging app: thin, idempotent wrappers over services. They take ids."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True,
             max_retries=10)
def message_deliver(message_id: int) -> None:
    """Send one queued message; schedules itself again when rate-limited or after a retryable error.

    Idempotent: only a ``queued`` message is claimed (see ``services.message_deliver_attempt``).
    A countdown task lost with its worker is picked up by ``messages_requeue_stale``.
    """
    from messaging.services import message_deliver_attempt

    delay = message_deliver_attempt(message_id=message_id)
    if delay:
        message_deliver.apply_async((message_id,), countdown=delay)


@shared_task(bind=True, acks_late=True, max_retries=8)
def webhook_delivery_process(self, delivery_id: int) -> None:
    """Turn a stored webhook delivery into events; retried with backoff + jitter if an item fails."""
    from messaging.webhooks import webhook_delivery_process as process

    try:
        process(delivery_id=delivery_id)
    except Exception as exc:
        import random

        countdown = min(600, 2 ** (self.request.retries + 1)) * (1 + random.random() * 0.25)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(acks_late=True)
def messages_requeue_stale() -> int:
    """Periodic: re-queue messages and webhook deliveries that a dead worker or lost task left behind."""
    from messaging.services import messages_requeue_stale as requeue
    from messaging.webhooks import webhook_deliveries_requeue_stale

    return requeue() + webhook_deliveries_requeue_stale()


@shared_task(acks_late=True)
def templates_sync_all() -> dict:
    """Periodic: sync the templates of every active Cloud API channel (takes a lock)."""
    from messaging.services import templates_sync_all as sync

    return sync()


@shared_task(acks_late=True)
def channel_templates_sync(channel_id: int) -> dict:
    """Sync one channel's templates (the admin action queues this)."""
    from messaging.models import Channel
    from messaging.services import templates_sync

    channel = Channel.objects.filter(pk=channel_id).first()
    return templates_sync(channel=channel) if channel else {}


@shared_task(acks_late=True)
def webhook_deliveries_prune() -> int:
    """Periodic (daily): drop processed raw webhook bodies past their retention."""
    from messaging.webhooks import webhook_deliveries_prune as prune

    return prune()
