"""Inbound WhatsApp webhooks: signature check, store-first receive, and normalization into events.

Path of an update (docs/whatsapp.md):
  POST /webhooks/whatsapp/ → :func:`webhook_receive` checks ``X-Hub-Signature-256`` and stores the
  raw body as a :class:`WebhookDelivery` → 200 → the ``webhook_delivery_process`` task runs
  :func:`webhook_delivery_process`, which walks every entry/change and turns each message into
  an ``InboundEvent`` (``core.inbox.event_record``), each status into a Message update and
  each template status into a template update. The sandbox phone builds the same Cloud-API
  shaped payload and goes through the very same functions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.inbox import event_record
from messaging.models import (
    Channel,
    Contact,
    Message,
    MessageTemplate,
    SandboxChannel,
    WebhookDelivery,
    WhatsAppCloudChannel,
)
from messaging.phones import InvalidPhone
from messaging.services import (
    channel_pause,
    contact_consent_set,
    contact_get_or_create,
    contact_opt_out_marketing,
    message_record_inbound,
    message_status_advance,
)

logger = logging.getLogger(__name__)

SANDBOX_PREFIX = "sandbox-"
INTERACTIVE_REPLY_TYPES = {"button", "button_reply", "list_reply"}
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
GROUP_FIELDS_PREFIX = "group_"
PAUSE_STATUS_CODES = {"190", "368", "131031", "130497"}


class SignatureMissing(Exception):
    pass


class SignatureInvalid(Exception):
    pass


# --- Signature and receive ------------------------------------------------------------------


def signature_expected(body: bytes, secret: str) -> str:
    """``sha256=<hex>`` of the raw bytes: Meta escapes non-ASCII as \\uXXXX and signs what it sent."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, header: str, secret: str) -> bool:
    return bool(secret) and hmac.compare_digest(signature_expected(body, secret).encode(), header.strip().encode())


def _ids_in(payload: Any) -> tuple[set[str], set[str]]:
    """Phone number ids (``metadata.phone_number_id``) and WABA ids (``entry.id``) named by a payload."""
    phone_ids: set[str] = set()
    waba_ids: set[str] = set()
    if not isinstance(payload, dict):
        return phone_ids, waba_ids
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        if entry.get("id"):
            waba_ids.add(str(entry["id"]))
        for change in entry.get("changes") or []:
            value = (change or {}).get("value") if isinstance(change, dict) else None
            phone_id = ((value or {}).get("metadata") or {}).get("phone_number_id") if isinstance(value, dict) else None
            if phone_id:
                phone_ids.add(str(phone_id))
    return phone_ids, waba_ids


def verify_token_matches(token: str) -> bool:
    """Whether ``hub.verify_token`` is a channel's verify token (or WHATSAPP_VERIFY_TOKEN). Constant-time."""
    if not token:
        return False
    candidates = list(WhatsAppCloudChannel.objects.exclude(verify_token="").values_list("verify_token", flat=True))
    if getattr(settings, "WHATSAPP_VERIFY_TOKEN", ""):
        candidates.append(settings.WHATSAPP_VERIFY_TOKEN)
    found = False
    for candidate in candidates:
        found |= hmac.compare_digest(candidate.encode(), token.encode())
    return found


