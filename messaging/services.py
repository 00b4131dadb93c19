"""Writes of the messaging app: contacts, conversations, inbound and outbound messages."""

from __future__ import annotations

import logging
import random
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from core.signals import domain_event_emit
from messaging.models import Channel, Contact, Conversation, Message
from messaging.phones import phone_from_wa_id, phone_normalize

logger = logging.getLogger(__name__)


def _sandbox_touch(channel: Channel | None, contact_id: int) -> None:
    """Wake the sandbox page of this contact (only sandbox channels have one)."""
    if channel is not None and getattr(channel, "provider_key", "") == "sandbox":
        from messaging.consumers import sandbox_notify

        sandbox_notify(contact_id)


def contact_get_or_create(*, phone: str, name: str = "", channel: Channel | None = None,
                          is_test: bool = False, verified: bool = False) -> tuple[Contact, bool]:
    """Find the contact by phone (normalized to E.164; raises InvalidPhone) or create it.

    ``verified=True`` is for numbers WhatsApp itself vouched for (a webhook's ``wa_id``): those
    are kept even when ``phonenumbers`` does not know the range yet.
    """
    e164 = phone_from_wa_id(phone) if verified else phone_normalize(phone)
    # Most messages come from known contacts: a plain read first, the savepoint only to create.
    contact, created = Contact.objects.filter(phone=e164).first(), False
    if contact is None:
        try:
            with transaction.atomic():
                contact, created = Contact.objects.get_or_create(
                    phone=e164, defaults={"name": name, "channel": channel, "is_test": is_test}
                )
        except IntegrityError:
            contact, created = Contact.objects.get(phone=e164), False
    changed = []
    if name and not contact.name:
        contact.name, changed = name, [*changed, "name"]
    if channel is not None and contact.channel_id != channel.pk:
        contact.channel, changed = channel, [*changed, "channel"]
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])
    return contact, created


@transaction.atomic
def conversation_touch_inbound(*, contact: Contact, channel: Channel | None, at: datetime) -> tuple[Conversation, bool]:
    """The contact wrote to us: open a conversation if none is open, and restart the 24-hour window.

    Returns ``(conversation, started)``. Lock order, as everywhere: the contact row, then its
    conversation (the event processor holds the contact while it touches the conversation, so
    the other order deadlocks).
    """
    Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk", flat=True).first()
    conversation = (
        Conversation.objects.select_for_update()
        .filter(contact=contact).exclude(state=Conversation.State.COMPLETED).order_by("-id").first()
    )
    started = conversation is None
    if started:
        conversation = Conversation.objects.create(contact=contact, channel=channel, last_inbound_at=at)
        domain_event_emit(event_type="conversation.opened",
                          data={"conversation_id": conversation.pk, "contact": contact.phone})
    elif conversation.last_inbound_at is None or at > conversation.last_inbound_at:
        conversation.last_inbound_at = at
        conversation.save(update_fields=["last_inbound_at"])
    if contact.last_inbound_at is None or at > contact.last_inbound_at:
        Contact.objects.filter(pk=contact.pk).update(last_inbound_at=at)
        contact.last_inbound_at = at
    return conversation, started


def conversation_current(*, contact: Contact) -> Conversation | None:
    return Conversation.objects.filter(contact=contact).exclude(state=Conversation.State.COMPLETED).order_by("-id").first()


@transaction.atomic
def message_record_inbound(*, contact: Contact, channel: Channel | None, kind: str, content: dict[str, Any],
                           provider_message_id: str | None, at: datetime | None = None) -> tuple[Message, bool]:
    """Store an inbound message once (by provider id) and restart the service window.

    Returns ``(message, conversation_started)``.
    """
    at = at or timezone.now()
    if provider_message_id:
        existing = Message.objects.filter(provider_message_id=provider_message_id).first()
        if existing is not None:
            return existing, False
    conversation, started = conversation_touch_inbound(contact=contact, channel=channel, at=at)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                direction=Message.Direction.INBOUND, kind=kind, content=content, contact=contact,
                conversation=conversation, channel=channel, provider_message_id=provider_message_id,
                status=Message.Status.RECEIVED,
            )
    except IntegrityError:
        # Another worker stored the same wamid a moment ago (Meta delivered it twice at once).
        transaction.set_rollback(True)
        return Message.objects.get(provider_message_id=provider_message_id), False
    domain_event_emit(event_type="message.received",
                      data={"message_id": message.pk, "contact": contact.phone, "kind": kind})
    return message, started


