"""The web side of Meta's webhook: authenticate the raw bytes, store them, acknowledge.

Order of the checks (docs/whatsapp.md, "Inbound: the path of a webhook"): size (413) → signature present (401) → the
HMAC of the raw bytes against the known app secrets (403) → only then parse, with bounded
nesting → bind the signature to the channel the update names → store → 200. Nothing an
unauthenticated caller sends is parsed, and nothing a validly signed caller sends gives a 5xx: a
body Fluxo cannot read is kept as ``unreadable`` and acknowledged (Meta would retry a 5xx for days).

One INSERT per webhook, in autocommit, then one task on the ``inbound`` queue; the web's ASGI endpoint
stores the POSTs that arrive together in one INSERT and one Redis round trip (:func:`deliveries_store`,
``messaging/asgi.py``), answering each only once its row is committed. The app secrets
are cached per process (``SECRETS_TTL``) and reloaded at once when no cached secret matches, so a
new or rotated channel secret works on its first webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from core.parsers import BadJSON, json_depth_check
from messaging.models import WebhookDelivery, WhatsAppCloudChannel

logger = logging.getLogger(__name__)

SANDBOX_PREFIX = "sandbox-"
# Meta's payloads nest about 8 levels (entry → changes → value → messages → interactive → …); a body
# nested deeper is kept as unreadable, its depth counted on the text before any parsing.
WEBHOOK_MAX_DEPTH = 64
SECRETS_TTL = 30.0
MULTIPLE_SENDERS = "*"


class SignatureMissing(Exception):
    pass


class SignatureInvalid(Exception):
    pass


class PayloadTooLarge(Exception):
    pass


def max_body_bytes() -> int:
    return int(getattr(settings, "WHATSAPP_WEBHOOK_MAX_BYTES", 3 * 1024 * 1024))


# --- Signatures ---------------------------------------------------------------------------------


def signature_expected(body: bytes, secret: str) -> str:
    """``sha256=<hex>`` of the raw bytes: Meta escapes non-ASCII as \\uXXXX and signs what it sent."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, header: str, secret: str) -> bool:
    return bool(secret) and hmac.compare_digest(signature_expected(body, secret).encode(), header.strip().encode())


@dataclass
class _Secrets:
    loaded_at: float = 0.0
    # (channel id, phone number id, WABA id, app secret) of every Cloud API channel with a secret
    channels: list[tuple[int, str, str, str]] = field(default_factory=list)
    by_phone_id: dict[str, int] = field(default_factory=dict)
    by_waba: dict[str, list[int]] = field(default_factory=dict)


_secrets = _Secrets()
_secrets_lock = threading.Lock()


def _secrets_load() -> _Secrets:
    loaded = _Secrets(loaded_at=time.monotonic())
    for channel in WhatsAppCloudChannel.objects.only("pk", "phone_number_id", "waba_id", "app_secret"):
        loaded.by_phone_id[channel.phone_number_id] = channel.pk
        loaded.by_waba.setdefault(channel.waba_id, []).append(channel.pk)
        if channel.app_secret:
            loaded.channels.append((channel.pk, channel.phone_number_id, channel.waba_id, channel.app_secret))
    return loaded


def secrets_current(*, reload: bool = False) -> _Secrets:
    global _secrets
    with _secrets_lock:
        if reload or time.monotonic() - _secrets.loaded_at > SECRETS_TTL:
            _secrets = _secrets_load()
        return _secrets


def secrets_forget() -> None:
    """Drop the cached secrets (a channel was saved in this process; tests)."""
    with _secrets_lock:
        _secrets.loaded_at = 0.0


def _signers(body: bytes, signature: str, secrets: _Secrets) -> tuple[set[int], bool]:
    """Channels whose app secret produced ``signature``, and whether the app-level secret did."""
    matched = {pk for pk, _, _, secret in secrets.channels if signature_matches(body, signature, secret)}
    app_level = signature_matches(body, signature, getattr(settings, "WHATSAPP_APP_SECRET", ""))
    return matched, app_level


