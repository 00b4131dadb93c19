"""Inbound WhatsApp webhooks: what an update means (normalization, statuses, templates, consent).

Path of an update (docs/whatsapp.md): ``POST /webhooks/whatsapp/`` → :mod:`messaging.ingest`
checks the signature on the raw bytes and stores a :class:`WebhookDelivery` → 200 → the
``inbound_delivery_process`` task runs :mod:`messaging.inbound`, which locks each sender's contact,
records the message and runs the flows in one transaction, using the functions of this module for
what a message, a status or a template update means. The sandbox phone builds the same Cloud-API
shaped payload and goes through the very same path.
"""

from __future__ import annotations

import json
import logging
import unicodedata
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from core.i18n import run_language
from core.inbox import event_record
from messaging.ingest import (  # noqa: F401  (the webhook's public names, re-exported)
    SANDBOX_PREFIX,
    PayloadTooLarge,
    SignatureInvalid,
    SignatureMissing,
    delivery_store,
    signature_expected,
    signature_matches,
    verify_token_matches,
    webhook_receive,
)
from messaging.models import (
    Channel,
    Contact,
    Message,
    MessageTemplate,
    WebhookDelivery,
    WhatsAppCloudChannel,
)
from messaging.services import (
    channel_pause,
    contact_consent_set,
    contact_opt_out_marketing,
    message_status_advance,
)

logger = logging.getLogger(__name__)

INTERACTIVE_REPLY_TYPES = {"button", "button_reply", "list_reply"}
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
PAUSE_STATUS_CODES = {"190", "368", "131031", "130497"}
STATUS_WAITING = "no message with this wamid yet: applied when it is recorded"