def _render_preview(kind: str, content: dict[str, Any], template=None) -> str:
    """A human-readable text of an outbound message (shown in the sandbox chat and traces)."""
    if kind == "text":
        return (content.get("text") or {}).get("body", "")
    if kind == "interactive":
        return ((content.get("interactive") or {}).get("body") or {}).get("text", "")
    if kind == "template" and template is not None:
        text = template.body_text
        body = next((c for c in (content.get("template") or {}).get("components") or [] if c.get("type") == "body"),
                    {"parameters": []})
        params = body.get("parameters") or []
        named = {p.get("parameter_name"): p.get("text", "") for p in params if p.get("parameter_name")}

        def substitute(match: re.Match[str]) -> str:
            key = match.group(1)
            if key.isdigit() and 0 < int(key) <= len(params):
                return str(params[int(key) - 1].get("text", ""))
            return str(named.get(key, match.group(0)))

        return re.sub(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}", substitute, text)
    return ""


def _template_quick_replies(template, content: dict[str, Any]) -> list[dict[str, str]]:
    """The quick-reply buttons of a template as the customer sees them (id = the payload sent back)."""
    payloads = {}
    for component in (content.get("template") or {}).get("components") or []:
        if component.get("type") == "button" and component.get("sub_type") == "quick_reply":
            param = (component.get("parameters") or [{}])[0]
            payloads[int(component.get("index", 0))] = param.get("payload", "")
    buttons = []
    for component in template.components or []:
        if str(component.get("type", "")).upper() == "BUTTONS":
            quick = [b for b in component.get("buttons") or [] if str(b.get("type", "")).upper() == "QUICK_REPLY"]
            for index, button in enumerate(quick):
                buttons.append({"id": payloads.get(index) or button.get("text", ""), "title": button.get("text", "")})
    return buttons


@transaction.atomic
def message_queue_outbound(*, contact: Contact, conversation: Conversation | None, kind: str,
                           content: dict[str, Any], run=None, idempotency_key: str) -> Message:
    """Check WhatsApp's rules, store the message as queued, and deliver it after commit.

    Idempotent: the same ``idempotency_key`` returns the message already queued (a retried
    step never sends twice). Raises :class:`messaging.rules.SendRefused` when a rule refuses.
    """
    existing = Message.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    from messaging.rules import outbound_check

    channel = contact.channel
    template = outbound_check(contact=contact, channel=channel, kind=kind, content=content)
    if conversation is None:
        conversation = conversation_current(contact=contact)
    stored = dict(content)
    preview = _render_preview(kind, content, template)
    if preview:
        stored["rendered_text"] = preview
    if template is not None:
        buttons = _template_quick_replies(template, content)
        if buttons:
            stored["template_buttons"] = buttons
    message = Message.objects.create(
        direction=Message.Direction.OUTBOUND, kind=kind, content=stored, contact=contact,
        conversation=conversation, channel=channel, run=run, idempotency_key=idempotency_key,
        status=Message.Status.QUEUED,
    )
    from messaging.tasks import message_deliver

    transaction.on_commit(lambda: message_deliver.delay(message.pk))
    _sandbox_touch(channel, contact.pk)
    return message


def message_status_advance(*, message: Message, status: str, at: datetime | None = None,
                           error_code: str = "", error: str = "") -> bool:
    """Move a message's status forward (never backwards). Returns whether it changed."""
    if Message.STATUS_RANK.get(status, 0) <= Message.STATUS_RANK.get(message.status, 0):
        return False
    at = at or timezone.now()
    message.status = status
    fields = ["status"]
    stamp = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at"}.get(status)
    if stamp and getattr(message, stamp) is None:
        setattr(message, stamp, at)
        fields.append(stamp)
    if status == Message.Status.FAILED:
        message.error_code, message.error = error_code, error
        fields += ["error_code", "error"]
    message.save(update_fields=fields)
    domain_event_emit(event_type=f"message.{status}", data={"message_id": message.pk, "contact": message.contact.phone})
    return True


# --- Consent --------------------------------------------------------------------------------


