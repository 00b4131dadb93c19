"""Inbound API trigger: outside systems (shop, CRM, ERP) start flows with ``POST /api/events/``.

Each integration has its own API key (stored as a SHA-256 hash; shown once). An event names the
contact by phone and carries data that becomes ``{{trigger.*}}``; it is recorded through
:func:`flows.services.event_record`, whose unique dedupe key makes an ``Idempotency-Key`` retry a
no-op, and the trigger ``{"event": "external", "event_name": ...}`` starts the matching flows.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from flows.models import InboundEvent
from integrations.models import ApiIntegration

KEY_PREFIX = "flx_"
EVENT_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,120}$")
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")


class EventRejected(ValueError):
    """The event cannot be accepted (bad input); ``field`` says where."""

    def __init__(self, message: str, *, field: str = "non_field_errors", code: str = "invalid"):
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


class IdempotencyConflict(EventRejected):
    pass


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_integration_create(*, name: str) -> tuple[ApiIntegration, str]:
    """Create an integration. Returns it and its API key, which is not stored and cannot be shown again."""
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    integration = ApiIntegration.objects.create(name=name, key_prefix=prefix, key_hash=_hash(key))
    return integration, key


@transaction.atomic
def api_integration_rotate_key(*, integration: ApiIntegration) -> str:
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    # A new key is a working key: rotating also re-enables a revoked integration.
    integration.key_prefix, integration.key_hash, integration.is_active = prefix, _hash(key), True
    integration.save(update_fields=["key_prefix", "key_hash", "is_active"])
    return key


def api_integration_authenticate(key: str) -> ApiIntegration | None:
    """The active integration owning ``key``, or ``None`` (constant-time hash comparison)."""
    match = re.match(rf"^{KEY_PREFIX}([0-9a-f]{{8}})_", key or "")
    if not match:
        return None
    integration = ApiIntegration.objects.filter(key_prefix=match.group(1), is_active=True).first()
    if integration is None or not hmac.compare_digest(integration.key_hash, _hash(key)):
        return None
    ApiIntegration.objects.filter(pk=integration.pk).update(last_used_at=timezone.now())
    return integration


def default_channel(channel_id: int | None = None):
    """The channel a contact created by an event is reached on: the one named, else the
    installation's first active WhatsApp channel, else its first active channel (the sandbox)."""
    from messaging.models import Channel, WhatsAppCloudChannel

    active = Channel.objects.filter(is_active=True)
    if channel_id is not None:
        found = active.filter(pk=channel_id).first()
        if found is None:
            raise EventRejected(f"channel {channel_id} does not exist or is inactive", field="channel")
        return found
    return (WhatsAppCloudChannel.objects.filter(is_active=True).order_by("id").first()
            or active.order_by("id").first())


def external_event_receive(*, integration: ApiIntegration, event_name: str, phone: str, contact_name: str = "",
                           data: dict[str, Any] | None = None, idempotency_key: str = "",
                           channel_id: int | None = None) -> tuple[InboundEvent, bool]:
    """Record an external event for the contact with ``phone``. Returns ``(event, created)``.

    The same ``idempotency_key`` from the same integration returns the first event
    (``created=False``); reusing it for a different event raises :class:`IdempotencyConflict`.
    """
    from flows.services import event_record
    from messaging.phones import InvalidPhone
    from messaging.services import contact_get_or_create

    data = dict(data or {})
    if not EVENT_NAME_RE.match(event_name or ""):
        raise EventRejected("event names use letters, digits and . _ : - (e.g. order.created)", field="event")
    if "event" in data:
        raise EventRejected("'event' is reserved; put the event name at the top level", field="data")
    if idempotency_key and not IDEMPOTENCY_KEY_RE.match(idempotency_key):
        raise EventRejected("Idempotency-Key must be 1–200 printable ASCII characters", field="Idempotency-Key")
    payload = {"event": event_name, **data}
    dedupe_key = f"api:{integration.pk}:{idempotency_key or uuid.uuid4().hex}"
    existing = InboundEvent.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return _same_or_conflict(existing, payload), False
    try:
        contact, _created = contact_get_or_create(phone=phone, name=contact_name)
    except InvalidPhone as exc:
        raise EventRejected(str(exc), field="contact.phone") from exc
    if contact.channel_id is None or channel_id is not None:
        channel = default_channel(channel_id)
        if channel is not None and contact.channel_id != channel.pk:
            contact.channel = channel
            contact.save(update_fields=["channel", "updated_at"])
    event, created = event_record(kind=InboundEvent.Kind.EXTERNAL, dedupe_key=dedupe_key, contact=contact,
                                  payload=payload, raw={"integration": integration.name, "phone": phone})
    if not created:  # a concurrent retry won the race
        _same_or_conflict(event, payload)
    return event, created


def _same_or_conflict(event: InboundEvent, payload: dict[str, Any]) -> InboundEvent:
    if event.payload != payload:
        raise IdempotencyConflict("this Idempotency-Key was already used for a different event",
                                  field="Idempotency-Key", code="idempotency_conflict")
    return event


def external_event_get(*, integration: ApiIntegration, event_id: int) -> InboundEvent | None:
    """One of this integration's events (never another integration's), or ``None``."""
    return (InboundEvent.objects.filter(pk=event_id, kind=InboundEvent.Kind.EXTERNAL,
                                        dedupe_key__startswith=f"api:{integration.pk}:")
            .prefetch_related("started_runs__flow").first())


@transaction.atomic
def api_integration_revoke(*, integration: ApiIntegration) -> ApiIntegration:
    """Disable the integration's key at once; rotating the key later gives it a new, working one."""
    integration.is_active = False
    integration.save(update_fields=["is_active"])
    return integration
