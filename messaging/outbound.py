"""Sending: each contact's messages reach the Graph API in the order they were queued, once.

A message is sent only when it is its contact's *head*: no earlier outbound message of that
contact is still unsettled (queued, sending, or sent without confirmation). The *outbound drain*
of a shard of contacts (woken by ``core.kick`` when messages are queued) claims a batch of due
heads in one statement, sends them with several requests in flight over kept-alive connections,
outside any transaction, records each result in one statement, and claims again — the next
message of a contact is a head as soon as the previous one is recorded — until its shard is
empty. A message that must wait —
for the per-recipient pair rate (131056), a retry after an error, an unconfirmed send, its file
still being fetched from a link (``preparing``: :func:`messaging.media.message_media_prepare`, on the
``calls`` queue, then ``queued`` and a kick) — holds its contact's queue: the messages behind it
wait, with no task of their own spinning (one scheduled attempt per message per slot).

Exactly once, as far as the Graph API lets us know (docs/whatsapp.md, "Delivery"):

* a send that certainly did not reach Meta (connection refused, connect timeout, an error answer)
  is retried with backoff and jitter, or fails for good with Meta's reason;
* a send whose outcome is unknown (read timeout, connection reset after the request was written)
  is marked ``uncertain``. Meta's status webhook echoes our idempotency key
  (``biz_opaque_callback_data``) and confirms it (:func:`message_confirmed`); only after
  ``WHATSAPP_UNCERTAIN_GRACE`` seconds with no sign of it is it sent again, and then marked
  ``possible_duplicate``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from core.i18n import in_run_language
from messaging.channel_cache import channel_get
from messaging.models import Contact, Message
from messaging.providers.base import SendResult

logger = logging.getLogger(__name__)

MAX_CHAIN = 50  # messages of one contact sent by one task before it hands over
RECHECK_AFTER = timedelta(seconds=60)  # a message older than this is checked against the rules again


def uncertain_grace() -> float:
    return float(getattr(settings, "WHATSAPP_UNCERTAIN_GRACE", 120))


def sending_lease() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "WHATSAPP_SENDING_LEASE", 300)))


def max_attempts() -> int:
    return int(getattr(settings, "WHATSAPP_MAX_ATTEMPTS", 8))


# How late a head's own scheduled attempt may be before a drain takes the head instead.
OWN_ATTEMPT_GRACE = timedelta(seconds=5)


@dataclass
class Claimed:
    message: Message
    phone: str
    was_uncertain: bool


def _head_condition(alias: str) -> str:
    table = Message._meta.db_table
    return (f"NOT EXISTS (SELECT 1 FROM {table} e WHERE e.contact_id = {alias}.contact_id AND e.direction = 'out' "
            f"AND e.status IN ('preparing', 'queued', 'sending', 'uncertain') AND e.id < {alias}.id)")


_RETURNING = ("RETURNING id, kind, content, contact_id, channel_id, idempotency_key, attempts, created_at, "
              "possible_duplicate, (SELECT phone FROM {contacts} c WHERE c.id = {table}.contact_id)")


def _claimable(alias: str) -> str:
    """Due, queued (or uncertain past its grace), heading its contact's queue, on a channel not paused."""
    return (f"{alias}.direction = 'out' AND {alias}.status IN ('queued', 'uncertain') "
            f"AND ({alias}.next_attempt_at IS NULL OR {alias}.next_attempt_at <= %s) AND {_head_condition(alias)} "
            f"AND NOT EXISTS (SELECT 1 FROM messaging_channel ch WHERE ch.id = {alias}.channel_id "
            f"AND ch.paused_at IS NOT NULL)")


_SET_SENDING = ("SET status = 'sending', attempts = attempts + 1, next_attempt_at = %s, "
                "possible_duplicate = CASE WHEN status = 'uncertain' THEN %s ELSE possible_duplicate END")