def contact_consent_set(*, contact: Contact, categories: list[str] | tuple[str, ...], state: str, source: str,
                        at: datetime | None = None, message_wamid: str = "", actor=None, contact_import=None,
                        note: str = "") -> bool:
    """Record opt-in/opt-out for message categories. Returns whether anything changed.

    Takes effect at once: ``rules.outbound_check`` reads ``Contact.consent`` before every send.
    Each change is also written to the contact's history (:class:`ConsentEvent`), with the inbound
    message that carried it (``message_wamid``), the person (``actor``) or the import.
    """
    from messaging.models import ConsentEvent

    at = at or timezone.now()
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        consent = dict(locked.consent or {})
        changed = []
        for category in categories:
            if (consent.get(category) or {}).get("state") != state:
                consent[category] = {"state": state, "at": at.isoformat(), "source": source}
                changed.append(category)
        if changed:
            locked.consent = consent
            locked.save(update_fields=["consent", "updated_at"])
            contact.consent = consent
            message = (Message.objects.filter(provider_message_id=message_wamid).only("pk").first()
                       if message_wamid else None)
            ConsentEvent.objects.bulk_create([
                ConsentEvent(contact_id=contact.pk, category=category, state=state, source=source[:200],
                             message=message, actor=actor, contact_import=contact_import, note=note[:300], at=at)
                for category in changed])
            verb = "opted_out" if state == Contact.Consent.OPTED_OUT else "opted_in"
            domain_event_emit(event_type=f"contact.{verb}",
                              data={"contact": contact.phone, "categories": list(categories), "source": source})
    return bool(changed)


# --- Channels -------------------------------------------------------------------------------


def channel_create(*, kind: str, name: str, **fields: Any) -> Channel:
    """Create a sandbox or WhatsApp Cloud API channel (secrets are encrypted by the model field)."""
    from messaging.models import SandboxChannel, WhatsAppCloudChannel

    if kind == "sandbox":
        return SandboxChannel.objects.create(name=name)
    if kind != "whatsapp_cloud":
        raise ValueError(f"unknown channel kind {kind!r}")
    allowed = {"phone_number_id", "waba_id", "display_phone_number", "access_token", "app_secret", "verify_token",
               "graph_api_base_url", "graph_api_version", "messages_per_second"}
    values = {key: value for key, value in fields.items() if key in allowed and value not in (None, "")}
    channel = WhatsAppCloudChannel(name=name, **values)
    channel.full_clean()
    channel.save()
    from messaging.tasks import channel_templates_sync

    # The template picker should not wait for the hourly sync.
    transaction.on_commit(lambda: channel_templates_sync.delay(channel.pk))
    return channel


@transaction.atomic
def channel_pause(*, channel: Channel, code: str, reason: str) -> bool:
    """Stop sending from a channel and raise an alert for the admin. Returns False if already paused."""
    from messaging.models import ChannelAlert

    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    if locked.paused_at is not None:
        return False
    now = timezone.now()
    Channel.objects.filter(pk=channel.pk).update(paused_at=now, pause_reason=f"{code}: {reason}"[:2000])
    channel.paused_at, channel.pause_reason = now, f"{code}: {reason}"
    ChannelAlert.objects.create(channel=channel, code=code, message=f"Channel paused: {reason}")
    logger.error("channel %s paused: %s %s", channel.pk, code, reason)
    domain_event_emit(event_type="channel.paused", data={"channel_id": channel.pk, "code": code, "reason": reason})
    return True


def channel_resume(*, channel: Channel) -> int:
    """Resume a paused channel, resolve its alerts and send what waited. Returns messages re-queued."""
    from messaging.models import ChannelAlert
    from messaging.tasks import message_deliver

    with transaction.atomic():
        Channel.objects.filter(pk=channel.pk).update(paused_at=None, pause_reason="")
        channel.paused_at, channel.pause_reason = None, ""
        ChannelAlert.objects.filter(channel=channel, resolved_at__isnull=True).update(resolved_at=timezone.now())
        ids = list(Message.objects.filter(channel=channel, direction=Message.Direction.OUTBOUND,
                                          status=Message.Status.QUEUED).values_list("pk", flat=True))
        Message.objects.filter(pk__in=ids).update(next_attempt_at=None)
        transaction.on_commit(lambda: [message_deliver.delay(pk) for pk in ids])
    return len(ids)


# --- Delivery -------------------------------------------------------------------------------


