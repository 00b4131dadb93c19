"""Writes of the messaging app: contacts, conversations, inbound and outbound messages."""

from __future__ import annotations

import logging
import random
import re
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.i18n import run_language
from core.signals import domain_event_emit
from messaging.models import Channel, Contact, Conversation, Message
from messaging.phones import phone_from_wa_id, phone_normalize

logger = logging.getLogger(__name__)


def sandbox_touch(channel: Channel | None, contact_id: int) -> None:
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


def message_queue_outbound(*, contact: Contact, conversation: Conversation | int | None, kind: str,
                           content: dict[str, Any], run=None, idempotency_key: str) -> Message:
    """Check WhatsApp's rules, store the message as queued, and send it after commit.

    Inside a unit of work (``core.unit``: the flow engine's) the row is written with the unit's
    other rows at its end, and only a contact's first message of the unit queues a send task:
    the ones after it follow the sender's chain. Outside one, it is written at once, and the same
    ``idempotency_key`` returns the message already queued (a repeated call never sends twice);
    inside one the unique key is the guard, since a unit's rows commit or roll back together.
    Raises :class:`messaging.rules.SendRefused` when a rule refuses.
    """
    from core.unit import current
    from messaging.rules import outbound_check

    unit = current()
    if unit is None:
        existing = Message.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    channel = contact.channel if contact.channel_id else None
    if channel is not None and not getattr(channel, "provider_key", ""):
        from messaging.channel_cache import channel_get

        channel = channel_get(contact.channel_id)  # the concrete (polymorphic) channel
    template = outbound_check(contact=contact, channel=channel, kind=kind, content=content)
    if isinstance(conversation, Conversation):
        conversation = conversation.pk
    if conversation is None:
        conversation = contact.current_conversation_id
    if conversation is None:
        current_one = conversation_current(contact=contact)
        conversation = current_one.pk if current_one else None
    stored = dict(content)
    preview = _render_preview(kind, content, template)
    if preview:
        stored["rendered_text"] = preview
    if template is not None:
        stored["template_category"] = template.category.lower()  # an opt-out of that category stops it
        buttons = _template_quick_replies(template, content)
        if buttons:
            stored["template_buttons"] = buttons
    from messaging.media import content_fetch_links, message_media_prepare_queue

    # A file named by a link (send_media, "Fluxo downloads it") is fetched first, by a task on the
    # calls queue: the message waits as ``preparing`` and holds its contact's queue meanwhile.
    preparing = bool(content_fetch_links(stored))
    message = Message(
        direction=Message.Direction.OUTBOUND, kind=kind, content=stored, contact=contact,
        conversation_id=conversation,
        channel_id=channel.pk if channel is not None else None, run=run, idempotency_key=idempotency_key,
        status=Message.Status.PREPARING if preparing else Message.Status.QUEUED,
        next_attempt_at=timezone.now() if preparing else None,
    )
    from messaging.outbound import outbound_kick

    if unit is None:
        with transaction.atomic():
            message.save(force_insert=True)
            if preparing:
                message_media_prepare_queue(message)  # it kicks the drain once the file is ready
            else:
                outbound_kick(contact.pk)
    else:
        unit.add(message)
        if _unit_first_outbound(unit, contact.pk) and contact.pk not in getattr(unit, "_outbound_waiting", ()):
            outbound_kick(contact.pk)  # the contact's shard drain sends it (and the ones after it) after commit
        if preparing:
            unit.after_flush(lambda: message_media_prepare_queue(message))  # its id is known after the flush
    sandbox_touch(channel, contact.pk)
    return message


def _unit_first_outbound(unit, contact_id: int) -> bool:
    """Whether this unit of work has not queued a message to this contact before (remembered on the unit)."""
    seen = getattr(unit, "_outbound_contacts", None)
    if seen is None:
        seen = unit._outbound_contacts = set()
    if contact_id in seen:
        return False
    seen.add(contact_id)
    return True


# The moment of each delivery status, in order: a later status implies the earlier ones.
_STATUS_STAMPS = (("sent", "sent_at"), ("delivered", "delivered_at"), ("read", "read_at"))