def webhook_receive(*, body: bytes, signature: str | None) -> WebhookDelivery:
    """Authenticate and store one POST from Meta; queue its processing after commit.

    The key is the app secret of the channel owning ``metadata.phone_number_id`` (or, for
    WABA-level updates such as template statuses, the channel of ``entry.id``). When the payload
    names no known channel or cannot be parsed, the secrets of every Cloud API channel (and
    ``WHATSAPP_APP_SECRET``) are tried: one Meta app serves many numbers, and a validly signed
    update we cannot place is kept for inspection instead of lost.

    Raises :class:`SignatureMissing` (→ 401) or :class:`SignatureInvalid` (→ 403).
    """
    if not signature:
        raise SignatureMissing()
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    phone_ids, waba_ids = _ids_in(payload)
    candidates = list(WhatsAppCloudChannel.objects.filter(Q(phone_number_id__in=phone_ids) | Q(waba_id__in=waba_ids)))
    # The channel a delivery belongs to: the owner of its phone number id; WABA-level updates
    # (template statuses) carry no phone number id and belong to the WABA's channel.
    owners = [c for c in candidates if c.phone_number_id in phone_ids] or ([] if phone_ids else candidates)
    if any(pid.startswith(SANDBOX_PREFIX) for pid in phone_ids) and not owners:
        raise SignatureInvalid()  # sandbox payloads never come over HTTP
    secret_ok = any(signature_matches(body, signature, channel.app_secret) for channel in candidates)
    if not secret_ok:
        extra = [ch.app_secret for ch in WhatsAppCloudChannel.objects.exclude(pk__in=[c.pk for c in candidates])]
        extra.append(getattr(settings, "WHATSAPP_APP_SECRET", ""))
        secret_ok = any(signature_matches(body, signature, secret) for secret in extra if secret)
    matched: Channel | None = owners[0] if owners else None
    if not secret_ok:
        logger.warning("webhook with a wrong signature refused (%d bytes, phone ids %s)", len(body), sorted(phone_ids))
        raise SignatureInvalid()
    if payload is None or not isinstance(payload, dict):
        state, error = WebhookDelivery.State.UNREADABLE, "body is not a JSON object"
    elif matched is None:
        state, error = WebhookDelivery.State.UNKNOWN_CHANNEL, f"no channel owns phone number ids {sorted(phone_ids)}"
    else:
        state, error = WebhookDelivery.State.PENDING, ""
    if error:
        logger.warning("webhook kept for inspection: %s", error)
    return _delivery_store(source="meta", body=body.decode("utf-8", errors="replace"), signature=signature[:100],
                           channel=matched, state=state, error=error)


def _delivery_store(*, source: str, body: str, signature: str, channel: Channel | None, state: str,
                    error: str = "") -> WebhookDelivery:
    from messaging.tasks import webhook_delivery_process as task

    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(source=source, body=body, signature=signature, channel=channel,
                                                  state=state, error=error)
        if state == WebhookDelivery.State.PENDING:
            transaction.on_commit(lambda: task.delay(delivery.pk))
    return delivery


# --- Processing -----------------------------------------------------------------------------


def webhook_delivery_process(*, delivery_id: int) -> dict[str, int] | None:
    """Turn one stored delivery into events and updates. Idempotent: every item is deduped.

    The whole batch is handled under the delivery's row lock; each item runs in its own
    savepoint so one bad item does not lose the others. If any item failed, the delivery is
    marked failed and the exception re-raised (the task retries; done items are no-ops then).
    """
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id).first()
        if delivery is None or delivery.state in (WebhookDelivery.State.PROCESSED,
                                                  WebhookDelivery.State.UNKNOWN_CHANNEL,
                                                  WebhookDelivery.State.UNREADABLE):
            return None
        delivery.attempts += 1
        try:
            payload = json.loads(delivery.body)
        except ValueError:
            delivery.state, delivery.error = WebhookDelivery.State.UNREADABLE, "body is not JSON"
            delivery.save(update_fields=["state", "error", "attempts"])
            return None
        summary, errors = payload_process(payload)
        delivery.summary = summary
        delivery.processed_at = timezone.now()
        if errors:
            delivery.state, delivery.error = WebhookDelivery.State.FAILED, "\n".join(errors)[:10000]
        elif summary.get("unknown_channel") and not summary.get("items"):
            delivery.state = WebhookDelivery.State.UNKNOWN_CHANNEL
            delivery.error = "no channel owns this phone number id"
        elif summary.get("malformed") and not summary.get("items"):
            delivery.state = WebhookDelivery.State.UNREADABLE
            delivery.error = "no entry/changes of the Cloud API shape in this payload"
        else:
            delivery.state, delivery.error = WebhookDelivery.State.PROCESSED, ""
        delivery.save(update_fields=["state", "error", "attempts", "summary", "processed_at"])
    if errors:
        raise RuntimeError(f"delivery {delivery_id}: {len(errors)} item(s) failed: {errors[0]}")
    return summary