def _claim(message_id: int, now: datetime) -> Claimed | None:
    """Claim a queued (or overdue uncertain) message that heads its contact's queue: one UPDATE."""
    table = Message._meta.db_table
    sql = (f"UPDATE {table} {_SET_SENDING} WHERE id = %s AND {_claimable(table)} "
           + _RETURNING.format(contacts=Contact._meta.db_table, table=table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [now + sending_lease(), True, message_id, now + timedelta(seconds=1)])
        row = cursor.fetchone()
    return _claimed(row) if row else None


def _claim_batch(*, shard: int, shards: int, limit: int, now: datetime) -> list[Claimed]:
    """Claim up to ``limit`` due heads of a shard of contacts, highest priority then oldest first: one UPDATE.

    A head that waits for a moment of its own (its pair-rate slot, a retry, an uncertain send's
    grace) has its own attempt scheduled then (``message_deliver``): the drain takes it only when
    that attempt is ``OWN_ATTEMPT_GRACE`` overdue (lost with its worker). Drains taking those heads
    too kept running as long as customers were many replies deep behind WhatsApp's pair rate
    (a head came due every few hundred milliseconds), each round re-walking every waiting queue.

    Priority orders heads only: a contact's own messages still leave in the order they were queued
    (a campaign message ahead of a reply to the same contact goes first), but across contacts a
    conversational reply (priority 0) is claimed before the campaign messages (below 0) waiting.
    """
    table = Message._meta.db_table
    returning = _RETURNING.format(contacts=Contact._meta.db_table, table=table)
    if connection.vendor == "postgresql":
        # The heads first — each contact's oldest unsettled message, one walk of the unsettled index
        # (DISTINCT ON) — then the claimable ones among them. Testing "no earlier unsettled message"
        # on every queued row instead cost a probe per row: with 50 customers 130 messages deep,
        # PostgreSQL spent 170 ms of CPU per message on claims that found a dozen heads.
        # The heads are an ARRAY(...) — an InitPlan, computed once. As an IN (subquery) the planner,
        # misled by statistics that lag a fast-growing table (rows=1), re-ran the DISTINCT ON walk for
        # every queued row: 663 ms per claim with 50 customers 200 replies deep, against 2.6 ms.
        unsettled = "('preparing', 'queued', 'sending', 'uncertain')"
        sql = (f"UPDATE {table} {_SET_SENDING} WHERE id IN (SELECT c.id FROM {table} c WHERE c.id = ANY(ARRAY("
               f"SELECT DISTINCT ON (h.contact_id) h.id FROM {table} h WHERE h.direction = 'out' "
               f"AND h.status IN {unsettled} AND h.contact_id %% %s = %s ORDER BY h.contact_id, h.id)) "
               f"AND c.direction = 'out' AND c.status IN ('queued', 'uncertain') "
               f"AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= %s) "
               f"AND NOT EXISTS (SELECT 1 FROM messaging_channel ch WHERE ch.id = c.channel_id "
               f"AND ch.paused_at IS NOT NULL) "
               f"ORDER BY c.priority DESC, c.id LIMIT %s FOR UPDATE OF c SKIP LOCKED) " + returning)
        params = [now + sending_lease(), True, shards, shard, now - OWN_ATTEMPT_GRACE, limit]
    else:
        lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
        sql = (f"UPDATE {table} {_SET_SENDING} WHERE id IN (SELECT c.id FROM {table} c WHERE {_claimable('c')} "
               f"AND c.contact_id %% %s = %s ORDER BY c.priority DESC, c.id LIMIT %s{lock}) " + returning)
        params = [now + sending_lease(), True, now - OWN_ATTEMPT_GRACE, shards, shard, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return sorted((_claimed(row) for row in rows), key=lambda c: c.message.pk)


def _claimed(row) -> Claimed:
    pk, kind, content, contact_id, channel_id, key, attempts, created_at, possible_duplicate, phone = row
    if isinstance(content, str):
        content = json.loads(content)
    if isinstance(created_at, str):  # SQLite hands timestamps back as text through a raw cursor
        created_at = datetime.fromisoformat(created_at)
    if timezone.is_naive(created_at):
        created_at = created_at.replace(tzinfo=UTC)
    message = Message(pk=pk, direction=Message.Direction.OUTBOUND, kind=kind, content=content, contact_id=contact_id,
                      channel_id=channel_id, idempotency_key=key, attempts=attempts, created_at=created_at,
                      status=Message.Status.SENDING, possible_duplicate=bool(possible_duplicate))
    message.contact = Contact(pk=contact_id, phone=phone)
    message._state.adding = False
    return Claimed(message=message, phone=phone, was_uncertain=bool(possible_duplicate))


def outbound_shards() -> int:
    return int(getattr(settings, "FLUXO_OUTBOUND_SHARDS", 4))


def outbound_shard(contact_id: int) -> int:
    return contact_id % outbound_shards()


def outbound_kick(contact_id: int) -> None:
    """Wake the drain of this contact's shard after commit, coalesced (``core.kick``).

    A message that waits for a moment (a slot, a retry, a grace period) gets its own attempt then
    (``_schedule_own_attempt``), not a drain.
    """
    from core.kick import kick_on_commit
    from messaging.tasks import outbound_drain

    shard = outbound_shard(contact_id)
    kick_on_commit("outbound", shard, lambda: outbound_drain.delay(shard))


@in_run_language  # failure reasons stored on messages are in the installation's language
def messages_drain(*, shard: int, max_rounds: int = 10000) -> int:
    """Send a shard's due messages in batches, several in flight, until none is left. Returns how many sent.

    Database work stays in this thread; only the HTTP requests go to the pool's threads.
    """
    from concurrent.futures import ThreadPoolExecutor

    from core.kick import kick_release

    shards, size = outbound_shards(), int(getattr(settings, "FLUXO_OUTBOUND_BATCH", 50))
    sent, released = 0, False
    with ThreadPoolExecutor(max_workers=max(1, int(getattr(settings, "FLUXO_OUTBOUND_IN_FLIGHT", 8))),
                            thread_name_prefix="fluxo-send") as pool:
        for _ in range(max_rounds):
            now = timezone.now()
            batch = _claim_batch(shard=shard, shards=shards, limit=size, now=now)
            if not batch:
                if released:
                    return sent
                kick_release("outbound", shard)
                released = True  # look once more: a message queued while the flag was up is found now
                continue
            waits = _slots(batch)
            ready = [(claimed, channel) for claimed in batch
                     if (channel := _prepare(claimed, now, wait=waits.get(claimed.message.pk))) is not None]
            futures = [(claimed, channel, pool.submit(_provider_send, channel, claimed.message))
                       for claimed, channel in ready]
            accepted = []
            for claimed, channel, future in futures:
                result = future.result()
                if isinstance(result, SendResult):
                    accepted.append((claimed.message, channel, result))
                else:
                    _settle_result(claimed, channel, result)
                sent += 1
            messages_record_sent_many(accepted)
    return sent


@in_run_language  # a pool thread: the drain's active language does not reach it
def _provider_send(channel, message: Message):
    """The HTTP part of a send (a pool thread): the result or the ProviderError, never raised."""
    from messaging.providers.base import ProviderError
    from messaging.providers.registry import provider_for

    try:
        return provider_for(channel).send(message)
    except ProviderError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - a bug must not leave the message claimed forever
        logger.exception("sending message %s failed unexpectedly", message.pk)
        return ProviderError(gettext("internal error: %(kind)s: %(error)s") % {"kind": type(exc).__name__, "error": exc},
                             code="internal")


def _settle(message_id: int, **fields: Any) -> int:
    return Message.objects.filter(pk=message_id, status=Message.Status.SENDING).update(**fields)


def _next_of_contact(contact_id: int, after: int) -> int | None:
    """The contact's next queued message (the chain goes on with it)."""
    return (Message.objects.filter(contact_id=contact_id, direction=Message.Direction.OUTBOUND,
                                   status=Message.Status.QUEUED, pk__gt=after)
            .order_by("pk").values_list("pk", flat=True).first())


def _schedule(message_id: int, seconds: float) -> None:
    from messaging.tasks import message_deliver

    message_deliver.apply_async((message_id,), countdown=max(0.0, seconds))


def _schedule_own_attempt(message_id: int, seconds: float) -> None:
    """A head that waits (slot, retry, grace) gets one attempt of its own at that moment, after commit.

    Not a shard drain: drains leave such heads to it (see ``_claim_batch``); a lost one is taken by
    the drains once ``OWN_ATTEMPT_GRACE`` late, or re-queued by ``messages_requeue_stale``.
    """
    transaction.on_commit(lambda: _schedule(message_id, seconds))


@in_run_language
def message_send(*, message_id: int, recheck: bool = False) -> None:
    """Send this message if it heads its contact's queue, then the contact's next ones (the chain).

    A message that is not its contact's head is left to the chain of the one ahead of it, with
    one exception: when that one is being sent right now, its chain may have looked for a
    successor a moment before this message was committed. So the first such attempt schedules a
    single check a second later (``recheck``); if the message is still not the head then, the
    message ahead of it is waiting for good reasons (a slot, a retry, a confirmation) and its
    chain brings this one along.
    """
    current: int | None = message_id
    for index in range(MAX_CHAIN):
        if current is None:
            return
        current = _send_one(current, first=index == 0 and not recheck)
    if current is not None:
        _schedule(current, 0)  # a long chain: hand over to a fresh task


def _send_one(message_id: int, *, first: bool = False) -> int | None:
    """One attempt. Returns the next message of the contact to send now, or None (done, or waiting)."""
    now = timezone.now()
    claimed = _claim(message_id, now)
    if claimed is None:
        if first and _behind_a_send_in_flight(message_id):
            _schedule_recheck(message_id)
        return None
    channel = _prepare(claimed, now)
    if channel is None:
        message = claimed.message
        failed = message.status == Message.Status.FAILED  # refused by a rule: the contact's queue moves on
        return _next_of_contact(message.contact_id, message.pk) if failed else None
    return _settle_result(claimed, channel, _provider_send(channel, claimed.message))


def _slots(batch: list[Claimed]) -> dict[int, float]:
    """The rate-limit slots of a batch: one Redis round trip per channel. {message id: seconds to wait}."""
    from messaging.ratelimit import send_slots_wait

    by_channel: dict[int | None, list[Claimed]] = {}
    for claimed in batch:
        by_channel.setdefault(claimed.message.channel_id, []).append(claimed)
    waits: dict[int, float] = {}
    for channel_id, group in by_channel.items():
        channel = channel_get(channel_id)
        if channel is None:
            continue
        for claimed, wait in zip(group, send_slots_wait(channel=channel, recipients=[c.phone for c in group]),
                                 strict=True):
            waits[claimed.message.pk] = wait
    return waits


def _prepare(claimed: Claimed, now: datetime, *, wait: float | None = None):
    """Before sending a claimed message: its channel, the rules again when it is old, its slot.

    Returns the channel to send on, or None when the message does not go now (failed with a reason,
    or back in the queue until its slot with one scheduled wake-up). ``wait`` is the slot already
    taken for it (the drain asks for a whole batch at once); without it, it is asked here.
    """
    message = claimed.message
    channel = channel_get(message.channel_id)
    if channel is None:
        _fail(message, code="no_channel", error=gettext("the contact has no channel; set one on the contact"))
        return None
    if message.attempts > 1 or now - message.created_at > RECHECK_AFTER:
        refusal = _rules_refusal(message, channel)
        if refusal is not None:
            _fail(message, code=refusal[0], error=gettext("not sent: %(reason)s") % {"reason": refusal[1]})
            return None
    if wait is None:
        from messaging.ratelimit import send_slot_wait

        wait = send_slot_wait(channel=channel, recipient=claimed.phone)
    if wait > 0:
        # Not our turn yet: back to the queue with one attempt scheduled at the slot (not counted).
        Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=Message.Status.UNCERTAIN if claimed.was_uncertain else Message.Status.QUEUED,
            attempts=message.attempts - 1, next_attempt_at=now + timedelta(seconds=wait))
        # This message's own attempt at its slot (it then chains to the contact's next ones), not a
        # whole shard's drain: with customers many replies deep behind WhatsApp's pair rate, a drain
        # per slot re-scanned every waiting queue several times a second.
        _schedule_own_attempt(message.pk, wait)
        return None
    return channel if _media_resolved(message, channel) else None


def _media_resolved(message: Message, channel) -> bool:
    """Library files named in the content (``{"fluxo_media": id}``) become the channel's media ids:
    uploaded once per (channel, file) and reused until they expire. Network I/O: here, outside any
    transaction, in the sender's thread. False when the message does not go now (failed, or retried)."""
    if getattr(channel, "provider_key", "") != "whatsapp_cloud":
        return True  # the sandbox draws the library file itself
    from messaging.media import MediaRefused, content_media_ids, content_resolve
    from messaging.providers.base import ProviderError

    if not content_media_ids(message.content):
        return True
    try:
        message.content = content_resolve(content=message.content, channel=channel)
    except MediaRefused as exc:
        _fail(message, code=exc.code, error=f"not sent: {exc.message}")
        return False
    except ProviderError as exc:
        exc.message = f"uploading the media failed: {exc.message}"
        _after_error(message, channel, exc)
        return False
    return True


def _settle_result(claimed: Claimed, channel, result) -> int | None:
    """Record what the send gave. Returns the contact's next message to send now, or None."""
    from messaging.providers.base import ProviderError

    message = claimed.message
    if isinstance(result, ProviderError):
        if result.pause_channel:
            fresh = channel_get(message.channel_id, fresh=True)
            if fresh is not None and getattr(fresh, "access_token", None) != getattr(channel, "access_token", None):
                # The cached token was stale (rotated since): try again with the new one.
                Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
                    status=Message.Status.QUEUED, attempts=message.attempts - 1, next_attempt_at=None)
                return message.pk
        return _after_error(message, channel, result)
    return message_record_sent(message=message, provider_message_id=result.provider_message_id,
                               delivered=result.status == "delivered", channel=channel)