# --- Reading the payload (type-safe: any JSON may arrive) ----------------------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def payload_names(payload: Any) -> tuple[set[str], set[str], set[str]]:
    """Phone number ids (``metadata.phone_number_id``), WABA ids (``entry.id``) and message senders."""
    phone_ids: set[str] = set()
    waba_ids: set[str] = set()
    senders: set[str] = set()
    if not isinstance(payload, dict):
        return phone_ids, waba_ids, senders
    for entry in _list(payload.get("entry")):
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("id"), str | int) and entry.get("id") != "":
            waba_ids.add(str(entry["id"]))
        for change in _list(entry.get("changes")):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata")
            if isinstance(metadata, dict) and isinstance(metadata.get("phone_number_id"), str | int):
                phone_ids.add(str(metadata["phone_number_id"]))
            for message in _list(value.get("messages")):
                if isinstance(message, dict) and isinstance(message.get("from"), str | int):
                    senders.add(str(message["from"]))
    return phone_ids, waba_ids, senders


def payload_parse(body: bytes) -> Any:
    """The JSON of a body, or None when it is not JSON (bad bytes, NUL, nesting beyond WEBHOOK_MAX_DEPTH)."""
    try:
        text = body.decode("utf-8")
        json_depth_check(text, max_depth=WEBHOOK_MAX_DEPTH)  # counted without recursion, before parsing
        return json.loads(text)
    except (BadJSON, ValueError, UnicodeDecodeError, RecursionError):
        return None


def sender_key(senders: set[str]) -> str:
    if not senders:
        return ""
    return next(iter(senders))[:32] if len(senders) == 1 else MULTIPLE_SENDERS


def body_text(body: bytes) -> str:
    """The body as storable text: invalid UTF-8 replaced, NUL bytes (which a text column refuses) escaped."""
    text = body.decode("utf-8", errors="replace")
    return text.replace("\x00", "\\u0000") if "\x00" in text else text


# --- Receive ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryDraft:
    """An authenticated webhook, ready to store (what :func:`webhook_authenticate` made of a POST)."""

    body: str
    signature: str
    channel_id: int | None
    state: str
    error: str = ""
    sender: str = ""
    source: str = "meta"


def webhook_receive(*, body: bytes, signature: str | None) -> WebhookDelivery:
    """Authenticate and store one POST from Meta; queue its processing (see :func:`webhook_authenticate`)."""
    draft = webhook_authenticate(body=body, signature=signature)
    return delivery_store(source=draft.source, body=draft.body, signature=draft.signature,
                          channel_id=draft.channel_id, state=draft.state, error=draft.error, sender=draft.sender)


def webhook_authenticate(*, body: bytes, signature: str | None) -> DeliveryDraft:
    """Authenticate one POST from Meta and say how it is to be stored. Reads no database row but
    the cached app secrets (reloaded when none matches).

    The signature binds to the channel an update names: an update naming a channel's phone
    number id is accepted only with that channel's app secret or the app-level secret
    (``WHATSAPP_APP_SECRET``); a WABA-level update (template statuses) with the secret of one of
    that WABA's channels. Only when the update names no known channel are all secrets tried: one
    Meta app serves many numbers, and a validly signed update we cannot place is kept as
    ``unknown_channel`` for inspection rather than lost.

    Raises :class:`PayloadTooLarge` (→ 413), :class:`SignatureMissing` (→ 401) or
    :class:`SignatureInvalid` (→ 403).
    """
    if len(body) > max_body_bytes():
        raise PayloadTooLarge()
    if not signature:
        raise SignatureMissing()
    secrets = secrets_current()
    matched, app_level = _signers(body, signature, secrets)
    if not matched and not app_level:
        secrets = secrets_current(reload=True)  # a channel created or its secret rotated since the cache
        matched, app_level = _signers(body, signature, secrets)
        if not matched and not app_level:
            logger.warning("webhook with a wrong signature refused (%d bytes)", len(body))
            raise SignatureInvalid()

    payload = payload_parse(body)
    phone_ids, waba_ids, senders = payload_names(payload)
    if any(pid.startswith(SANDBOX_PREFIX) for pid in phone_ids):
        raise SignatureInvalid()  # sandbox payloads never come over HTTP
    owners = [secrets.by_phone_id[pid] for pid in sorted(phone_ids) if pid in secrets.by_phone_id]
    if not owners and not phone_ids:
        owners = sorted({pk for waba in waba_ids for pk in secrets.by_waba.get(waba, [])})
    if owners and not app_level and not matched.intersection(owners):
        logger.warning("webhook for channel(s) %s signed with another channel's secret: refused", owners)
        raise SignatureInvalid()

    channel_id = next((pk for pk in owners if pk in matched), owners[0] if owners else None)
    if not isinstance(payload, dict):
        state, error = WebhookDelivery.State.UNREADABLE, "body is not a JSON object"
    elif channel_id is None:
        state, error = WebhookDelivery.State.UNKNOWN_CHANNEL, f"no channel owns phone number ids {sorted(phone_ids)}"
    else:
        state, error = WebhookDelivery.State.PENDING, ""
    if error:
        logger.warning("webhook kept for inspection: %s", error)
    return DeliveryDraft(body=body_text(body), signature=signature[:100], channel_id=channel_id, state=state,
                         error=error, sender=sender_key(senders))