def message_status_advance(*, message: Message, status: str, at: datetime | None = None,
                           error_code: str = "", error: str = "") -> bool:
    """Move a message's status forward (never backwards). Returns whether it changed.

    Meta does not promise the order of status webhooks: "read" may come before "delivered", or
    alone. A read message was delivered (and sent), so the moments not yet known are back-filled
    with this one; the lower status arriving later still corrects its own moment to the earlier,
    true one (the status stays).
    """
    at = at or timezone.now()
    stamps = dict(_STATUS_STAMPS)
    if Message.STATUS_RANK.get(status, 0) <= Message.STATUS_RANK.get(message.status, 0):
        stamp = stamps.get(status)
        if stamp and message.status in stamps and (getattr(message, stamp) is None or at < getattr(message, stamp)):
            setattr(message, stamp, at)
            message.save(update_fields=[stamp])
        return False
    message.status = status
    fields = ["status"]
    if status in stamps:
        rank = Message.STATUS_RANK[status]
        for earlier, stamp in _STATUS_STAMPS:
            if Message.STATUS_RANK[earlier] <= rank and getattr(message, stamp) is None:
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
            if state == Contact.Consent.OPTED_OUT:
                _queued_templates_refuse(contact_id=contact.pk, categories=list(categories), source=source)
            verb = "opted_out" if state == Contact.Consent.OPTED_OUT else "opted_in"
            domain_event_emit(event_type=f"contact.{verb}",
                              data={"contact": contact.phone, "categories": list(categories), "source": source})
    return bool(changed)


def _queued_templates_refuse(*, contact_id: int, categories: list[str], source: str) -> int:
    """An opt-out takes effect on what still waits to be sent too: those templates fail, with the reason."""
    with run_language():  # stored on the messages: the installation's language, whoever opted them out
        error = gettext("not sent: the contact opted out of %(categories)s messages (%(source)s)") % {
            "categories": ", ".join(categories), "source": source}
    return Message.objects.filter(
        contact_id=contact_id, direction=Message.Direction.OUTBOUND, kind="template",
        status__in=(Message.Status.QUEUED, Message.Status.UNCERTAIN),
        content__template_category__in=[c.lower() for c in categories],
    ).update(status=Message.Status.FAILED, error_code="opted_out", next_attempt_at=None,
             error=error[:2000])


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
    from messaging.channel_cache import channels_forget

    transaction.on_commit(channels_forget)
    ChannelAlert.objects.create(channel=channel, code=code, message=f"Channel paused: {reason}")
    logger.error("channel %s paused: %s %s", channel.pk, code, reason)
    domain_event_emit(event_type="channel.paused", data={"channel_id": channel.pk, "code": code, "reason": reason})
    return True


def channel_resume(*, channel: Channel) -> int:
    """Resume a paused channel, resolve its alerts and send what waited. Returns the contacts re-queued.

    Only each contact's first waiting message gets a task: the rest follow in order (the sender's chain).
    """
    from django.db.models import Exists, OuterRef

    from messaging.channel_cache import channels_forget
    from messaging.models import ChannelAlert
    from messaging.outbound import outbound_kick

    with transaction.atomic():
        Channel.objects.filter(pk=channel.pk).update(paused_at=None, pause_reason="")
        channel.paused_at, channel.pause_reason = None, ""
        ChannelAlert.objects.filter(channel=channel, resolved_at__isnull=True).update(resolved_at=timezone.now())
        waiting = Message.objects.filter(channel=channel, direction=Message.Direction.OUTBOUND,
                                         status=Message.Status.QUEUED)
        waiting.update(next_attempt_at=None)
        earlier = Message.objects.filter(contact_id=OuterRef("contact_id"), direction=Message.Direction.OUTBOUND,
                                         status__in=Message.UNSETTLED, pk__lt=OuterRef("pk"))
        heads = list(waiting.filter(~Exists(earlier)).values_list("contact_id", flat=True))
        transaction.on_commit(channels_forget)
        for contact_id in sorted(set(heads)):
            outbound_kick(contact_id)
    return len(heads)


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


