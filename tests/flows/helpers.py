"""Helpers for engine tests: a clock you can move, and sending events through the real path."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from flows.engine.runtime import DefaultRuntime
from flows.models import InboundEvent
from flows.services import contact_events_process, event_record


class FrozenRuntime(DefaultRuntime):
    """The default runtime (real sending through messaging) with a clock the test moves."""

    def __init__(self, now: datetime | None = None):
        self.current = now or timezone.now()

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


_counter = iter(range(1, 10**9))


def inbound(contact, text: str = "oi", *, kind: str = "message", process: bool = True, **payload) -> InboundEvent:
    """Record an inbound event for ``contact`` the way the channel does, then process the contact's queue."""
    from messaging.services import message_record_inbound

    number = next(_counter)
    message_id = f"wamid.test{number}"
    if kind in ("message", "interactive_reply"):
        _msg, started = message_record_inbound(contact=contact, channel=contact.channel, kind="text",
                                               content={"text": {"body": text}}, provider_message_id=message_id)
        payload.setdefault("conversation_started", started)
    body = {"type": "text" if kind == "message" else kind, "text": text, "message_id": message_id,
            "from": contact.phone, **payload}
    event, _ = event_record(kind=kind, dedupe_key=f"test:{message_id}", contact=contact, payload=body)
    if process:
        from tests.calls import calls_settle

        contact_events_process(contact_id=contact.pk)
        calls_settle()  # outside calls are made by the calls worker: here, at once
    event.refresh_from_db()
    return event
