"""Live trace of runs: steps and run changes pushed to websocket viewers (the editor's Test run).

Publishing goes through the channel layer after commit. Viewers also catch up from the
database (see ``flows.consumers``), so a layer that does not cross processes (the embedded
default's in-memory layer, with the worker in another process) loses nothing.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def contact_group(contact_id: int) -> str:
    return f"trace.contact.{contact_id}"


def trace_notify_contact(contact_id: int) -> None:
    """Tell viewers of this contact that something new is in the database."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(contact_group(contact_id), {"type": "trace.changed"})
        except Exception:  # live view is best effort; the viewer's catch-up covers a lost ping
            logger.warning("could not publish a trace notification", exc_info=True)

    transaction.on_commit(send)


def trace_publish_step(step) -> None:
    if step is not None and step.run.is_test:
        trace_notify_contact(step.run.contact_id)
