"""Outbound webhooks: subscriptions, fan-out of domain events, signed at-least-once delivery.

Delivery is durable: each (event, subscription) is a :class:`WebhookDelivery` row. The first
attempt is queued right after commit; retries are due rows that the periodic task
``webhooks_deliver_due`` claims (``next_attempt_at`` moves forward as a lease, with SKIP LOCKED on
PostgreSQL), so a worker that dies mid-delivery only delays it. Backoff doubles from
``FLUXO_WEBHOOK_BACKOFF_BASE`` up to ``FLUXO_WEBHOOK_BACKOFF_CAP``, with jitter, for up to
``FLUXO_WEBHOOK_MAX_AGE`` (24 h). ``FLUXO_WEBHOOK_DISABLE_AFTER`` consecutive failed attempts
disable the subscription and raise an :class:`IntegrationAlert`.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.logging import mask_text
from integrations.http import client
from integrations.http.guard import BlockedAddress, guard_for
from integrations.models import IntegrationAlert, WebhookDelivery, WebhookSubscription
from integrations.webhooks import signing

logger = logging.getLogger(__name__)
ATTEMPT_LOG_MAX = 40


def _enqueue(delivery_id: int) -> None:
    from integrations.tasks import webhook_deliver

    # robust: a broker hiccup must not fail the caller; the periodic sweeper sends due rows anyway.
    transaction.on_commit(lambda: webhook_deliver.delay(delivery_id), robust=True)


@transaction.atomic
def webhook_subscription_create(*, name: str, url: str, event_types: list[str],
                                secret: str = "") -> tuple[WebhookSubscription, str]:
    """Create a subscription. Returns it and its signing secret (shown to the user once)."""
    secret = secret or "whsec_" + secrets.token_urlsafe(32)
    subscription = WebhookSubscription(name=name, url=url, event_types=list(event_types), secret=secret)
    subscription.full_clean()
    subscription.save()
    return subscription, secret


@transaction.atomic
def webhook_subscription_enable(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """Turn a (disabled) subscription back on and close its open alerts."""
    subscription.is_active, subscription.consecutive_failures = True, 0
    subscription.disabled_at, subscription.disabled_reason = None, ""
    subscription.save(update_fields=["is_active", "consecutive_failures", "disabled_at", "disabled_reason"])
    subscription.alerts.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
    return subscription


_SUBSCRIPTIONS_TTL = 2.0
_subscriptions: dict[str, Any] = {"at": -1e9, "rows": []}


def active_subscriptions() -> list[WebhookSubscription]:
    """The active subscriptions, read at most every ``_SUBSCRIPTIONS_TTL`` seconds per process.

    Domain events come several per inbound message; with nobody subscribed they must cost nothing
    (no query, no transaction). A subscription saved in this process is seen at once; one saved
    elsewhere within two seconds.
    """
    import time

    now = time.monotonic()
    if now - _subscriptions["at"] > _SUBSCRIPTIONS_TTL:
        _subscriptions["rows"] = list(WebhookSubscription.objects.filter(is_active=True))
        _subscriptions["at"] = now
    return _subscriptions["rows"]


def subscriptions_forget(*_args: Any, **_kwargs: Any) -> None:
    _subscriptions["at"] = -1e9


def webhook_event_fanout(*, event_type: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """One delivery per active subscription that wants ``event_type``, queued after commit."""
    subscriptions = [s for s in active_subscriptions() if s.wants(event_type)]
    if not subscriptions:
        return []
    with transaction.atomic():
        return _fanout(subscriptions, event_type, data)


def _fanout(subscriptions: list[WebhookSubscription], event_type: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    now = timezone.now()
    deliveries = []
    event_id = None
    for subscription in subscriptions:
        delivery = WebhookDelivery(subscription=subscription, event_type=event_type, next_attempt_at=now)
        event_id = event_id or delivery.event_id  # one event id across subscriptions
        delivery.event_id = event_id
        delivery.payload = {"id": str(event_id), "type": event_type, "created_at": now.isoformat(), "data": data}
        delivery.save()
        deliveries.append(delivery)
        _enqueue(delivery.pk)
    return deliveries


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (manual redelivery): a new row with the same event id and payload."""
    copy = WebhookDelivery.objects.create(
        subscription=delivery.subscription, event_id=delivery.event_id, event_type=delivery.event_type,
        payload=delivery.payload, redelivery_of=delivery, next_attempt_at=timezone.now(),
    )
    _enqueue(copy.pk)
    return copy


def _claim(delivery_id: int, lease: float) -> WebhookDelivery | None:
    """Take a due delivery for one attempt. The lease (a later ``next_attempt_at``) keeps the
    periodic sweeper from sending it twice while this attempt is in flight."""
    now = timezone.now()
    with transaction.atomic():
        query = WebhookDelivery.objects.select_for_update(skip_locked=True).select_related("subscription")
        delivery = query.filter(
            pk=delivery_id, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
            next_attempt_at__lte=now,
        ).first()
        if delivery is None:
            return None
        delivery.next_attempt_at = now + timedelta(seconds=lease)
        delivery.save(update_fields=["next_attempt_at"])
        return delivery


