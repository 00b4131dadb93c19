"""Websocket of the sandbox phone: pushes a sandbox contact's chat as it changes.

A ping on the channel layer (:func:`sandbox_notify`, sent after commit when a sandbox message is
stored or changes status) makes the consumer sync at once; a short poll of the database covers
layers that do not reach across processes (the embedded default's in-memory layer, with the
worker in another process), so nothing is missed. The page falls back to HTTP polling when the
socket cannot open.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0


def sandbox_group(contact_id: int) -> str:
    return f"sandbox.contact.{contact_id}"


def sandbox_notify(contact_id: int) -> None:
    """Tell the sandbox page(s) of this contact that its chat changed (after commit, best effort)."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(sandbox_group(contact_id), {"type": "sandbox.changed"})
        except Exception:  # noqa: BLE001 - the consumer's own poll covers a lost ping
            logger.warning("could not publish a sandbox notification", exc_info=True)

    transaction.on_commit(send)


class SandboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        contact_id = int(self.scope["url_route"]["kwargs"]["contact_id"])
        if not await self._allowed(self.scope.get("user"), contact_id):
            await self.close(code=4403)
            return
        self.contact_id = contact_id
        self.last_id = 0
        self.pending: dict[int, str] = {}  # outbound messages still on their way → last status pushed
        self.lock = asyncio.Lock()
        self.group = sandbox_group(contact_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._push()
        self.poller = asyncio.create_task(self._poll())

    async def disconnect(self, code):
        if getattr(self, "poller", None):
            self.poller.cancel()
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def sandbox_changed(self, event):
        await self._push()

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "sync":
            await self._push()

    async def _poll(self):
        while True:
            await asyncio.sleep(POLL_SECONDS)
            await self._push()

    @database_sync_to_async
    def _allowed(self, user, contact_id: int) -> bool:
        from core.permissions import has_role
        from messaging.selectors import sandbox_contact

        if user is None or not user.is_authenticated or not has_role(user, "viewer"):
            return False
        return sandbox_contact(contact_id=contact_id) is not None

    @database_sync_to_async
    def _changes(self) -> list[dict]:
        from messaging.models import Contact
        from messaging.selectors import sandbox_chat

        after = (min(self.pending) - 1) if self.pending else self.last_id
        return sandbox_chat(contact=Contact(pk=self.contact_id), after=after)

    async def _push(self):
        async with self.lock:
            messages = await self._changes()
            fresh = []
            for message in messages:
                pk, status = message["id"], message["status"]
                if pk > self.last_id or (pk in self.pending and self.pending[pk] != status):
                    fresh.append(message)
                if message["direction"] == "out" and status in ("preparing", "queued", "sending"):
                    self.pending[pk] = status
                else:
                    self.pending.pop(pk, None)
                self.last_id = max(self.last_id, pk)
            if fresh:
                await self.send_json({"type": "messages", "messages": fresh})