def _behind_a_send_in_flight(message_id: int) -> bool:
    """Whether a queued message waits behind one of its contact's messages being sent right now."""
    row = Message.objects.filter(pk=message_id, status=Message.Status.QUEUED, next_attempt_at__isnull=True).values_list(
        "contact_id", flat=True).first()
    return row is not None and Message.objects.filter(
        contact_id=row, direction=Message.Direction.OUTBOUND, status=Message.Status.SENDING, pk__lt=message_id).exists()


def _schedule_recheck(message_id: int) -> None:
    from messaging.tasks import message_deliver

    message_deliver.apply_async((message_id, True), countdown=1.0)


def _rules_refusal(message: Message, channel) -> tuple[str, str] | None:
    """WhatsApp's rules again at send time (the window may have closed, consent changed)."""
    from messaging.rules import SendRefused, send_time_check

    contact = Contact.objects.get(pk=message.contact_id)
    try:
        send_time_check(contact=contact, channel=channel, kind=message.kind, content=message.content)
    except SendRefused as exc:
        return exc.code, exc.message
    return None


def message_record_sent(*, message: Message, provider_message_id: str, delivered: bool, channel) -> int | None:
    """Store the wamid and ``sent`` (never moving a status back), and find the contact's next queued
    message, in one UPDATE. Returns that next message's id (the chain goes on with it), or None."""
    from core.signals import domain_event_emit
    from messaging.services import sandbox_touch

    table = Message._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, provider_message_id = %s, sent_at = %s, delivered_at = %s, "
            f"error_code = '', error = '', next_attempt_at = NULL "
            f"WHERE id = %s AND status IN ('queued', 'sending', 'uncertain') "
            f"RETURNING (SELECT MIN(n.id) FROM {table} n WHERE n.contact_id = {table}.contact_id "
            f"AND n.direction = 'out' AND n.status = 'queued' AND n.id > {table}.id)",
            [Message.Status.DELIVERED if delivered else Message.Status.SENT, provider_message_id, now,
             now if delivered else None, message.pk])
        row = cursor.fetchone()
    if row is None:
        # A status webhook confirmed it first (by our idempotency key): only the wamid may be missing,
        # and that confirmation already moved the contact's queue on.
        Message.objects.filter(pk=message.pk, provider_message_id__isnull=True).update(
            provider_message_id=provider_message_id)
    domain_event_emit(event_type="message.sent", data={"message_id": message.pk, "contact": message.contact.phone})
    sandbox_touch(channel, message.contact_id)
    return row[0] if row else None