def _channel_for_phone_id(phone_id: str, cache: dict[str, Channel | None]) -> Channel | None:
    if phone_id not in cache:
        channel: Channel | None = None
        if phone_id.startswith(SANDBOX_PREFIX):
            pk = phone_id[len(SANDBOX_PREFIX):]
            channel = SandboxChannel.objects.filter(pk=pk).first() if pk.isdigit() else None
        else:
            channel = WhatsAppCloudChannel.objects.filter(phone_number_id=phone_id).first()
        cache[phone_id] = channel
    return cache[phone_id]


def _dicts(items: Any, count=None) -> list[dict[str, Any]]:
    """The objects of a list from the payload; anything else is counted as malformed and skipped."""
    items = items if isinstance(items, list) else ([] if items is None else [items])
    good = [item for item in items if isinstance(item, dict)]
    if count is not None and len(good) != len(items):
        count("malformed", len(items) - len(good))
    return good


def payload_process(payload: dict[str, Any]) -> tuple[dict[str, int], list[str]]:
    """Walk every entry and change of one webhook payload. Returns (counts, item errors)."""
    summary: dict[str, int] = {}
    errors: list[str] = []
    channels: dict[str, Channel | None] = {}

    def count(key: str, n: int = 1) -> None:
        summary[key] = summary.get(key, 0) + n

    def run(label: str, function, *args, **kwargs) -> None:
        try:
            with transaction.atomic():
                function(*args, **kwargs)
            count("items")
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery, retried by the task
            logger.exception("webhook item %s failed", label)
            errors.append(f"{label}: {type(exc).__name__}: {exc}")

    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else [entries] if entries else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            count("malformed")
            continue
        for change in changes:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                count("malformed")
                continue
            field = str(change.get("field", ""))
            if field == "messages":
                phone_id = str((value.get("metadata") or {}).get("phone_number_id", ""))
                channel = _channel_for_phone_id(phone_id, channels)
                if channel is None:
                    count("unknown_channel")
                    continue
                names = {str(c.get("wa_id")): ((c.get("profile") or {}).get("name") or "")
                         for c in _dicts(value.get("contacts"))}
                for message in _dicts(value.get("messages"), count):
                    count(f"message:{message.get('type', '?')}")
                    run(f"message {message.get('id')}", inbound_message_process, channel=channel, message=message,
                        names=names)
                for status in _dicts(value.get("statuses"), count):
                    count(f"status:{status.get('status', '?')}")
                    run(f"status {status.get('id')}:{status.get('status')}", status_apply, channel=channel,
                        status=status)
                for error in value.get("errors") or []:
                    count("error")
                    logger.warning("WhatsApp reported an error for channel %s: %s", channel.pk, error)
            elif field == "message_template_status_update":
                count("template_status")
                run(f"template {value.get('message_template_name')}", template_status_apply,
                    waba_id=str(entry.get("id", "")), value=value)
            elif field.startswith(GROUP_FIELDS_PREFIX):
                count("group")
                run("group update", group_update_store, entry=entry, field=field, value=value)
            else:
                count(f"ignored:{field}")
    return summary, errors


