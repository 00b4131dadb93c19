"""The worker side of Meta's webhook: one stored delivery → messages, statuses, and the flows' events.

One unit of work per delivery (docs/architecture.md, "The path of an event"):

1. **Claim** — one ``UPDATE … RETURNING`` marks the delivery processed *and* every earlier
   pending delivery of the same sender, inside the transaction. A delivery of that sender held by
   another worker makes the statement wait for it, so a customer's messages are handled in the
   order they were stored, by whichever worker, and a worker that dies rolls back to pending.
2. **Lock the contact** (``SELECT … FOR UPDATE``, created when new) and record each message once
   (``INSERT … ON CONFLICT DO NOTHING`` on the wamid: a duplicate is a no-op), continuing the
   contact's conversation and restarting the 24-hour window.
3. **Run the flows now**, in the same transaction and under the same lock, through
   :func:`core.inbox.event_take` (behind any event of the contact still pending).
4. **Commit**; the replies go to the ``outbound`` queue after commit.

The fast path uses no savepoint. When a delivery fails, it is retried in *careful* mode: each item
in its own savepoint, the items that fail recorded with their reason, the rest kept; after
``WHATSAPP_DELIVERY_MAX_ATTEMPTS`` failures the delivery is parked as failed, with an alert,
never re-queued forever.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from core import inbox
from core.db import in_condition, insert_or_skip, insert_rows
from core.i18n import in_run_language
from core.signals import domain_event_emit
from messaging.channel_cache import channel_by_phone_id
from messaging.models import Channel, Contact, Conversation, Message, WebhookDelivery
from messaging.phones import InvalidPhone, phone_from_wa_id

logger = logging.getLogger(__name__)

GROUP_FIELDS_PREFIX = "group_"
MULTIPLE_SENDERS = "*"
# Escapes that decode to text PostgreSQL cannot store (NUL) or UTF-8 cannot encode (lone surrogates).
_UNSTORABLE = re.compile(r"\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def max_attempts() -> int:
    return int(getattr(settings, "WHATSAPP_DELIVERY_MAX_ATTEMPTS", 5))


# --- Claim --------------------------------------------------------------------------------------


def _claim(*, delivery_id: int, sender: str | None) -> list[tuple[int, str, int | None, int]]:
    """Mark the delivery (and its sender's earlier pending ones) processed; return them in order."""
    table = WebhookDelivery._meta.db_table
    now = timezone.now()
    if sender is None:  # an old task or an admin action: read the sender first
        sender = WebhookDelivery.objects.filter(pk=delivery_id).values_list("sender", flat=True).first() or ""
    if sender and sender != MULTIPLE_SENDERS:
        where, params = "state = %s AND (id = %s OR (sender = %s AND id < %s))", ["pending", delivery_id, sender,
                                                                                   delivery_id]
    else:
        where, params = "state = %s AND id = %s", ["pending", delivery_id]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET state = %s, processed_at = %s, attempts = attempts + 1 "
                       f"WHERE {where} RETURNING id, body, channel_id, attempts",
                       ["processed", now, *params])
        rows = cursor.fetchall()
    return sorted(rows)


# --- Processing ---------------------------------------------------------------------------------