def messages_record_sent_many(accepted: list[tuple[Message, Any, Any]]) -> None:
    """What :func:`message_record_sent` does, for a drain round's accepted sends at once: one ``UPDATE …
    FROM unnest`` instead of one per message (the drain's next claim finds each contact's next message,
    so no successor is looked up here). ``accepted``: ``(message, channel, SendResult)``."""
    from core.db import array_placeholder
    from core.signals import domain_event_emit
    from messaging.services import sandbox_touch

    if len(accepted) < 2 or connection.vendor != "postgresql":
        for message, channel, result in accepted:
            message_record_sent(message=message, provider_message_id=result.provider_message_id,
                                delivered=result.status == "delivered", channel=channel)
        return
    table, mark, now = Message._meta.db_table, array_placeholder(), timezone.now()
    ids = [message.pk for message, _channel, _result in accepted]
    wamids = [result.provider_message_id for _message, _channel, result in accepted]
    delivered = [result.status == "delivered" for _message, _channel, result in accepted]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET status = CASE WHEN u.delivered THEN %s ELSE %s END, provider_message_id = u.wamid, "
            f"sent_at = %s, delivered_at = CASE WHEN u.delivered THEN %s::timestamptz END, error_code = '', error = '', "
            f"next_attempt_at = NULL FROM unnest({mark}::bigint[], {mark}::varchar[], {mark}::boolean[]) "
            f"AS u(id, wamid, delivered) WHERE t.id = u.id AND t.status IN ('queued', 'sending', 'uncertain') "
            f"RETURNING t.id",
            [Message.Status.DELIVERED, Message.Status.SENT, now, now, ids, wamids, delivered])
        updated = {row[0] for row in cursor.fetchall()}
    for message, channel, result in accepted:
        if message.pk not in updated:  # confirmed first by a status webhook: only the wamid may be missing
            Message.objects.filter(pk=message.pk, provider_message_id__isnull=True).update(
                provider_message_id=result.provider_message_id)
        domain_event_emit(event_type="message.sent", data={"message_id": message.pk, "contact": message.contact.phone})
        sandbox_touch(channel, message.contact_id)


