"""The inbox: every event that can move a flow is recorded here once, then dispatched.

Recording (:func:`event_record`) stores an :class:`~core.models.InboundEvent` under a unique
``dedupe_key`` (a second delivery of the same event is a no-op) and, once the transaction
commits, hands the event's contact to the registered dispatcher, which queues the processing of
that contact's pending events in order. The inbox knows nothing of flows or messaging: the flows
app registers the dispatcher and the processor (``flows.apps``), messaging and integrations
only record.

Two ways in:

* :func:`event_record` — any caller, any time: the event is stored pending and its contact is
  queued for processing after commit (the contact task takes the contact's lock).
* :func:`event_take` — a caller that already holds the contact's row lock inside a transaction
  (the inbound worker, which locked the contact to record its message): the event is handed to
  the registered processor at once, in the same transaction, behind any event of that contact
  still pending. One unit of work per event: no second task, no second transaction.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from core.db import insert_or_skip
from core.models import InboundEvent

# Called with a contact id after the transaction that recorded a pending event of that contact
# commits. Registered by the app that processes events (flows).
_dispatchers: list[Callable[[int], None]] = []


# Processes a new event of a locked contact now: ``process(contact=..., event=EventSpec)``.
_processor: Callable[..., Any] | None = None


@dataclass
class EventSpec:
    """An event not stored yet. ``unique_checked`` says the caller already made sure that
    ``dedupe_key`` is new (e.g. the inbound message's own insert deduplicated the wamid)."""

    kind: str
    dedupe_key: str
    payload: dict[str, Any]
    raw: Any = None
    occurred_at: datetime | None = None
    channel_id: int | None = None
    unique_checked: bool = False


# Careful mode (a retry after a failure): the processor runs each event in a savepoint, so a bug
# in one marks only that event failed. The fast path has no savepoint at all.
careful_mode: contextvars.ContextVar[bool] = contextvars.ContextVar("fluxo_inbox_careful", default=False)


@contextmanager
def careful_scope(careful: bool) -> Iterator[None]:
    token = careful_mode.set(careful)
    try:
        yield
    finally:
        careful_mode.reset(token)


def register_processor(process: Callable[..., Any]) -> None:
    """Register the function that processes a locked contact's new event (see :func:`event_take`)."""
    global _processor
    _processor = process


# Reads ahead the state of many locked contacts at once: ``prepare(contact_ids=[...])`` (flows).
_preparer: Callable[..., Any] | None = None


def register_preparer(prepare: Callable[..., Any]) -> None:
    """Register the function that reads a batch of locked contacts' state ahead (see :func:`contacts_prepare`)."""
    global _preparer
    _preparer = prepare


def contacts_prepare(*, contact_ids: list[int]) -> None:
    """A caller about to :func:`event_take` for many locked contacts (a batch) lets the processor read
    their state in one statement instead of one per contact. Optional: without it nothing changes."""
    if _preparer is not None and contact_ids:
        _preparer(contact_ids=contact_ids)


def register_dispatcher(dispatch: Callable[[int], None]) -> None:
    """Register the function that queues the processing of a contact's pending events."""
    if dispatch not in _dispatchers:
        _dispatchers.append(dispatch)


def dispatch_contact(contact_id: int) -> None:
    """Queue the processing of a contact's pending events once the current transaction commits."""
    for dispatch in _dispatchers:
        transaction.on_commit(lambda d=dispatch: d(contact_id))


def event_record(
    *,
    kind: str,
    dedupe_key: str,
    contact=None,
    channel=None,  # a Channel, its id, or None
    payload: dict[str, Any],
    raw: Any = None,
    occurred_at: datetime | None = None,
    ignore_reason: str = "",
) -> tuple[InboundEvent, bool]:
    """Store an incoming event once and queue its processing after commit.

    Returns ``(event, created)``; a second call with the same ``dedupe_key`` returns the stored
    event and ``created=False`` and queues nothing (duplicates are no-ops). With
    ``ignore_reason`` the event is only kept (state ignored, the reason as its note): flows never
    see it. An event without a contact is kept for inspection and never processed.
    """
    state = InboundEvent.State.PENDING
    error = ignore_reason[:2000]
    if ignore_reason:
        state = InboundEvent.State.IGNORED
    elif contact is None:
        state, error = InboundEvent.State.IGNORED, "no contact: kept for inspection"
    # ON CONFLICT DO NOTHING rather than catching IntegrityError: no savepoint in the caller's transaction.
    event = insert_or_skip(InboundEvent, {
        "kind": kind, "dedupe_key": dedupe_key[:255], "contact": contact,
        "channel_id": channel if isinstance(channel, int) or channel is None else channel.pk,
        "payload": payload, "raw": raw, "occurred_at": occurred_at, "state": state, "error": error,
    }, unique=["dedupe_key"])
    if event is None:
        return InboundEvent.objects.get(dedupe_key=dedupe_key[:255]), False
    if state == InboundEvent.State.PENDING:
        from core.unit import current

        unit = current()
        if unit is not None:
            unit.contact_facts.pop(contact.pk, None)  # what was read ahead of this contact misses this event
        dispatch_contact(contact.pk)
    return event, True


def event_reprocess(*, event: InboundEvent) -> None:
    """Put an event back to pending (an operator's "process again") and queue its contact."""
    with transaction.atomic():
        InboundEvent.objects.filter(pk=event.pk).update(state=InboundEvent.State.PENDING, error="")
        if event.contact_id:
            dispatch_contact(event.contact_id)


def event_take(*, contact, event: EventSpec) -> InboundEvent | None:
    """Record ``event`` for ``contact`` and process it now, in the caller's transaction.

    Precondition: inside ``transaction.atomic()`` with the contact's row locked
    (``select_for_update``). Returns the stored event, or None when it was a duplicate. Without a
    registered processor the event is only recorded (and queued), like :func:`event_record`.
    """
    if _processor is None:
        stored, created = event_record(kind=event.kind, dedupe_key=event.dedupe_key, contact=contact,
                                       channel=event.channel_id,
                                       payload=event.payload, raw=event.raw, occurred_at=event.occurred_at)
        return stored if created else None
    return _processor(contact=contact, event=event)