def _ts(raw: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (TypeError, ValueError):
        return timezone.now()


def _fold(text: str) -> str:
    """Case- and accent-insensitive form for keyword matching ("Sair!" == "SAIR")."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text or "") if not unicodedata.combining(c))
    return " ".join("".join(c for c in plain if c.isalnum() or c.isspace()).split()).upper()


def _setting_set(name: str, default: list[str]) -> frozenset[str]:
    return _folded_set(tuple(getattr(settings, name, default)))


@lru_cache(maxsize=64)
def _folded_set(items: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_fold(item) for item in items)


def normalize_message(message: dict[str, Any], *, contact_name: str, phone: str) -> tuple[str, dict[str, Any]]:
    """The event kind and the flows' ``{{trigger.*}}`` payload of one Cloud API message object."""
    mtype = message.get("type", "unknown")
    payload: dict[str, Any] = {
        "type": mtype, "text": "", "reply_id": "", "reply_title": "", "message_id": message.get("id", ""),
        "from": phone, "contact_name": contact_name, "timestamp": _ts(message.get("timestamp")).isoformat(),
    }
    kind = "message"
    if mtype == "text":
        payload["text"] = (message.get("text") or {}).get("body", "")
    elif mtype == "button":  # a template's quick-reply button
        button = message.get("button") or {}
        kind = "interactive_reply"
        payload.update(text=button.get("text", ""), reply_id=button.get("payload", ""),
                       reply_title=button.get("text", ""), reply_kind="quick_reply")
    elif mtype == "interactive":
        interactive = message.get("interactive") or {}
        itype = interactive.get("type", "")
        payload["interactive_type"] = itype
        if itype in ("button_reply", "list_reply"):
            reply = interactive.get(itype) or {}
            kind = "interactive_reply"
            payload.update(text=reply.get("title", ""), reply_id=reply.get("id", ""),
                           reply_title=reply.get("title", ""), reply_kind=itype.replace("_reply", ""))
            if reply.get("description"):
                payload["reply_description"] = reply["description"]
        elif itype == "nfm_reply":
            reply = interactive.get("nfm_reply") or {}
            payload.update(text=reply.get("body", ""), flow_response=reply.get("response_json", ""))
    elif mtype in MEDIA_TYPES:
        media = message.get(mtype) or {}
        payload.update(text=media.get("caption", ""), media_id=media.get("id", ""),
                       mime_type=media.get("mime_type", ""), caption=media.get("caption", ""),
                       sha256=media.get("sha256", ""))
        if media.get("filename"):
            payload["filename"] = media["filename"]
        if "voice" in media:
            payload["voice"] = bool(media["voice"])
        if "animated" in media:
            payload["animated"] = bool(media["animated"])
    elif mtype == "location":
        loc = message.get("location") or {}
        payload.update(latitude=loc.get("latitude"), longitude=loc.get("longitude"), name=loc.get("name", ""),
                       address=loc.get("address", ""), url=loc.get("url", ""),
                       text=loc.get("name") or loc.get("address") or "")
    elif mtype == "contacts":
        shared = message.get("contacts") or []
        payload["contacts"] = shared
        payload["text"] = ", ".join((c.get("name") or {}).get("formatted_name", "") for c in shared)
    elif mtype == "reaction":
        reaction = message.get("reaction") or {}
        payload.update(text=reaction.get("emoji", ""), emoji=reaction.get("emoji", ""),
                       reacted_message_id=reaction.get("message_id", ""))
    elif mtype == "order":
        order = message.get("order") or {}
        payload.update(text=order.get("text", ""), order=order)
    elif mtype == "system":
        system = message.get("system") or {}
        payload.update(text=system.get("body", ""), system=system)
    elif mtype == "unsupported":
        payload["errors"] = message.get("errors") or []
    if message.get("errors") and "errors" not in payload:
        payload["errors"] = message["errors"]
    if message.get("context"):
        payload["context"] = message["context"]
    if message.get("referral"):
        payload["referral"] = message["referral"]
    return kind, payload


def consent_keywords(*, contact: Contact, channel: Channel, payload: dict[str, Any], at: datetime) -> None:
    """Opt-out/opt-in by keyword ("SAIR") or button (reply id/payload), configurable in settings."""
    text = _fold(payload.get("text", ""))
    reply_id = _fold(payload.get("reply_id", ""))
    out_words = _setting_set("WHATSAPP_OPT_OUT_KEYWORDS", ["SAIR", "PARAR", "STOP", "CANCELAR", "DESCADASTRAR"])
    out_buttons = _setting_set("WHATSAPP_OPT_OUT_BUTTON_IDS", ["opt_out", "unsubscribe", "stop promotions"])
    in_words = _setting_set("WHATSAPP_OPT_IN_KEYWORDS", ["QUERO RECEBER", "ACEITO"])
    in_buttons = _setting_set("WHATSAPP_OPT_IN_BUTTON_IDS", ["opt_in"])
    if (text and text in out_words) or (reply_id and reply_id in out_buttons):
        state, kind = Contact.Consent.OPTED_OUT, "opt_out"
        categories = list(getattr(settings, "WHATSAPP_OPT_OUT_CATEGORIES", ["marketing", "utility"]))
    elif (text and text in in_words) or (reply_id and reply_id in in_buttons):
        state, kind = Contact.Consent.OPTED_IN, "opt_in"
        categories = list(getattr(settings, "WHATSAPP_OPT_IN_CATEGORIES", ["marketing", "utility"]))
    else:
        return
    source = f"{'button' if reply_id else 'keyword'} {payload.get('reply_id') or payload.get('text')}"
    contact_consent_set(contact=contact, categories=categories, state=state, source=source, at=at,
                        message_wamid=str(payload.get("message_id", "")))
    event_record(kind=kind, dedupe_key=f"wa:{kind.replace('_', '')}:{payload['message_id']}", contact=contact,
                 channel=channel, payload={**payload, "categories": categories, "source": source}, occurred_at=at)


def status_apply(*, channel: Channel | None, status: dict[str, Any], replay: bool = False) -> None:
    """One status (sent/delivered/read/failed): dedupe by (wamid, status), never move backwards.

    A status for a wamid Fluxo has not recorded yet (the send's own write lost the race, the
    worker died, or the send timed out and is ``uncertain``) is matched by
    ``biz_opaque_callback_data`` (our idempotency key): that confirms the send, and the contact's
    next message goes (``messaging.outbound.message_confirmed``). A status matching no message is
    kept as an event for inspection.
    """
    wamid, state = str(status.get("id", "")), str(status.get("status", ""))
    if not wamid or state not in ("sent", "delivered", "read", "failed"):
        return
    event = None
    if not replay:
        event, created = event_record(kind="status", dedupe_key=f"wa:status:{wamid}:{state}", contact=None,
                                      channel=channel, payload={"type": "status", "status": state,
                                                                "message_id": wamid,
                                                                "recipient": status.get("recipient_id", "")},
                                      raw=status, occurred_at=_ts(status.get("timestamp")))
        if not created:
            return  # the same (wamid, status) again: a no-op
    message = Message.objects.select_for_update().select_related("contact").filter(provider_message_id=wamid).first()
    key = status.get("biz_opaque_callback_data")
    if message is None and key:
        message = Message.objects.select_for_update().select_related("contact").filter(idempotency_key=key).first()
        if message is not None and not message.provider_message_id:
            message.provider_message_id = wamid
            if message.status in Message.UNSETTLED:
                message.next_attempt_at = None
            message.save(update_fields=["provider_message_id", "next_attempt_at"])
    if message is None:
        if event is not None:
            # Ahead of our own record of the send: statuses_reconcile() applies it once the wamid is known.
            type(event).objects.filter(pk=event.pk).update(error=STATUS_WAITING)
        return
    was_unsettled = message.direction == Message.Direction.OUTBOUND and message.status in Message.UNSETTLED
    error_code, error = "", ""
    if state == "failed":
        errors = status.get("errors")
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        error_code = str(first.get("code", ""))
        error_data = first.get("error_data") if isinstance(first.get("error_data"), dict) else {}
        details = str(error_data.get("details") or first.get("message") or first.get("title", ""))
        from messaging.providers.whatsapp_cloud import REASONS

        reason = REASONS.get(int(error_code)) if error_code.isdigit() else None
        error = f"{reason} ({details})" if reason else details
    message_status_advance(message=message, status=state, at=_ts(status.get("timestamp")), error_code=error_code,
                           error=error)
    if was_unsettled and message.status not in Message.UNSETTLED:
        from messaging.outbound import message_confirmed

        message_confirmed(message=message)
    if state == "failed" and error_code == "131050":
        contact_opt_out_marketing(contact=message.contact, channel=channel, source="error 131050",
                                  dedupe=f"wa:optout:{wamid}")
    if state == "failed" and error_code in PAUSE_STATUS_CODES and channel is not None:
        channel_pause(channel=channel, code=error_code, reason=error)


def statuses_reconcile(*, max_age_hours: float = 24.0, limit: int = 1000) -> int:
    """Periodic: apply statuses that arrived before Fluxo recorded the wamid of their message.

    Rare (Meta echoes our idempotency key, which matches the message at once), so this costs
    nothing on the send path. Returns how many statuses were applied.
    """
    from datetime import timedelta

    from core.models import InboundEvent

    since = timezone.now() - timedelta(hours=max_age_hours)
    waiting = list(InboundEvent.objects.filter(kind="status", error=STATUS_WAITING, received_at__gte=since)
                   .order_by("id")[:limit])
    known = set(Message.objects.filter(provider_message_id__in={e.payload.get("message_id") for e in waiting})
                .values_list("provider_message_id", flat=True))
    applied = 0
    for event in waiting:
        if event.payload.get("message_id") not in known:
            continue
        with transaction.atomic():
            status_apply(channel=Channel.objects.filter(pk=event.channel_id).first(), status=event.raw or {},
                         replay=True)
            InboundEvent.objects.filter(pk=event.pk).update(error="applied after its message was recorded")
        applied += 1
    return applied


def template_status_apply(*, waba_id: str, value: dict[str, Any]) -> None:
    """``message_template_status_update``: APPROVED, REJECTED, PAUSED, DISABLED, ... on our copy."""
    event = str(value.get("event", "")).upper()
    status = {"PENDING_DELETION": "DISABLED", "FLAGGED": "PAUSED", "REINSTATED": "APPROVED",
              "DELETED": "DISABLED"}.get(event, event)
    if status not in MessageTemplate.Status.values:
        return
    channels = list(WhatsAppCloudChannel.objects.filter(waba_id=waba_id))
    query = MessageTemplate.objects.filter(channel__in=channels)
    template_id = str(value.get("message_template_id", ""))
    name, language = value.get("message_template_name", ""), value.get("message_template_language", "")
    matched = query.filter(Q(provider_template_id=template_id) if template_id else Q(pk__in=[]))
    if not matched.exists():
        matched = query.filter(name=name, language=language)
    updated = matched.update(status=status, synced_at=timezone.now())
    if status != MessageTemplate.Status.APPROVED and channels:
        # What still waits to use it would be refused by Meta: it fails now, with the reason.
        with run_language():
            error = gettext("not sent: template '%(template)s' (%(language)s) is %(state)s now") % {
                "template": name, "language": language,
                "state": str(MessageTemplate.Status(status).label).lower() if status in MessageTemplate.Status.values
                else status}
        Message.objects.filter(
            channel__in=channels, direction=Message.Direction.OUTBOUND, kind="template",
            status__in=(Message.Status.QUEUED, Message.Status.UNCERTAIN),
            content__template__name=name, content__template__language__code=language,
        ).update(status=Message.Status.FAILED, error_code="template_" + status.lower(), next_attempt_at=None,
                 error=error)
    if not updated and channels and name and language:
        # Not synced yet: keep what we learned; the next sync fills in components.
        MessageTemplate.objects.create(channel=channels[0], name=name, language=language, status=status,
                                       provider_template_id=template_id)


def quality_update_apply(*, waba_id: str, field: str, value: dict[str, Any]) -> int:
    """``phone_number_quality_update`` / ``account_update``: record quality and tier on the channel;
    FLAGGED (or a restriction or violation of the account) pauses its running campaigns, with an
    alert. Returns how many campaigns were paused."""
    from messaging.campaigns.services import channel_quality_record

    digits = "".join(ch for ch in str(value.get("display_phone_number") or value.get("phone_number") or "")
                     if ch.isdigit())
    channels = [c for c in WhatsAppCloudChannel.objects.filter(waba_id=waba_id)
                if not digits or "".join(ch for ch in c.display_phone_number if ch.isdigit()) == digits]
    event = str(value.get("event", "")).upper()
    if field == "account_update":
        flagged = event in ("ACCOUNT_VIOLATION", "ACCOUNT_RESTRICTION", "DISABLED_UPDATE", "ACCOUNT_DELETED")
        event = "FLAGGED" if flagged else event
        tier = ""
    else:
        tier = str(value.get("current_limit") or "")
    quality = "RED" if event == "FLAGGED" else ("GREEN" if event == "UNFLAGGED" else "")
    paused = 0
    for channel in channels:
        paused += channel_quality_record(channel=channel, quality=quality, tier=tier, event=event,
                                         source=f"{field} {event}".strip())
    return paused


def group_update_store(*, entry: dict[str, Any], field: str, value: dict[str, Any]) -> None:
    """Group updates are stored (as contact-less events, ignored by flows) and nothing more."""
    for group in value.get("groups") or [{}]:
        key = ":".join(str(group.get(k, "")) for k in ("group_id", "type", "request_id", "timestamp"))
        event_record(kind="system", dedupe_key=f"wa:group:{field}:{key}", contact=None, channel=None,
                     payload={"type": "group", "field": field, "group_id": group.get("group_id", ""),
                              "update": group.get("type", "")},
                     raw=group, occurred_at=_ts(group.get("timestamp")))


# --- Sandbox --------------------------------------------------------------------------------


def sandbox_payload(*, channel: Channel, contact: Contact, message: dict[str, Any]) -> dict[str, Any]:
    """A Cloud-API-shaped webhook payload for one message the sandbox phone sent."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": f"{SANDBOX_PREFIX}{channel.pk}", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "sandbox", "phone_number_id": f"{SANDBOX_PREFIX}{channel.pk}"},
            "contacts": [{"profile": {"name": contact.name}, "wa_id": contact.phone.lstrip("+")}],
            "messages": [message],
        }}]}],
    }


def sandbox_inbound_submit(*, contact: Contact, text: str = "", reply_id: str = "", reply_title: str = "",
                           reply_kind: str = "", context_message_id: str = "") -> WebhookDelivery:
    """The person on the sandbox page typed or tapped something: deliver it like Meta would.

    ``reply_kind`` is ``button`` (reply button), ``list`` (list row) or ``quick_reply`` (template
    button). Stored as a WebhookDelivery and processed by the same task as real webhooks.
    """
    channel = Channel.objects.filter(pk=contact.channel_id).first()
    if channel is None or channel.provider_key != "sandbox":
        raise ValueError("only contacts on a sandbox channel can use the sandbox phone")
    message: dict[str, Any] = {"from": contact.phone.lstrip("+"), "id": f"wamid.sandbox.{uuid.uuid4().hex}",
                               "timestamp": str(int(timezone.now().timestamp()))}
    if reply_kind == "quick_reply":
        message.update(type="button", button={"payload": reply_id, "text": reply_title})
    elif reply_kind in ("button", "list"):
        key = f"{reply_kind}_reply"
        message.update(type="interactive", interactive={"type": key, key: {"id": reply_id, "title": reply_title}})
    else:
        text = (text or "").strip()
        if not text:
            raise ValueError("type a message")
        message.update(type="text", text={"body": text[:4096]})
    if context_message_id:
        message["context"] = {"from": "sandbox", "id": context_message_id}
    body = json.dumps(sandbox_payload(channel=channel, contact=contact, message=message))
    return delivery_store(source="sandbox", body=body, signature="", channel_id=channel.pk,
                          state=WebhookDelivery.State.PENDING, sender=message["from"])


def sandbox_media_submit(*, contact: Contact, upload, caption: str = "") -> WebhookDelivery:
    """The person sent a file as the customer: stored at once (no Graph API to download it from), then
    delivered like Meta's media webhook, through the same inbound path (the message links the file)."""
    from messaging.media import media_library_create
    from messaging.models import MediaFile

    channel = Channel.objects.filter(pk=contact.channel_id).first()
    if channel is None or channel.provider_key != "sandbox":
        raise ValueError("only contacts on a sandbox channel can use the sandbox phone")
    media = media_library_create(upload=upload, direction=MediaFile.Direction.INBOUND, channel=channel,
                                 provider_media_id=f"sandbox.{uuid.uuid4().hex}", caption=caption[:1024])
    item: dict[str, Any] = {"id": media.provider_media_id, "mime_type": media.mime_type, "sha256": media.sha256}
    if caption and media.kind in ("image", "video", "document"):
        item["caption"] = caption[:1024]
    if media.kind == "document":
        item["filename"] = media.filename
    message: dict[str, Any] = {"from": contact.phone.lstrip("+"), "id": f"wamid.sandbox.{uuid.uuid4().hex}",
                               "timestamp": str(int(timezone.now().timestamp())), "type": media.kind,
                               media.kind: item}
    body = json.dumps(sandbox_payload(channel=channel, contact=contact, message=message))
    return delivery_store(source="sandbox", body=body, signature="", channel_id=channel.pk,
                          state=WebhookDelivery.State.PENDING, sender=message["from"])


def webhook_deliveries_requeue_stale(*, grace_seconds: float = 60.0, limit: int = 200) -> int:
    """Queue again deliveries stored but never processed (the task was lost, the worker died)."""
    from datetime import timedelta

    from messaging.services import _lock_acquire
    from messaging.tasks import inbound_delivery_process as task

    if not _lock_acquire("webhooks-requeue", 30):
        return 0
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    # Pending only: a failed delivery was parked on purpose (poison input), an operator reprocesses it.
    rows = list(WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING, received_at__lt=cutoff)
                .order_by("id").values_list("pk", "sender")[:limit])
    for pk, sender in rows:
        task.delay(pk, sender)
    return len(rows)


def webhook_deliveries_prune(*, days: float | None = None) -> int:
    """Delete processed deliveries older than ``WHATSAPP_WEBHOOK_RETENTION_DAYS`` (the events they
    produced stay). Failed, unknown-channel and unreadable ones are kept for inspection."""
    from datetime import timedelta

    days = float(days if days is not None else getattr(settings, "WHATSAPP_WEBHOOK_RETENTION_DAYS", 30))
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = WebhookDelivery.objects.filter(state=WebhookDelivery.State.PROCESSED, received_at__lt=cutoff).delete()
    return deleted


def webhook_delivery_process(*, delivery_id: int, careful: bool = False) -> int:
    """Process one stored delivery now (tests, the admin's reprocess action). See :mod:`messaging.inbound`."""
    from messaging.inbound import delivery_process

    return delivery_process(delivery_id=delivery_id, careful=careful)