def _fail(message: Message, *, code: str, error: str) -> None:
    from core.signals import domain_event_emit

    message.status = Message.Status.FAILED
    _settle(message.pk, status=Message.Status.FAILED, error_code=code, error=error[:2000], next_attempt_at=None)
    domain_event_emit(event_type="message.failed", data={"message_id": message.pk, "contact": message.contact.phone})


def _after_error(message: Message, channel, exc) -> int | None:
    """Retry later (the contact's queue waits), park the channel, mark uncertain, or fail for good."""
    from messaging.services import channel_pause, contact_opt_out_marketing, retry_delay

    now = timezone.now()
    if exc.pause_channel:
        channel_pause(channel=channel, code=exc.code, reason=exc.message)
        _settle(message.pk, status=Message.Status.QUEUED, next_attempt_at=None, error_code=exc.code,
                error=exc.message[:2000])
        return None  # kept queued; channel_resume() sends it
    if getattr(exc, "uncertain", False) and message.attempts < max_attempts():
        grace = uncertain_grace()
        _settle(message.pk, status=Message.Status.UNCERTAIN, next_attempt_at=now + timedelta(seconds=grace),
                error_code=exc.code,
                error=(gettext("%(error)s: waiting for Meta's status before sending again") % {"error": exc.message})[:2000])
        logger.warning("message %s: outcome unknown (%s); re-sent in %.0fs unless Meta confirms it",
                       message.pk, exc.code, grace)
        _schedule_own_attempt(message.pk, grace)
        return None
    if exc.retryable and message.attempts < max_attempts():
        delay = exc.retry_after or retry_delay(code=exc.code, attempt=message.attempts)
        _settle(message.pk, status=Message.Status.QUEUED, next_attempt_at=now + timedelta(seconds=delay),
                error_code=exc.code, error=exc.message[:2000])
        logger.warning("message %s: %s; retry %s in %.1fs", message.pk, exc.code, message.attempts, delay)
        _schedule_own_attempt(message.pk, delay)
        return None
    error = exc.message if not (exc.retryable or getattr(exc, "uncertain", False)) else (
        ngettext("gave up after %(attempts)d attempt: %(error)s", "gave up after %(attempts)d attempts: %(error)s",
                 message.attempts) % {"attempts": message.attempts, "error": exc.message})
    _fail(message, code=exc.code, error=error)
    if exc.code == "131050":
        with transaction.atomic():
            contact = Contact.objects.select_for_update().get(pk=message.contact_id)
            contact_opt_out_marketing(contact=contact, channel=channel, source="error 131050",
                                      dedupe=f"wa:optout:send:{message.pk}")
    return _next_of_contact(message.contact_id, message.pk)