def retry_delay(*, code: str, attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: exponential with up to 25 % jitter.

    131056 (pair rate limit) follows Meta's advice of 4^n seconds; the rest double from 2 s.
    Capped at one hour.
    """
    attempt = max(1, attempt)
    base = float(4 ** attempt) if code == "131056" else float(2 ** attempt)
    base = min(base, 3600.0)
    return base + random.uniform(0, base * 0.25)


def _sending_lease() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "WHATSAPP_SENDING_LEASE", 300)))


def _max_attempts() -> int:
    return int(getattr(settings, "WHATSAPP_MAX_ATTEMPTS", 8))


def _channel_of(message: Message) -> Channel | None:
    # The polymorphic manager returns the concrete channel (and so its provider and secrets).
    return Channel.objects.filter(pk=message.channel_id).first() if message.channel_id else None


def message_deliver_attempt(*, message_id: int) -> float | None:
    """Try to send one queued outbound message. Returns seconds until it should be tried again, or None.

    Exactly-once as far as Fluxo can make it (docs/whatsapp.md):
      1. claim: in one transaction, a ``queued`` message becomes ``sending`` (attempts + 1, a lease
         in ``next_attempt_at``); a duplicate task finds it not queued and does nothing;
      2. send: the HTTP call happens outside any transaction (no row lock held over the network);
      3. record: in a second transaction the wamid and ``sent`` are stored.
    A worker that dies between 2 and 3 leaves the message ``sending``: Meta's status webhook
    carries our key back (``biz_opaque_callback_data``) and completes it; if none arrives before
    the lease ends, :func:`messages_requeue_stale` sends again: at-least-once in that one window.
    """
    from messaging.providers.base import ProviderError
    from messaging.providers.registry import provider_for
    from messaging.ratelimit import send_slot_wait

    now = timezone.now()
    with transaction.atomic():
        message = (Message.objects.select_for_update().select_related("contact")
                   .filter(pk=message_id, direction=Message.Direction.OUTBOUND).first())
        if message is None or message.status != Message.Status.QUEUED:
            return None
        if message.next_attempt_at and message.next_attempt_at > now + timedelta(seconds=1):
            return None  # a later retry is already scheduled; this is a duplicate task
        channel = _channel_of(message)
        if channel is None:
            message_status_advance(message=message, status=Message.Status.FAILED, error_code="no_channel",
                                   error="the contact has no channel; set one on the contact")
            return None
        if channel.is_paused:
            return None  # kept queued; channel_resume() sends it
        from messaging.rules import SendRefused, send_time_check

        try:
            send_time_check(contact=message.contact, channel=channel, kind=message.kind, content=message.content)
        except SendRefused as exc:
            message_status_advance(message=message, status=Message.Status.FAILED, error_code=exc.code,
                                   error=f"not sent: {exc.message}")
            return None
        wait = send_slot_wait(channel=channel, recipient=message.contact.phone)
        if wait > 0:
            message.next_attempt_at = now + timedelta(seconds=wait)
            message.save(update_fields=["next_attempt_at"])
            return wait
        message.status = Message.Status.SENDING
        message.attempts += 1
        message.next_attempt_at = now + _sending_lease()
        message.save(update_fields=["status", "attempts", "next_attempt_at"])

    try:
        result = provider_for(channel).send(message)
    except ProviderError as exc:
        return _delivery_failed(message_id=message.pk, channel=channel, exc=exc)
    except Exception as exc:  # noqa: BLE001 - a bug must not leave the message claimed forever
        logger.exception("sending message %s failed unexpectedly", message.pk)
        return _delivery_failed(message_id=message.pk, channel=channel,
                                exc=ProviderError(f"internal error: {type(exc).__name__}: {exc}", code="internal"))
    message_record_sent(message_id=message.pk, provider_message_id=result.provider_message_id,
                        delivered=result.status == "delivered")
    _sandbox_touch(channel, message.contact_id)
    return None


def message_record_sent(*, message_id: int, provider_message_id: str, delivered: bool = False) -> None:
    """Store the wamid of a sent message and apply any status Meta reported before we knew it."""
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("contact").get(pk=message_id)
        fields = []
        if not message.provider_message_id:
            message.provider_message_id, fields = provider_message_id, ["provider_message_id"]
        if message.status in (Message.Status.QUEUED, Message.Status.SENDING):
            message.error_code, message.error, message.next_attempt_at = "", "", None
            fields += ["error_code", "error", "next_attempt_at"]
        if fields:
            message.save(update_fields=fields)
        message_status_advance(message=message, status=Message.Status.SENT)
        if delivered:
            message_status_advance(message=message, status=Message.Status.DELIVERED)
    # Statuses that raced ahead of this write were kept as events; apply them now.
    from core.models import InboundEvent
    from messaging.webhooks import status_apply

    for event in InboundEvent.objects.filter(dedupe_key__startswith=f"wa:status:{provider_message_id}:"):
        with transaction.atomic():
            status_apply(channel=_channel_of(message), status=event.raw or {}, replay=True)


def _delivery_failed(*, message_id: int, channel: Channel, exc) -> float | None:
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("contact").get(pk=message_id)
        if message.status != Message.Status.SENDING:
            return None
        message.error_code, message.error = exc.code, exc.message
        if exc.pause_channel:
            # Not this message's fault: it waits, queued, until someone fixes the channel.
            channel_pause(channel=channel, code=exc.code, reason=exc.message)
            message.status, message.next_attempt_at = Message.Status.QUEUED, None
            message.save(update_fields=["status", "next_attempt_at", "error_code", "error"])
            return None
        if exc.retryable and message.attempts < _max_attempts():
            delay = exc.retry_after or retry_delay(code=exc.code, attempt=message.attempts)
            message.status, message.next_attempt_at = Message.Status.QUEUED, now + timedelta(seconds=delay)
            message.save(update_fields=["status", "next_attempt_at", "error_code", "error"])
            logger.warning("message %s: %s; retry %s in %.1fs", message.pk, exc.code, message.attempts, delay)
            return delay
        error = exc.message if not exc.retryable else f"gave up after {message.attempts} attempts: {exc.message}"
        message.next_attempt_at = None
        message.save(update_fields=["next_attempt_at"])
        message_status_advance(message=message, status=Message.Status.FAILED, error_code=exc.code, error=error)
        if exc.code == "131050":
            contact_opt_out_marketing(contact=message.contact, channel=channel, source="error 131050",
                                      dedupe=f"wa:optout:send:{message.pk}")
    return None


def contact_opt_out_marketing(*, contact: Contact, channel: Channel | None, source: str, dedupe: str) -> None:
    """Meta said the user stopped marketing (131050): record it and tell the flows."""
    from core.inbox import event_record

    contact_consent_set(contact=contact, categories=["marketing"], state=Contact.Consent.OPTED_OUT, source=source)
    event_record(kind="opt_out", dedupe_key=dedupe, contact=contact, channel=channel,
                 payload={"type": "opt_out", "categories": ["marketing"], "source": source,
                          "from": contact.phone, "text": ""},
                 occurred_at=timezone.now())


def _lock_acquire(name: str, ttl: int) -> bool:
    """A best-effort lock for periodic jobs (the cache is Redis in production, so it is shared)."""
    return cache.add(f"fluxo:lock:{name}", "1", timeout=ttl)


def messages_requeue_stale(*, grace_seconds: float = 60.0, limit: int = 500) -> int:
    """Queue again what a lost task or a dead worker left behind. Returns the number re-queued.

    * ``queued`` messages nobody picked up for ``grace_seconds`` (lost broker message, crash
      before the on-commit hook ran, or a retry whose countdown task died with its worker);
    * ``sending`` messages whose lease ran out: the worker died mid-send. They go back to
      ``queued`` and are sent again (the documented at-least-once window).
    Paused channels are skipped: resuming them re-queues their messages.
    """
    from messaging.tasks import message_deliver

    if not _lock_acquire("messages-requeue", 30):
        return 0
    now = timezone.now()
    cutoff = now - timedelta(seconds=grace_seconds)
    outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND, channel__paused_at__isnull=True)
    expired = list(outbound.filter(status=Message.Status.SENDING, next_attempt_at__lt=now)
                   .values_list("pk", flat=True)[:limit])
    for pk in expired:
        with transaction.atomic():
            message = Message.objects.select_for_update(skip_locked=True).filter(
                pk=pk, status=Message.Status.SENDING, next_attempt_at__lt=now).first()
            if message is None:
                continue
            message.status, message.next_attempt_at = Message.Status.QUEUED, None
            message.error = "the worker stopped while sending; sending again (at-least-once, see docs/whatsapp.md)"
            message.save(update_fields=["status", "next_attempt_at", "error"])
            logger.warning("message %s: sending lease expired, re-queued", pk)
    stale = list(outbound.filter(status=Message.Status.QUEUED).filter(
        models.Q(next_attempt_at__isnull=True, created_at__lt=cutoff) | models.Q(next_attempt_at__lt=cutoff)
    ).values_list("pk", flat=True)[:limit])
    ids = sorted(set(stale) | set(expired))
    for pk in ids:
        message_deliver.delay(pk)
    return len(ids)


# --- Templates ------------------------------------------------------------------------------


def template_parameter_count(components: list[dict[str, Any]]) -> int:
    from messaging.rules import template_placeholders

    body = next((c for c in components or [] if str(c.get("type", "")).upper() == "BODY"), {})
    return len(template_placeholders(body.get("text", "")))


def templates_sync(*, channel: Channel) -> dict[str, int]:
    """Fetch every template of the channel's WABA (all pages) and upsert by (channel, name, language).

    Templates that disappeared from Meta are marked DISABLED rather than deleted, so old runs and
    messages keep their reference.
    """
    from messaging.models import MessageTemplate
    from messaging.providers.whatsapp_cloud import CloudClient

    if channel.provider_key != "whatsapp_cloud":
        return {"created": 0, "updated": 0, "disabled": 0}
    now = timezone.now()
    created = updated = 0
    seen: set[tuple[str, str]] = set()
    for item in CloudClient.for_channel(channel).templates_all():
        name, language = item.get("name", ""), item.get("language", "")
        if not name or not language:
            continue
        seen.add((name, language))
        status = str(item.get("status", "PENDING")).upper()
        if status not in MessageTemplate.Status.values:
            status = MessageTemplate.Status.PENDING
        category = str(item.get("category", "UTILITY")).upper()
        if category not in MessageTemplate.Category.values:
            category = MessageTemplate.Category.UTILITY
        components = item.get("components") or []
        _, was_created = MessageTemplate.objects.update_or_create(
            channel=channel, name=name, language=language,
            defaults={"provider_template_id": str(item.get("id", "")), "status": status, "category": category,
                      "components": components, "parameter_count": template_parameter_count(components),
                      "synced_at": now},
        )
        created += was_created
        updated += not was_created
    gone = MessageTemplate.objects.filter(channel=channel).exclude(status=MessageTemplate.Status.DISABLED)
    disabled = 0
    for template in gone:
        if (template.name, template.language) not in seen:
            template.status, template.synced_at = MessageTemplate.Status.DISABLED, now
            template.save(update_fields=["status", "synced_at"])
            disabled += 1
    return {"created": created, "updated": updated, "disabled": disabled}


def templates_sync_all() -> dict[str, int]:
    """Periodic job: sync every active Cloud API channel (one lock for all workers)."""
    from messaging.models import WhatsAppCloudChannel
    from messaging.providers.base import ProviderError

    if not _lock_acquire("templates-sync", 300):
        return {}
    totals = {"channels": 0, "errors": 0}
    for channel in WhatsAppCloudChannel.objects.filter(is_active=True, paused_at__isnull=True):
        try:
            templates_sync(channel=channel)
            totals["channels"] += 1
        except ProviderError as exc:
            totals["errors"] += 1
            logger.warning("template sync of channel %s failed: %s", channel.pk, exc.message)
            if exc.pause_channel:
                channel_pause(channel=channel, code=exc.code, reason=exc.message)
    return totals


# --- Sandbox --------------------------------------------------------------------------------


def sandbox_channel_get_or_create(*, name: str = "Sandbox") -> Channel:
    from messaging.models import SandboxChannel

    channel = SandboxChannel.objects.filter(name=name).first()
    return channel or SandboxChannel.objects.create(name=name)


def sandbox_contact_create(*, phone: str, name: str = "", channel: Channel | None = None) -> Contact:
    """A customer to play on the sandbox phone (on the given sandbox channel, or the first one)."""
    from messaging.models import SandboxChannel

    channel = channel or SandboxChannel.objects.order_by("id").first() or sandbox_channel_get_or_create()
    contact, _ = contact_get_or_create(phone=phone, name=name, channel=channel)
    return contact