class ItemErrors:
    """In careful mode, runs each item in a savepoint and keeps the reason of those that fail."""

    def __init__(self, careful: bool):
        self.careful = careful
        self.errors: list[str] = []
        self.malformed = 0
        self.unknown_channel = 0
        self.items = 0

    def run(self, label: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if not self.careful:
            function(*args, **kwargs)
            self.items += 1
            return
        try:
            with transaction.atomic():
                function(*args, **kwargs)
            self.items += 1
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery with its reason
            logger.exception("webhook item %s failed", label)
            self.errors.append(f"{label}: {type(exc).__name__}: {exc}")


def _claim_batch(*, shard: int, limit: int) -> list[tuple[int, str, int | None, int, str]]:
    """Claim up to ``limit`` pending deliveries of a shard, oldest first, one per sender at a time.

    A delivery is taken only when no earlier delivery of its sender is still pending (held by
    another drain, or waiting for its retry): a customer's messages are handled in order.
    """
    table = WebhookDelivery._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, processed_at = %s, attempts = attempts + 1 WHERE id IN ("
            f"SELECT c.id FROM {table} c WHERE c.state = %s AND c.shard = %s AND c.attempts = 0 "
            f"AND NOT EXISTS (SELECT 1 FROM {table} e WHERE e.state = %s AND e.sender = c.sender "
            f"AND c.sender <> '' AND c.sender <> %s AND e.id < c.id) ORDER BY c.id LIMIT %s{lock}) "
            f"RETURNING id, body, channel_id, attempts, sender",
            ["processed", timezone.now(), "pending", shard, "pending", MULTIPLE_SENDERS, limit])
        return sorted(cursor.fetchall())


def deliveries_drain(*, shard: int, batch: int | None = None, max_batches: int = 2000) -> int:
    """Process a shard's pending deliveries in batches until none is left. Returns how many."""
    return deliveries_drain_slice(shard=shard, batch=batch, max_batches=max_batches)[0]


@in_run_language  # the flows it runs and the failure reasons it stores: the installation's language
def deliveries_drain_slice(*, shard: int, batch: int | None = None, max_batches: int = 2000,
                           seconds: float | None = None) -> tuple[int, bool]:
    """Process a shard's pending deliveries in batches until none is left, or for about ``seconds``.

    Returns how many, and whether work was left behind (the time was up, or ``max_batches``): the
    caller then hands the shard to a new drain task at the back of the queue, so that with fewer
    worker processes than shards every shard gets its turn instead of waiting for another to empty.

    One transaction and one unit of work per batch: the messages of the batch's customers are
    recorded, their flows run, and their runs, steps and replies written with one statement per
    table. A batch that fails rolls back whole; each of its deliveries then gets an attempt of its
    own (``inbound_delivery_process``), where a poison item is isolated and, in the end, parked.
    An empty shard costs one cheap read, outside any transaction.
    """
    from core.kick import backlog_report, kick_release
    from core.unit import unit_of_work

    size = batch or int(getattr(settings, "FLUXO_INBOUND_BATCH", 50))
    done, released = 0, False
    deadline = None if seconds is None else time.monotonic() + seconds
    for _ in range(max_batches):
        if not _shard_has_work(shard):
            if released:
                return done, False
            kick_release("inbound", shard)
            released = True  # look once more: a delivery stored while the flag was up is found now
            continue
        if deadline is not None and time.monotonic() >= deadline:
            return done, True
        if done and _backlog_report_due():
            # Work left behind a batch that was not full: a few busy senders never fill one (one
            # delivery per sender at a time), and their backlog must slow the web down too.
            backlog_report("inbound", _pending_count())
        rows: list[tuple[int, str, int | None, int, str]] = []
        try:
            with transaction.atomic(), unit_of_work():
                rows = _claim_batch(shard=shard, limit=size)
                # What is left behind a full batch: the web slows down while it grows (backpressure).
                if len(rows) == size:
                    backlog_report("inbound", _pending_count())
                payloads = {pk: _parse(body) for pk, body, _channel_id, _attempts, _sender in rows}
                _batch_read_ahead(list(payloads.values()))
                for pk, body, channel_id, attempts, _sender in rows:
                    _delivery_rows_process(pk, body, channel_id, attempts, careful=False, payload=payloads[pk])
        except OperationalError:
            raise
        except Exception as exc:  # noqa: BLE001 - isolate the bad delivery: one attempt each
            logger.exception("an inbound batch of shard %s failed; its deliveries go one by one", shard)
            _batch_failed(rows, exc)
            continue
        done += len(rows)
    return done, True


def _shard_has_work(shard: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {WebhookDelivery._meta.db_table} WHERE state = %s AND shard = %s "
                       f"AND attempts = 0 LIMIT 1", ["pending", shard])
        return cursor.fetchone() is not None


BACKLOG_REPORT_EVERY = 1.0  # seconds between reports of a process; below core.kick.BACKLOG_TTL so they never lapse
_backlog_reported_at = 0.0


def _backlog_report_due() -> bool:
    global _backlog_reported_at
    now = time.monotonic()
    if now - _backlog_reported_at < BACKLOG_REPORT_EVERY:
        return False
    _backlog_reported_at = now
    return True


def _pending_count() -> int:
    """Pending deliveries of every shard (the web's backpressure reads it)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {WebhookDelivery._meta.db_table} WHERE state = %s", ["pending"])
        return int(cursor.fetchone()[0])


def _batch_failed(rows: list[tuple[int, str, int | None, int, str]], exc: Exception) -> None:
    from django.db.models import F

    from messaging.tasks import inbound_delivery_process

    ids = [row[0] for row in rows]
    WebhookDelivery.objects.filter(pk__in=ids, state=WebhookDelivery.State.PENDING).update(
        attempts=F("attempts") + 1, error=f"in a failed batch: {type(exc).__name__}: {exc}"[:2000])
    for pk, _body, _channel, _attempts, sender in rows:
        inbound_delivery_process.delay(pk, sender)


@in_run_language
def delivery_process(*, delivery_id: int, sender: str | None = None, careful: bool = False) -> int:
    """Process a stored delivery (and its sender's earlier pending ones).

    Idempotent: a processed delivery is skipped by the claim, and every message is deduplicated by
    its wamid. Raises on failure in the fast path (the transaction rolls back to pending; the task
    notes the attempt and retries in careful mode); in careful mode only database errors raise.
    Returns the attempts of a delivery that careful mode left pending for another try (some items
    failed, the rest are kept), else 0.
    """
    from core.unit import unit_of_work

    retry_after_attempt = 0
    with transaction.atomic(), unit_of_work():
        claimed = _claim(delivery_id=delivery_id, sender=sender)
        for pk, body, channel_id, attempts in claimed:
            retry_after_attempt = max(retry_after_attempt,
                                      _delivery_rows_process(pk, body, channel_id, attempts, careful=careful))
    return retry_after_attempt


def _delivery_rows_process(pk: int, body: str, channel_id: int | None, attempts: int, *, careful: bool,
                           payload: dict[str, Any] | None = None) -> int:
    """One claimed delivery (``payload``: its body parsed already, if it was). Returns its attempts when
    careful mode leaves it pending for another try, else 0."""
    with inbox.careful_scope(careful):
        outcome = ItemErrors(careful)
        payload = payload if payload is not None else _parse(body)
        if payload is None:
            _delivery_note(pk, WebhookDelivery.State.UNREADABLE, "body is not a JSON object")
            return 0
        payload_process(payload, outcome)
    if outcome.errors:
        error = "\n".join(outcome.errors)[:10000]
        summary = {"items": outcome.items, "failed": len(outcome.errors)}
        if attempts < max_attempts():
            _delivery_note(pk, WebhookDelivery.State.PENDING, error, summary=summary)
            return attempts
        _delivery_note(pk, WebhookDelivery.State.FAILED, error, summary=summary)
        _alert_parked(pk, channel_id, outcome.errors[0])
    elif outcome.unknown_channel and not outcome.items:
        _delivery_note(pk, WebhookDelivery.State.UNKNOWN_CHANNEL, "no channel owns this phone number id")
    elif outcome.malformed and not outcome.items:
        _delivery_note(pk, WebhookDelivery.State.UNREADABLE, "no entry/changes of the Cloud API shape in this payload")
    elif outcome.malformed or outcome.unknown_channel:
        # Processed, with parts skipped: say what, for whoever inspects it.
        _delivery_note(pk, WebhookDelivery.State.PROCESSED, "", summary={
            "items": outcome.items, "malformed": outcome.malformed, "unknown_channel": outcome.unknown_channel})
    return 0


def _batch_messages(payloads: list[dict[str, Any] | None]) -> list[tuple[str, Channel, dict[str, Any]]]:
    """``(phone, channel, message)`` of a batch's messages from known channels and valid senders, in the
    batch's order, walked as ``payload_process`` walks them (any shape: what does not look like Meta's
    is left to the normal path, which reports it)."""
    found: list[tuple[str, Channel, dict[str, Any]]] = []
    ignored = ItemErrors(careful=False)  # the normal path counts what is malformed; here it is only skipped
    for payload in payloads:
        if not isinstance(payload, dict):
            continue
        for _entry, field, value in _changes(payload, ignored):
            if field != "messages":
                continue
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            channel = channel_by_phone_id(str(metadata.get("phone_number_id", "")))
            if channel is None:
                continue
            for message in _dicts(value.get("messages"))[0]:
                sender = message.get("from")
                if isinstance(sender, str) and sender:
                    try:
                        found.append((phone_from_wa_id(sender), channel, message))
                    except InvalidPhone:
                        continue
    return found


def _batch_read_ahead(payloads: list[dict[str, Any] | None]) -> None:
    """Do with a few statements for the whole batch what each message would do with its own: lock the
    known contacts (one statement, in id order), let the flows read their state (one), store the
    messages (one ``INSERT … ON CONFLICT DO NOTHING``: a wamid not returned is a duplicate) and, for a
    contact with one message in the batch, continue its open conversation (one ``UPDATE``).
    ``contact_lock``, ``message_take`` and ``conversation_continue`` then find what was done.

    Precondition: inside the batch's transaction and unit of work.
    """
    from core.db import insert_rows_or_skip
    from core.unit import current

    unit = current()
    found = _batch_messages(payloads)
    phones = list(dict.fromkeys(phone for phone, _channel, _message in found))
    if unit is None or len(phones) < 2:
        return
    locked = {contact.phone: contact for contact in contacts_lock_many(phones)}
    unit._locked_contacts = locked
    inbox.contacts_prepare(contact_ids=[contact.pk for contact in locked.values()])
    if connection.vendor != "postgresql":
        return
    unit._outbound_waiting = _outbound_waiting([contact.pk for contact in locked.values()])
    counts: dict[str, int] = {}
    for phone, _channel, _message in found:
        counts[phone] = counts.get(phone, 0) + 1
    pending, stamps = [], {}
    for phone, channel, message in found:
        contact, wamid = locked.get(phone), str(message.get("id", ""))
        if contact is None or not wamid:
            continue
        pending.append(Message(
            direction=Message.Direction.INBOUND, kind=str(message.get("type", "unknown"))[:32], content=message,
            contact=contact, conversation_id=contact.current_conversation_id, channel_id=channel.pk,
            provider_message_id=wamid, status=Message.Status.RECEIVED))
        stamps[wamid] = (counts[phone], message.get("timestamp"))
    # Written now, not by the unit: the rows are in the transaction whatever a savepoint later undoes.
    stored = insert_rows_or_skip(Message, pending, unique="provider_message_id")
    unit._stored_messages = {m.provider_message_id: m for m in stored}
    continuing = {m.conversation_id: _ts(stamps[m.provider_message_id][1]) for m in stored
                  if m.conversation_id is not None and stamps[m.provider_message_id][0] == 1}
    if continuing:
        continued = set(_conversations_continue_many(continuing))
        unit._conversations_continued = {pk: pk in continued for pk in continuing}


def _outbound_waiting(contact_ids: list[int]) -> set[int]:
    """Contacts whose outbound queue is held for a while yet (a message waiting for its slot more than
    two seconds ahead: WhatsApp's pair rate, a retry). A reply queued behind it needs no drain: that
    message's own scheduled attempt sends it and then chains to the ones behind it."""
    if not contact_ids:
        return set()
    table = Message._meta.db_table
    of_contacts, args = in_condition("contact_id", contact_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT contact_id FROM {table} WHERE {of_contacts} AND direction = 'out' "
            f"AND status IN ('queued', 'uncertain') AND next_attempt_at > %s",
            [*args, timezone.now() + timedelta(seconds=2)])
        return {row[0] for row in cursor.fetchall()}


def _conversations_continue_many(latest: dict[int, datetime]) -> list[int]:
    """One ``UPDATE`` of several open conversations' ``last_inbound_at``; returns those still open."""
    from core.db import array_placeholder

    mark, table = array_placeholder(), Conversation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET last_inbound_at = CASE WHEN t.last_inbound_at > u.at THEN t.last_inbound_at "
            f"ELSE u.at END FROM unnest({mark}::bigint[], {mark}::timestamptz[]) AS u(id, at) "
            f"WHERE t.id = u.id AND t.state <> %s RETURNING t.id",
            [list(latest), list(latest.values()), Conversation.State.COMPLETED])
        return [row[0] for row in cursor.fetchall()]


def _parse(body: str) -> dict[str, Any] | None:
    import json

    from core.parsers import BadJSON, json_depth_check
    from messaging.ingest import WEBHOOK_MAX_DEPTH

    try:
        # Bounded before parsing: Meta nests a few levels; a deeper body would also reach the
        # recursion limit in storable() below, at a depth that depends on the worker's stack.
        json_depth_check(body, max_depth=WEBHOOK_MAX_DEPTH)
        payload = json.loads(body)
    except (BadJSON, ValueError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    return storable(payload) if _UNSTORABLE.search(body) else payload


def storable(value: Any) -> Any:
    """The value with NUL characters dropped and lone surrogates replaced, so the database takes it."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def _delivery_note(pk: int, state: str, error: str, summary: dict[str, Any] | None = None) -> None:
    WebhookDelivery.objects.filter(pk=pk).update(state=state, error=error, summary=summary or {})
    if error:
        logger.warning("webhook delivery %s: %s", pk, error.splitlines()[0])


def _alert_parked(pk: int, channel_id: int | None, reason: str) -> None:
    from messaging.models import ChannelAlert

    if channel_id:
        ChannelAlert.objects.create(channel_id=channel_id, code="webhook_failed",
                                    message=f"Webhook delivery {pk} could not be processed: {reason}"[:2000])


def _dicts(items: Any) -> tuple[list[dict[str, Any]], int]:
    """The objects of a list from the payload, and how many other things it held (malformed)."""
    items = items if isinstance(items, list) else ([] if items is None else [items])
    good = [item for item in items if isinstance(item, dict)]
    return good, len(items) - len(good)


def _changes(payload: dict[str, Any], outcome: ItemErrors) -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
    entries, bad = _dicts(payload.get("entry"))
    outcome.malformed += bad
    for entry in entries:
        if not isinstance(entry.get("changes"), list):
            outcome.malformed += 1
            continue
        changes, bad = _dicts(entry.get("changes"))
        outcome.malformed += bad
        for change in changes:
            value = change.get("value")
            if not isinstance(value, dict):
                outcome.malformed += 1
                continue
            yield entry, str(change.get("field", "")), value


def payload_process(payload: dict[str, Any], outcome: ItemErrors) -> None:
    """Walk every entry and change of one webhook payload (any shape: bad items are counted, not raised)."""
    from messaging.webhooks import group_update_store, status_apply, template_status_apply

    for entry, field, value in _changes(payload, outcome):
        if field == "messages":
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            channel = channel_by_phone_id(str(metadata.get("phone_number_id", "")))
            if channel is None:
                outcome.unknown_channel += 1
                continue
            contacts, _ = _dicts(value.get("contacts"))
            names = {str(c.get("wa_id")): _profile_name(c) for c in contacts}
            messages, bad = _dicts(value.get("messages"))
            outcome.malformed += bad
            for sender, group in _by_sender(messages):
                outcome.run(f"messages of {sender}", messages_take, channel=channel, sender=sender, messages=group,
                            names=names)
            statuses, bad = _dicts(value.get("statuses"))
            outcome.malformed += bad
            for status in statuses:
                outcome.run(f"status {status.get('id')}:{status.get('status')}", status_apply, channel=channel,
                            status=status)
            for error in _dicts(value.get("errors"))[0]:
                logger.warning("WhatsApp reported an error for channel %s: %s", channel.pk, error)
        elif field == "message_template_status_update":
            outcome.run(f"template {value.get('message_template_name')}", template_status_apply,
                        waba_id=str(entry.get("id", "")), value=value)
        elif field in ("phone_number_quality_update", "account_update"):
            from messaging.webhooks import quality_update_apply

            outcome.run(field, quality_update_apply, waba_id=str(entry.get("id", "")), field=field, value=value)
        elif field.startswith(GROUP_FIELDS_PREFIX):
            outcome.run("group update", group_update_store, entry=entry, field=field, value=value)


def _profile_name(contact: dict[str, Any]) -> str:
    profile = contact.get("profile")
    name = profile.get("name") if isinstance(profile, dict) else ""
    return name if isinstance(name, str) else ""


def _by_sender(messages: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Consecutive messages grouped by sender (order kept), so each contact is locked once."""
    group: list[dict[str, Any]] = []
    current = None
    for message in messages:
        sender = str(message.get("from", ""))
        if group and sender != current:
            yield current, group
            group = []
        current = sender
        group.append(message)
    if group:
        yield current, group


# --- One customer's messages --------------------------------------------------------------------


def _ts(raw: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return timezone.now()


def contact_lock(*, phone: str, name: str, channel: Channel) -> Contact:
    """The contact of a phone number, locked for this transaction (created when new).

    Precondition: inside a transaction. Lock order, as everywhere: the contact row first.
    """
    from core.unit import current

    unit = current()
    ahead = getattr(unit, "_locked_contacts", None) if unit is not None else None
    contact = ahead.get(phone) if ahead else None
    if contact is not None:
        return contact  # locked by the batch's read-ahead; the same instance for each of its messages
    contact = _contact_locked(phone)
    if contact is None:
        contact = insert_or_skip(Contact, {"phone": phone, "name": name, "channel": channel}, unique=["phone"])
        if contact is None:  # created by another worker a moment ago
            contact = Contact.objects.select_for_update().get(phone=phone)
    return contact


_CONTACT_COLUMNS: list[str] = []
# Per column, the converters the ORM would apply (the backend's, then the field's): on SQLite a raw
# cursor gives naive datetimes and 0/1 for booleans, which must not leak into the model (comparing
# a naive last_inbound_at with an aware timestamp raised TypeError on every contact's 2nd message).
_CONTACT_CONVERTERS: list[tuple[Any, list]] = []


def _contact_columns() -> list[str]:
    if not _CONTACT_COLUMNS:
        for field in Contact._meta.concrete_fields:
            expression = field.get_col(Contact._meta.db_table)
            _CONTACT_CONVERTERS.append((expression, connection.ops.get_db_converters(expression)
                                        + field.get_db_converters(connection)))
        _CONTACT_COLUMNS.extend(f.column for f in Contact._meta.concrete_fields)
    return _CONTACT_COLUMNS


def _contact_from_row(row: tuple[Any, ...]) -> Contact:
    values = []
    for (expression, converters), value in zip(_CONTACT_CONVERTERS, row, strict=True):
        for converter in converters:
            value = converter(value, expression, connection)
        values.append(value)
    return Contact.from_db(connection.alias, [f.attname for f in Contact._meta.concrete_fields], values)


def _contact_locked(phone: str) -> Contact | None:
    """``SELECT … FOR UPDATE`` of the contact by phone, without the ORM's query building (hot path)."""
    table = Contact._meta.db_table
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(_contact_columns())} FROM {table} WHERE phone = %s{lock}", [phone])
        row = cursor.fetchone()
    return None if row is None else _contact_from_row(row)


def contacts_lock_many(phones: list[str]) -> list[Contact]:
    """The existing contacts of these phone numbers, locked with one statement, in id order (the order
    every batch locks in, so two batches never wait on each other in a circle). Unknown phones are
    simply absent: ``contact_lock`` creates them. Precondition: inside a transaction."""
    table = Contact._meta.db_table
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    condition, args = in_condition("phone", phones)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(_contact_columns())} FROM {table} WHERE {condition} ORDER BY id{lock}", args)
        return [_contact_from_row(row) for row in cursor.fetchall()]


def messages_take(*, channel: Channel, sender: str, messages: list[dict[str, Any]], names: dict[str, str]) -> None:
    """Record one customer's messages (in order) and run the flows on each, under the contact's lock."""
    if not sender:
        raise ValueError("message without 'from'")
    try:
        phone = phone_from_wa_id(sender)
    except InvalidPhone as exc:
        raise ValueError(f"sender {sender!r}: {exc}") from exc
    name = names.get(sender, "")
    contact = contact_lock(phone=phone, name=name, channel=channel)
    before = (contact.name, contact.channel_id, contact.last_inbound_at, contact.current_conversation_id)
    if name and not contact.name:
        contact.name = name
    if contact.channel_id != channel.pk:
        contact.channel_id = channel.pk
    contact.channel = channel  # the cached concrete channel: rules and sends read it without a query
    for message in messages:
        message_take(contact=contact, channel=channel, message=message, name=name)
    after = (contact.name, contact.channel_id, contact.last_inbound_at, contact.current_conversation_id)
    if after != before:
        from core.unit import current

        fields = ["name", "channel", "last_inbound_at", "current_conversation"]
        unit = current()
        if unit is not None:
            unit.update(contact, fields)  # with the other contacts of the batch, in one statement
        else:
            Contact.objects.filter(pk=contact.pk).update(
                name=contact.name, channel_id=contact.channel_id, last_inbound_at=contact.last_inbound_at,
                current_conversation_id=contact.current_conversation_id, updated_at=timezone.now())


def message_take(*, contact: Contact, channel: Channel, message: dict[str, Any], name: str) -> Message | None:
    """One inbound message of a locked contact: stored once, window restarted, consent keywords, flows.

    Returns the stored message, or None for a duplicate (same wamid): a no-op.
    """
    from messaging.webhooks import MEDIA_TYPES, consent_keywords, normalize_message

    wamid = str(message.get("id", ""))
    if not wamid:
        raise ValueError("message without id")
    at = _ts(message.get("timestamp"))
    from core.unit import current

    unit = current()
    ahead = getattr(unit, "_stored_messages", None) if unit is not None else None
    stored = ahead.pop(wamid, None) if ahead else None  # stored by the batch's read-ahead
    if stored is None:  # not read ahead, or a duplicate of it: the conflict says which
        stored = insert_or_skip(Message, {
            "direction": Message.Direction.INBOUND, "kind": str(message.get("type", "unknown"))[:32],
            "content": message, "contact": contact, "conversation_id": contact.current_conversation_id,
            "channel_id": channel.pk, "provider_message_id": wamid, "status": Message.Status.RECEIVED,
        }, unique=["provider_message_id"])
    if stored is None:
        return None
    started = conversation_continue(contact=contact, channel=channel, message=stored, at=at)
    if contact.last_inbound_at is None or at > contact.last_inbound_at:
        contact.last_inbound_at = at
    kind, payload = normalize_message(message, contact_name=name or contact.name, phone=contact.phone)
    if stored.kind in MEDIA_TYPES:
        from messaging.media import media_facts, media_inbound_record

        # Recorded pending here (database only); downloaded after commit by a task outside the lock.
        media = media_inbound_record(message=stored, channel=channel, kind=stored.kind,
                                     media=message.get(stored.kind) or {})
        payload["media"] = media_facts(media)
    payload["conversation_started"] = started
    payload["conversation_id"] = stored.conversation_id
    payload["channel_id"] = channel.pk
    domain_event_emit(event_type="message.received",
                      data={"message_id": stored.pk, "contact": contact.phone, "kind": stored.kind})
    consent_keywords(contact=contact, channel=channel, payload=payload, at=at)
    # The raw message is the stored Message's content: not copied into the event (its payload names the wamid).
    inbox.event_take(contact=contact, event=inbox.EventSpec(
        kind=kind, dedupe_key=f"wa:msg:{wamid}", payload=payload, occurred_at=at, channel_id=channel.pk,
        unique_checked=True))
    if channel.provider_key == "sandbox":
        from messaging.consumers import sandbox_notify

        sandbox_notify(contact.pk)
    return stored


def conversation_continue(*, contact: Contact, channel: Channel, message: Message, at: datetime) -> bool:
    """Continue the contact's open conversation (one UPDATE) or open a new one. Returns whether it started.

    Precondition: the contact is locked (it guards its ``current_conversation``).
    """
    from core.unit import current

    unit = current()
    ahead = getattr(unit, "_conversations_continued", None) if unit is not None else None
    known = ahead.pop(contact.current_conversation_id, None) if ahead else None
    if known is True:
        return False  # continued by the batch's read-ahead
    if known is None and contact.current_conversation_id is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Conversation._meta.db_table} SET last_inbound_at = CASE WHEN last_inbound_at > %s "
                f"THEN last_inbound_at ELSE %s END WHERE id = %s AND state <> %s",
                [at, at, contact.current_conversation_id, Conversation.State.COMPLETED])
            if cursor.rowcount:
                return False
    conversation = Conversation(contact=contact, channel=channel, last_inbound_at=at)
    insert_rows(Conversation, [conversation])
    contact.current_conversation_id = conversation.pk
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Message._meta.db_table} SET conversation_id = %s WHERE id = %s",
                       [conversation.pk, message.pk])
    message.conversation_id = conversation.pk
    domain_event_emit(event_type="conversation.opened", data={"conversation_id": conversation.pk,
                                                              "contact": contact.phone})
    return True


# --- Failures --------------------------------------------------------------------------------------


def delivery_failure_note(*, delivery_id: int, error: str) -> int:
    """After a failed attempt (rolled back): count it and keep the reason. Returns the attempts so far.

    At ``max_attempts()`` the delivery is parked as failed, with an alert: never re-queued again.
    """
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.state != WebhookDelivery.State.PENDING:
            return 0
        delivery.attempts += 1
        delivery.error = error[:10000]
        fields = ["attempts", "error"]
        if delivery.attempts >= max_attempts():
            delivery.state = WebhookDelivery.State.FAILED
            delivery.processed_at = timezone.now()
            fields += ["state", "processed_at"]
            _alert_parked(delivery.pk, delivery.channel_id, error.splitlines()[0] if error else "unknown error")
        delivery.save(update_fields=fields)
        return delivery.attempts
