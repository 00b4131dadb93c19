"""Turns domain events into webhook deliveries (runs after the emitting transaction commits)."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def on_domain_event(sender: Any, *, event_type: str, data: dict[str, Any], **kwargs: Any) -> None:
    from integrations.webhooks.services import webhook_event_fanout

    try:
        webhook_event_fanout(event_type=event_type, data=data)
    except Exception:  # a webhook problem must never break the work that emitted the event
        logger.exception("could not queue webhooks for %s", event_type)
