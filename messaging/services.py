"""Writes of the messaging app: contacts, conversations, inbound and outbound messages."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from flows.signals import domain_event_emit
from messaging.models import Channel, Contact, Conversation, Message
from messaging.phones import phone_from_wa_id, phone_normalize


def contact_get_or_create(*, phone: str, name: str = "", channel: Channel | None = None,
                          is_test: bool = False, verified: bool = False) -> tuple[Contact, bool]:
    """Find the contact by phone (normalized to E.164; raises InvalidPhone) or create it.

    ``verified=True`` is for numbers WhatsApp itself vouched for (a webhook's ``wa_id``): those
    are kept even when ``phonenumbers`` does not know the range yet.
    """
    e164 = phone_from_wa_id(phone) if verified else phone_normalize(phone)
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

    Returns ``(conversation, started)``.
    """
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


@transaction.atomic
def message_queue_outbound(*, contact: Contact, conversation: Conversation | None, kind: str,
                           content: dict[str, Any], run=None, idempotency_key: str) -> Message:
    """Check WhatsApp's rules, store the message as queued, and deliver it after commit.

    Idempotent: the same ``idempotency_key`` returns the message already queued (a retried
    step never sends twice). Raises :class:`flows.nodes.base.StepError` when a rule refuses.
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
    message = Message.objects.create(
        direction=Message.Direction.OUTBOUND, kind=kind, content=stored, contact=contact,
        conversation=conversation, channel=channel, run=run, idempotency_key=idempotency_key,
        status=Message.Status.QUEUED,
    )
    from messaging.tasks import message_deliver

    transaction.on_commit(lambda: message_deliver.delay(message.pk))
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