def message_record_sent(*, message_id: int, provider_message_id: str, delivered: bool = False) -> None:
    """Record that a message was sent with this wamid (what the sender does after the Graph API's answer)."""
    from messaging.channel_cache import channel_get
    from messaging.outbound import message_record_sent as record

    message = Message.objects.select_related("contact").get(pk=message_id)
    record(message=message, provider_message_id=provider_message_id, delivered=delivered,
           channel=channel_get(message.channel_id))


def message_deliver_attempt(*, message_id: int) -> None:
    """Send this message if it heads its contact's queue (then its next ones). See :mod:`messaging.outbound`."""
    from messaging.outbound import message_send

    message_send(message_id=message_id)


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
    """Periodic: re-queue the heads of contacts' queues that a lost task or a dead worker left behind."""
    from messaging.outbound import messages_requeue_stale as requeue

    if not _lock_acquire("messages-requeue", 30):
        return 0
    return requeue(grace_seconds=grace_seconds, limit=limit)


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


# --- Read receipts and the typing indicator ---------------------------------------------------


READ_RECEIPT_EVENTS = ("message", "interactive_reply", "conversation_started", "opt_in", "opt_out")


def read_receipt_queue(*, channel_id: int | None, message_id: str) -> None:
    """An inbound message was handled by a flow: mark it read on WhatsApp after commit (queue ``calls``).

    Only Cloud API channels with ``read_receipts`` on; the request itself goes from the task, never
    under the contact's lock or inside the transaction.
    """
    from messaging.channel_cache import channel_get

    channel = channel_get(channel_id)
    if (channel is None or channel.provider_key != "whatsapp_cloud" or not getattr(channel, "read_receipts", True)
            or not message_id or message_id.startswith("wamid.sandbox.")):
        return
    from core.unit import current

    unit = current()
    pending = getattr(unit, "_read_receipts", None) if unit is not None else None
    if pending is None:
        # One task per channel for the whole unit of work (a batch of deliveries), not one per
        # message: publishing a Celery message cost the inbound worker about as much as running
        # the flow. The unit forgets the list when it is discarded (a savepoint rolled back).
        pending = {}
        if unit is not None:
            unit._read_receipts = pending
        transaction.on_commit(lambda: _read_receipts_queue(pending))
    pending.setdefault(channel.pk, []).append(message_id)


def _read_receipts_queue(pending: dict[int, list[str]]) -> None:
    from messaging.tasks import read_receipts_send

    for channel_id, message_ids in pending.items():
        if message_ids:
            read_receipts_send.delay(channel_id, message_ids)


def read_receipt_send(*, channel_id: int, message_id: str, typing: bool = False) -> bool:
    """``POST /messages`` with ``status: read`` (and the typing indicator). Best effort: a failure is
    logged, never retried into a storm (a receipt matters only for a moment). Returns whether it went."""
    from messaging.channel_cache import channel_get
    from messaging.providers.base import ProviderError
    from messaging.providers.whatsapp_cloud import CloudClient

    channel = channel_get(channel_id)
    if channel is None or channel.provider_key != "whatsapp_cloud" or channel.is_paused:
        return False
    try:
        CloudClient.for_channel(channel).mark_read(message_id, typing=typing)
    except ProviderError as exc:
        logger.info("read receipt for %s not sent: %s", message_id, exc.message)
        return False
    return True


def read_receipts_send_many(*, channel_id: int, message_ids: list[str]) -> int:
    """Mark several inbound messages read on one channel, over one kept-alive connection. Returns how many went."""
    return sum(read_receipt_send(channel_id=channel_id, message_id=message_id) for message_id in message_ids)


def typing_indicator_show(*, contact_id: int) -> bool:
    """While an AI reply is being prepared: show "typing…" on the contact's last message (channel setting
    ``typing_indicator``; it also marks that message read). Network I/O: outside any transaction."""
    from messaging.channel_cache import channel_get

    row = (Message.objects.filter(contact_id=contact_id, direction=Message.Direction.INBOUND)
           .order_by("-id").values_list("channel_id", "provider_message_id").first())
    if row is None or not row[1]:
        return False
    channel = channel_get(row[0])
    if channel is None or channel.provider_key != "whatsapp_cloud" or not getattr(channel, "typing_indicator", False):
        return False
    return read_receipt_send(channel_id=channel.pk, message_id=row[1], typing=True)