def _ts(raw: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (TypeError, ValueError):
        return timezone.now()


def _fold(text: str) -> str:
    """Case- and accent-insensitive form for keyword matching ("Sair!" == "SAIR")."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text or "") if not unicodedata.combining(c))
    return " ".join("".join(c for c in plain if c.isalnum() or c.isspace()).split()).upper()


def _setting_set(name: str, default: list[str]) -> set[str]:
    return {_fold(item) for item in getattr(settings, name, default)}


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


def inbound_message_process(*, channel: Channel, message: dict[str, Any], names: dict[str, str]) -> None:
    """One inbound message: contact, stored Message, 24-h window, consent keywords, and the flow event."""
    wamid = str(message.get("id", ""))
    sender = str(message.get("from", ""))
    if not wamid or not sender:
        raise ValueError("message without id or from")
    try:
        contact, _ = contact_get_or_create(phone=sender, name=names.get(sender, ""), channel=channel, verified=True)
    except InvalidPhone as exc:
        raise ValueError(f"sender {sender!r}: {exc}") from exc
    at = _ts(message.get("timestamp"))
    kind, payload = normalize_message(message, contact_name=names.get(sender, "") or contact.name,
                                      phone=contact.phone)
    stored, started = message_record_inbound(contact=contact, channel=channel, kind=payload["type"],
                                             content=message, provider_message_id=wamid, at=at)
    payload["conversation_started"] = started
    if stored.conversation_id:
        payload["conversation_id"] = stored.conversation_id
    payload["channel_id"] = channel.pk
    _consent_keywords(contact=contact, channel=channel, payload=payload, at=at)
    event_record(kind=kind, dedupe_key=f"wa:msg:{wamid}", contact=contact, channel=channel, payload=payload,
                 raw=message, occurred_at=at)
    if channel.provider_key == "sandbox":
        from messaging.consumers import sandbox_notify

        sandbox_notify(contact.pk)


def _consent_keywords(*, contact: Contact, channel: Channel, payload: dict[str, Any], at: datetime) -> None:
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

    A status for a wamid Fluxo has not recorded yet (the send's own write lost the race, or the
    worker died) is matched by ``biz_opaque_callback_data`` (our idempotency key); failing that it
    is kept as an event and applied when the wamid is recorded (:func:`message_record_sent`).
    """
    wamid, state = str(status.get("id", "")), str(status.get("status", ""))
    if not wamid or state not in ("sent", "delivered", "read", "failed"):
        return
    if not replay:
        _, created = event_record(kind="status", dedupe_key=f"wa:status:{wamid}:{state}", contact=None,
                                  channel=channel, payload={"type": "status", "status": state, "message_id": wamid,
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
            if message.status in (Message.Status.SENDING, Message.Status.QUEUED):
                message.next_attempt_at = None
            message.save(update_fields=["provider_message_id", "next_attempt_at"])
    if message is None:
        return
    error_code, error = "", ""
    if state == "failed":
        first = (status.get("errors") or [{}])[0]
        error_code = str(first.get("code", ""))
        details = (first.get("error_data") or {}).get("details") or first.get("message") or first.get("title", "")
        from messaging.providers.whatsapp_cloud import REASONS

        reason = REASONS.get(int(error_code)) if error_code.isdigit() else None
        error = f"{reason} ({details})" if reason else details
    message_status_advance(message=message, status=state, at=_ts(status.get("timestamp")), error_code=error_code,
                           error=error)
    if state == "failed" and error_code == "131050":
        contact_opt_out_marketing(contact=message.contact, channel=channel, source="error 131050",
                                  dedupe=f"wa:optout:{wamid}")
    if state == "failed" and error_code in PAUSE_STATUS_CODES and channel is not None:
        channel_pause(channel=channel, code=error_code, reason=error)


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
    if not updated and channels and name and language:
        # Not synced yet: keep what we learned; the next sync fills in components.
        MessageTemplate.objects.create(channel=channels[0], name=name, language=language, status=status,
                                       provider_template_id=template_id)


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
    return _delivery_store(source="sandbox", body=body, signature="", channel=channel,
                           state=WebhookDelivery.State.PENDING)


def webhook_deliveries_requeue_stale(*, grace_seconds: float = 60.0, limit: int = 200) -> int:
    """Queue again deliveries stored but never processed (the task was lost), or failed ones."""
    from datetime import timedelta

    from messaging.services import _lock_acquire
    from messaging.tasks import webhook_delivery_process as task

    if not _lock_acquire("webhooks-requeue", 30):
        return 0
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    ids = list(WebhookDelivery.objects.filter(
        Q(state=WebhookDelivery.State.PENDING) | Q(state=WebhookDelivery.State.FAILED, attempts__lt=10),
        received_at__lt=cutoff,
    ).values_list("pk", flat=True)[:limit])
    for pk in ids:
        task.delay(pk)
    return len(ids)


def webhook_deliveries_prune(*, days: float | None = None) -> int:
    """Delete processed deliveries older than ``WHATSAPP_WEBHOOK_RETENTION_DAYS`` (the events they
    produced stay). Failed, unknown-channel and unreadable ones are kept for inspection."""
    from datetime import timedelta

    days = float(days if days is not None else getattr(settings, "WHATSAPP_WEBHOOK_RETENTION_DAYS", 30))
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = WebhookDelivery.objects.filter(state=WebhookDelivery.State.PROCESSED, received_at__lt=cutoff).delete()
    return deleted
