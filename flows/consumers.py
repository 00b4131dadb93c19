"""Websocket of an editor's Test run: pushes steps, chat messages and run changes as they happen.

A ping on the channel layer (``flows.trace``) makes the consumer sync at once; a short poll of
the database covers layers that do not reach across processes (the embedded default), so no
step is ever missed: the consumer sends everything with an id above the last one it sent.
Outbound messages still on their way (preparing, queued, sending, sent...) are read again on
each sync and sent again when their status changed, so the chat shows the real delivery status
(the sandbox phone does the same), not the one they had when first seen.
"""

from __future__ import annotations

import asyncio
import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from flows.trace import contact_group

POLL_SECONDS = 0.5
# An outbound message's status may still change until it is read or failed; watch at most this many.
FINAL_STATUSES = ("read", "failed")
MAX_WATCHED = 100


class TestRunConsumer(AsyncJsonWebsocketConsumer):
    __test__ = False  # not a pytest test class

    async def connect(self):
        user = self.scope.get("user")
        self.test = await self._load(user, int(self.scope["url_route"]["kwargs"]["test_id"]))
        if self.test is None:
            await self.close(code=4403)
            return
        self.group = contact_group(self.test.contact_id)
        self.last_message = self.last_step = 0
        self.watched: dict[int, str] = {}  # outbound message id -> the status last sent to the chat
        self.last_run: str | None = None
        self.lock = asyncio.Lock()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._push_updates(snapshot=True)
        self.poller = asyncio.create_task(self._poll())

    async def disconnect(self, code):
        if getattr(self, "poller", None):
            self.poller.cancel()
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "sync":
            await self._push_updates()

    async def trace_changed(self, event):
        await self._push_updates()

    async def _poll(self):
        while True:
            await asyncio.sleep(POLL_SECONDS)
            await self._push_updates()

    @database_sync_to_async
    def _load(self, user, test_id):
        from flows.selectors import test_runs_visible

        # The starter and admins only, as in the REST API.
        return test_runs_visible(user=user).filter(pk=test_id).first()

    @database_sync_to_async
    def _snapshot(self):
        from core.secrets import secrets_mask
        from flows.selectors import test_run_snapshot

        return secrets_mask(test_run_snapshot(test=self.test, after_message=self.last_message,
                                              after_step=self.last_step, also_messages=list(self.watched)))

    async def _push_updates(self, snapshot: bool = False):
        async with self.lock:
            data = await self._snapshot()
            if snapshot:
                await self.send_json({"type": "snapshot", **data})
            else:
                for step in data["steps"]:
                    await self.send_json({"type": "step", "step": step})
                for message in data["messages"]:
                    if message["id"] > self.last_message or self.watched.get(message["id"]) != message["status"]:
                        await self.send_json({"type": "message", "message": message})
            self._watch(data["messages"])
            run_key = json.dumps(data["run"], sort_keys=True, default=str)
            if not snapshot and run_key != self.last_run:
                await self.send_json({"type": "run", "run": data["run"], "status": data["status"]})
            self.last_run = run_key
            if data["steps"]:
                self.last_step = data["steps"][-1]["id"]
            if data["messages"]:
                self.last_message = max(self.last_message, data["messages"][-1]["id"])

    def _watch(self, messages) -> None:
        """Remember the outbound messages whose status may still change (the newest ones)."""
        for message in messages:
            if message["direction"] == "out" and message["status"] not in FINAL_STATUSES:
                self.watched[message["id"]] = message["status"]
            else:
                self.watched.pop(message["id"], None)
        while len(self.watched) > MAX_WATCHED:
            self.watched.pop(min(self.watched))