def backoff_seconds(attempt: int) -> float:
    """Delay before the next try after ``attempt`` failed tries: doubling, capped, ±20 % jitter."""
    delay = min(settings.FLUXO_WEBHOOK_BACKOFF_CAP, settings.FLUXO_WEBHOOK_BACKOFF_BASE * 2 ** (attempt - 1))
    return delay * random.uniform(0.8, 1.2)


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one attempt at a due delivery (idempotent: a delivery not due, or done, is left alone)."""
    timeout = settings.FLUXO_WEBHOOK_TIMEOUT
    delivery = _claim(delivery_id, lease=timeout * 3 + 30)
    if delivery is None:
        return None
    subscription = delivery.subscription
    if not subscription.is_active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, next_attempt_at=None, last_error="subscription is disabled")
        return WebhookDelivery.objects.get(pk=delivery.pk)

    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Fluxo-Event": delivery.event_type,
        "X-Fluxo-Event-Id": str(delivery.event_id),
        "X-Fluxo-Delivery": str(delivery.pk),
        "X-Fluxo-Timestamp": str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature_header(subscription.secret, timestamp, body),
    }
    status_code, response_text, error = None, "", ""
    started = time.monotonic()
    try:
        response = client.request("POST", subscription.url, headers=headers, data=body, timeout=timeout,
                                  max_bytes=64 * 1024, max_redirects=0, guard=guard_for())
        status_code, response_text = response.status, mask_text(response.text[:2048])
        if not response.ok:
            error = f"the receiver answered {response.status}"
    except client.TooManyRedirects:
        error = "the receiver answered with a redirect (webhooks do not follow redirects)"
    except (BlockedAddress, client.BadURL, client.ResponseTooLarge) as exc:
        error = str(exc)
    except requests.Timeout:
        error = f"no answer within {timeout:g} s"
    except requests.RequestException as exc:
        error = f"could not connect: {client.describe_error(exc)}"
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record_attempt(delivery, status_code, response_text, error, duration_ms)


@transaction.atomic
def _record_attempt(delivery: WebhookDelivery, status_code: int | None, response_text: str, error: str,
                    duration_ms: int) -> WebhookDelivery:
    now = timezone.now()
    delivery = WebhookDelivery.objects.select_for_update().select_related("subscription").get(pk=delivery.pk)
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_response, delivery.last_error = status_code, response_text, error
    delivery.attempt_log = [*delivery.attempt_log, {"at": now.isoformat(), "status_code": status_code,
                                                   "error": error, "duration_ms": duration_ms}][-ATTEMPT_LOG_MAX:]
    subscription = delivery.subscription
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, now, None
        WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
    else:
        delay = backoff_seconds(delivery.attempts)
        age = (now - delivery.created_at).total_seconds()
        if age + delay > settings.FLUXO_WEBHOOK_MAX_AGE:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
        else:
            delivery.status = WebhookDelivery.Status.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=F("consecutive_failures") + 1)
        subscription.refresh_from_db(fields=["consecutive_failures", "is_active"])
        if subscription.is_active and subscription.consecutive_failures >= settings.FLUXO_WEBHOOK_DISABLE_AFTER:
            _disable(subscription, f"{subscription.consecutive_failures} delivery attempts in a row failed; last: {error}")
        logger.warning("webhook %s delivery %s failed (attempt %d): %s", subscription.name, delivery.pk,
                       delivery.attempts, error)
    delivery.save()
    return delivery


def _disable(subscription: WebhookSubscription, reason: str) -> None:
    subscription.is_active, subscription.disabled_at, subscription.disabled_reason = False, timezone.now(), reason
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    IntegrationAlert.objects.create(
        kind="webhook_disabled", subscription=subscription,
        message=f"Webhook '{subscription.name}' ({subscription.url}) was disabled: {reason}. "
                "Fix the receiver, then enable it again (admin action) and redeliver the failed deliveries.",
    )
    logger.error("webhook %s disabled: %s", subscription.name, reason)


def webhooks_deliver_due(*, limit: int = 200) -> int:
    """Attempt every due delivery (the periodic sweeper). Returns how many were attempted."""
    ids = list(
        WebhookDelivery.objects.filter(
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
            next_attempt_at__lte=timezone.now(),
        ).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    done = 0
    for delivery_id in ids:
        if webhook_delivery_attempt(delivery_id=delivery_id) is not None:
            done += 1
    return done


def webhook_deliveries_prune(*, older_than_days: int | None = None) -> int:
    """Delete finished deliveries older than the retention (``FLUXO_WEBHOOK_RETENTION_DAYS``)."""
    days = settings.FLUXO_WEBHOOK_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = WebhookDelivery.objects.filter(
        status__in=[WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.FAILED], created_at__lt=cutoff,
    ).delete()
    return deleted