def inbound_shards() -> int:
    return int(getattr(settings, "FLUXO_INBOUND_SHARDS", 4))


def delivery_store(*, source: str, body: str, signature: str, channel_id: int | None, state: str,
                   error: str = "", sender: str = "") -> WebhookDelivery:
    """Store a delivery (one INSERT) and, once that is committed, kick its shard's inbound drain."""
    from core.kick import kick, kick_on_commit
    from messaging.tasks import inbound_drain

    shard = _shard_for(sender)
    delivery = WebhookDelivery.objects.create(source=source, body=body, signature=signature, channel_id=channel_id,
                                              state=state, error=error, sender=sender, shard=shard)
    if state == WebhookDelivery.State.PENDING:
        if transaction.get_connection().in_atomic_block:
            kick_on_commit("inbound", shard, lambda: inbound_drain.delay(shard))
        else:  # the web's case: stored in autocommit, so kick now and learn the backlog in the same round trip
            _, delivery.backlog = kick("inbound", shard, lambda: inbound_drain.delay(shard), with_backlog=True)
    return delivery


def _shard_for(sender: str) -> int:
    """A sender's deliveries share a shard; statuses and multi-sender batches are spread at random."""
    from core.kick import shard_of

    shards = inbound_shards()
    return shard_of(sender, shards) if sender and sender != MULTIPLE_SENDERS else random.randrange(shards)


def deliveries_store(drafts: list[DeliveryDraft]) -> tuple[list[WebhookDelivery | Exception], int]:
    """Store a batch of webhooks in one INSERT (outside any transaction), then kick their shards in one
    Redis round trip. The web's group commit: concurrent POSTs of one process share a commit.

    Returns, in the drafts' order, each stored delivery (or the exception that kept a row from being
    stored) and the backlog the inbound drains last reported. A batch the database refuses is stored
    row by row, so one bad row fails only its own POST. :class:`django.db.OperationalError` (the database
    is unavailable) is raised: nothing of the batch was stored.
    """
    from django.db import DatabaseError, OperationalError

    from core.kick import kick_many
    from messaging.tasks import inbound_drain

    rows = [WebhookDelivery(source=d.source, body=d.body, signature=d.signature, channel_id=d.channel_id,
                            state=d.state, error=d.error, sender=d.sender, shard=_shard_for(d.sender)) for d in drafts]
    stored: list[WebhookDelivery | Exception]
    try:
        WebhookDelivery.objects.bulk_create(rows)
        stored = list(rows)
    except OperationalError:
        raise
    except DatabaseError:
        if len(rows) == 1:
            raise
        logger.warning("a batch of %d webhooks was refused: storing them one by one", len(rows), exc_info=True)
        stored = []
        for row in rows:
            row.pk = None
            try:
                row.save(force_insert=True)
                stored.append(row)
            except OperationalError:
                raise
            except DatabaseError as error:
                stored.append(error)
    pending = [row.shard for row in stored
               if isinstance(row, WebhookDelivery) and row.state == WebhookDelivery.State.PENDING]
    backlog = 0
    if pending:
        _, backlog = kick_many("inbound", pending, lambda shard: inbound_drain.delay(shard), with_backlog=True)
    return stored, backlog


def backpressure_delay(backlog: int) -> float:
    """Seconds to hold a webhook's answer while the workers are behind (the body is stored already).

    Nothing below ``FLUXO_BACKPRESSURE_START`` pending deliveries; then a little more per delivery,
    capped. A sender that waits for our answer before sending more (Meta, a load generator) slows
    down to the pace of the workers, so what is acknowledged is processed within seconds instead of
    piling up. No drain at work (workers stopped) means no report, hence no delay.
    """
    start = int(getattr(settings, "FLUXO_BACKPRESSURE_START", 100))
    if backlog <= start:
        return 0.0
    per_item = float(getattr(settings, "FLUXO_BACKPRESSURE_MS_PER_ITEM", 2.0)) / 1000.0
    return min(float(getattr(settings, "FLUXO_BACKPRESSURE_MAX_SECONDS", 2.0)), (backlog - start) * per_item)


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

