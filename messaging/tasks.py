"""Celery tasks of the messaging app: thin, idempotent wrappers over services. They take ids."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True,
             max_retries=10)
def message_deliver(message_id: int, recheck: bool = False) -> None:
    """Send a queued message when it heads its contact's queue, then the contact's next ones.

    Idempotent: only a queued head is claimed (``messaging.outbound``); a message that must wait
    schedules one attempt at its slot. A countdown task lost with its worker is picked up by
    ``messages_requeue_stale``.
    """
    from messaging.outbound import message_send

    message_send(message_id=message_id, recheck=recheck)


@shared_task(bind=True, acks_late=True, max_retries=None)
def outbound_drain(self, shard: int) -> int:
    """Send a shard's due messages until none is left (woken by core.kick, or at a slot or retry time)."""
    from messaging.outbound import messages_drain

    try:
        return messages_drain(shard=shard)
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


def _backoff(retries: int) -> float:
    import random

    return min(600, 2 ** (retries + 1)) * (1 + random.random() * 0.25)


@shared_task(bind=True, acks_late=True, max_retries=None)
def inbound_delivery_process(self, delivery_id: int, sender: str | None = None, careful: bool = False) -> None:
    """Process a stored webhook delivery: messages recorded and the flows run, in one transaction.

    A database error is retried with backoff and jitter. Any other failure is counted on the
    delivery (``delivery_failure_note``) and retried in careful mode, which keeps the good items and
    records the bad ones; after ``WHATSAPP_DELIVERY_MAX_ATTEMPTS`` the delivery is parked as failed.
    """
    from messaging.inbound import delivery_failure_note, delivery_process

    try:
        again_after = delivery_process(delivery_id=delivery_id, sender=sender, careful=careful)
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    except Exception as exc:
        logger.exception("webhook delivery %s failed", delivery_id)
        attempts = delivery_failure_note(delivery_id=delivery_id, error=f"{type(exc).__name__}: {exc}")
        if attempts:
            raise self.retry(args=(delivery_id, sender, True), countdown=_backoff(attempts - 1)) from exc
        return
    if again_after:  # careful mode kept the good items; the failed ones get another try later
        raise self.retry(args=(delivery_id, sender, True), countdown=_backoff(again_after - 1))


@shared_task(bind=True, acks_late=True, max_retries=None)
def inbound_drain(self, shard: int) -> int:
    """Process a shard's pending webhook deliveries in batches until none is left (woken by core.kick).

    Each task drains for a time slice (``FLUXO_DRAIN_SLICE_SECONDS``); work left behind goes to a new
    task of the same shard, queued behind the other shards' drains, which keeps its kick flag up."""
    from core.kick import kick_extend
    from messaging.inbound import deliveries_drain_slice

    try:
        done, more = deliveries_drain_slice(shard=shard,
                                            seconds=float(getattr(settings, "FLUXO_DRAIN_SLICE_SECONDS", 1.0)))
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    if more:
        kick_extend("inbound", shard)
        inbound_drain.delay(shard)
    return done


@shared_task(acks_late=True)
def webhook_delivery_process(delivery_id: int) -> None:
    """Kept for tasks queued before the inbound path was renamed: same as ``inbound_delivery_process``."""
    inbound_delivery_process.delay(delivery_id, None)


@shared_task(acks_late=True)
def messages_requeue_stale() -> int:
    """Periodic: re-queue messages and webhook deliveries that a dead worker or lost task left behind,
    and apply statuses that arrived before their message's wamid was recorded."""
    from messaging.services import messages_requeue_stale as requeue
    from messaging.webhooks import statuses_reconcile, webhook_deliveries_requeue_stale

    return requeue() + webhook_deliveries_requeue_stale() + statuses_reconcile()


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


@shared_task(bind=True, acks_late=True, max_retries=None)
def media_fetch_task(self, media_id: int) -> str:
    """Download a received file (queue ``calls``): outside any transaction and the contact's lock.

    Retried with backoff on Graph errors and timeouts; after ``FLUXO_MEDIA_FETCH_ATTEMPTS`` the file
    is recorded as failed with its reason. Idempotent: only a pending file is fetched.
    """
    from messaging.media import fetch_attempts, media_fetch

    final = self.request.retries + 1 >= fetch_attempts()
    try:
        outcome = media_fetch(media_id=media_id, final=final)
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    if outcome.status == "retry":
        raise self.retry(countdown=_backoff(self.request.retries))
    return outcome.status


@shared_task(bind=True, acks_late=True, max_retries=None)
def message_media_prepare_task(self, message_id: int) -> str:
    """Fetch the file an outbound message names by link, then let it be sent (queue ``calls``).

    Outside any transaction and the contact's lock; the contact's later messages wait behind it.
    Transient errors are tried again with backoff (``FLUXO_MEDIA_URL_FETCH_ATTEMPTS``), then the message
    fails with the reason. Idempotent: only a due ``preparing`` message is claimed; a lost task is
    queued again by ``messages_requeue_stale``.
    """
    from messaging.media import message_media_prepare

    try:
        outcome = message_media_prepare(message_id=message_id)
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    if outcome.status == "retry":
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(acks_late=True)
def media_retention_prune() -> int:
    """Periodic (hourly): delete received files past ``FLUXO_MEDIA_RETENTION_DAYS`` (takes a lock)."""
    from messaging.media import media_retention_prune as prune

    return prune()


@shared_task(acks_late=True, ignore_result=True)
def read_receipt_send(channel_id: int, message_id: str) -> bool:
    """Mark an inbound message read on WhatsApp (queue ``calls``; best effort, see the service)."""
    from messaging.services import read_receipt_send as send

    return send(channel_id=channel_id, message_id=message_id)


@shared_task(acks_late=True, ignore_result=True)
def read_receipts_send(channel_id: int, message_ids: list[str]) -> int:
    """Mark a batch's inbound messages read on WhatsApp (queue ``calls``; best effort, see the service)."""
    from messaging.services import read_receipts_send_many

    return read_receipts_send_many(channel_id=channel_id, message_ids=message_ids[:1000])


# --- Campaigns and date events ----------------------------------------------------------------


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def campaign_feed(campaign_id: int) -> int:
    """One feeder tick for a campaign (start/resume kick it; the beat task keeps it going)."""
    from messaging.campaigns.services import campaign_feed as feed

    return feed(campaign_id=campaign_id)


@shared_task(acks_late=True)
def campaigns_feed_due() -> int:
    """Periodic (``FLUXO_CAMPAIGN_FEED_INTERVAL``): start scheduled campaigns, feed the running ones."""
    from messaging.campaigns.services import campaigns_feed_due as feed_due
    from messaging.services import _lock_acquire

    if not _lock_acquire("campaigns-feed", 1):
        return 0
    return feed_due()


@shared_task(acks_late=True)
def date_events_fire_due() -> int:
    """Periodic: fire the date-event timers that are due (one indexed probe when none is)."""
    from messaging.campaigns.events import date_events_fire_due as fire

    return fire()


@shared_task(acks_late=True)
def date_event_schedule_all(event_id: int) -> int:
    """Schedule a date event for every contact that has its attribute (after it is created or changed)."""
    from messaging.campaigns.events import date_event_schedule_all as schedule

    return schedule(event_id=event_id)
