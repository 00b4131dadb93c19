"""Domain events that other parts subscribe to (outbound webhooks, alerts, live views).

Send with ``domain_event_emit(event_type="run.completed", data={...})``. Event types:
``conversation.opened|triaged|assigned|closed``, ``message.received|sent|delivered|read|failed``,
``run.completed|failed``, ``contact.opted_in|opted_out``. Receivers run after the current
transaction commits, so they never see (or announce) rolled-back work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.dispatch import Signal

domain_event = Signal()  # kwargs: event_type: str, data: dict


def domain_event_emit(*, event_type: str, data: dict[str, Any] | Callable[[], dict[str, Any]]) -> None:
    """Announce ``event_type`` after commit. ``data`` may be a function, called then (ids known at commit)."""
    transaction.on_commit(lambda: domain_event.send(sender=None, event_type=event_type,
                                                    data=data() if callable(data) else data))
