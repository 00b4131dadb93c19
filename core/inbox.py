"""The inbox: every event that can move a flow is recorded here once, then dispatched.

Recording (:func:`event_record`) stores an :class:`~core.models.InboundEvent` under a unique
``dedupe_key`` (a second delivery of the same event is a no-op) and, once the transaction
commits, hands the event's contact to the registered dispatcher, which queues the processing of
that contact's pending events in order. The inbox knows nothing of flows or messaging: the flows
app registers the dispatcher (``flows.apps``), messaging and integrations only record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from core.models import InboundEvent

# Called with a contact id after the transaction that recorded a pending event of that contact
# commits. Registered by the app that processes events (flows).
_dispatchers: list[Callable[[int], None]] = []


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
    channel=None,
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
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                kind=kind, dedupe_key=dedupe_key[:255], contact=contact, channel=channel,
                payload=payload, raw=raw, occurred_at=occurred_at, state=state, error=error,
            )
    except IntegrityError:
        return InboundEvent.objects.get(dedupe_key=dedupe_key[:255]), False
    if state == InboundEvent.State.PENDING:
        dispatch_contact(contact.pk)
    return event, True


def event_reprocess(*, event: InboundEvent) -> None:
    """Put an event back to pending (an operator's "process again") and queue its contact."""
    with transaction.atomic():
        InboundEvent.objects.filter(pk=event.pk).update(state=InboundEvent.State.PENDING, error="")
        if event.contact_id:
            dispatch_contact(event.contact_id)