def message_confirmed(*, message: Message) -> None:
    """A status webhook proved an unsettled message reached Meta: its contact's queue moves on.

    Called by ``status_apply`` inside its transaction; the next message is sent after commit.
    """
    if _next_of_contact(message.contact_id, message.pk) is not None:
        outbound_kick(message.contact_id)


@in_run_language
def messages_requeue_stale(*, grace_seconds: float = 60.0, limit: int = 500) -> int:
    """Queue again what a lost task or a dead worker left behind. Returns the number re-queued.

    Only heads of their contact's queue are looked at (the messages behind them follow the chain):
    a ``queued`` head nobody picked up for ``grace_seconds`` (lost broker message, a retry whose
    countdown task died with its worker), an ``uncertain`` head past its grace, and a ``sending``
    head whose lease ran out (the worker died mid-send: it goes back to ``uncertain``, since the
    request may have reached Meta). Paused channels are skipped: resuming them re-queues.
    """
    from django.db.models import Exists, OuterRef, Q

    now = timezone.now()
    cutoff = now - timedelta(seconds=grace_seconds)
    outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND, channel__paused_at__isnull=True)
    expired = list(outbound.filter(status=Message.Status.SENDING, next_attempt_at__lt=now)
                   .values_list("pk", flat=True)[:limit])
    for pk in expired:
        updated = Message.objects.filter(pk=pk, status=Message.Status.SENDING, next_attempt_at__lt=now).update(
            status=Message.Status.UNCERTAIN, next_attempt_at=None,  # due for the drain kicked below
            error=gettext("the worker stopped while sending: re-sent unless Meta confirms it"))
        if updated:
            logger.warning("message %s: sending lease expired, treated as uncertain", pk)
    heads = (outbound.filter(Q(status=Message.Status.QUEUED) | Q(status=Message.Status.UNCERTAIN))
             .filter(Q(next_attempt_at__isnull=True, created_at__lt=cutoff) | Q(next_attempt_at__lt=cutoff)
                     | Q(pk__in=expired))
             .filter(~Exists(Message.objects.filter(
                 contact_id=OuterRef("contact_id"), direction=Message.Direction.OUTBOUND,
                 status__in=Message.UNSETTLED, pk__lt=OuterRef("pk"))))
             .values_list("pk", flat=True)[:limit])
    contacts = sorted(set(Message.objects.filter(pk__in=list(heads)).values_list("contact_id", flat=True)))
    from messaging.media import messages_preparing_requeue
    from messaging.tasks import outbound_drain

    messages_preparing_requeue(now=now, grace_seconds=grace_seconds, limit=limit)

    for shard in sorted({outbound_shard(contact_id) for contact_id in contacts}):
        # Queued directly, not through the coalescing kick: a worker that died mid-drain leaves its
        # shard's flag up for FLUXO_KICK_TTL, and a kick now would be swallowed by it. A spare drain
        # is harmless (claims skip locked rows and keep each contact's order).
        outbound_drain.delay(shard)
    return len(contacts)
