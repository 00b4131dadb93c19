"""Meta's webhook POSTs as a lean ASGI endpoint, ahead of Django's middleware.

A webhook needs none of what the middleware does for people (sessions, CSRF, messages, locale,
authentication): it is authenticated by its signature. Under ASGI each of those middlewares costs
a thread hop per request, which made the middleware the largest cost of a webhook. This app reads
the body (bounded), checks the host against ``ALLOWED_HOSTS`` and hands the bytes to a group commit
(:class:`_GroupCommit`): the POSTs that arrive together are authenticated, stored by one INSERT and
queued by one Redis round trip in one worker thread, and each is answered once its row is stored. Any
other request — the GET handshake included — goes to Django as usual (``config/asgi.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import OperationalError, close_old_connections, connection
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger(__name__)

PATH = "/webhooks/whatsapp/"


def handles(scope: dict[str, Any]) -> bool:
    return scope.get("type") == "http" and scope.get("method") == "POST" and scope.get("path") == PATH


async def _respond(send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


Outcome = tuple[int, str, float]  # HTTP status, text, backpressure delay in seconds

BATCH_MAX = 128  # POSTs stored by one INSERT
IN_FLIGHT = 2  # batches being stored at once per process: one commits while the next is built


def _receive_many(items: list[tuple[bytes, str | None]]) -> list[Outcome]:
    """Authenticate and store a batch of webhooks (in a worker thread), one outcome per item.

    Each item is authenticated on its own (a bad signature refuses only its POST); the accepted ones
    are stored together (:func:`messaging.ingest.deliveries_store`) and answered 200 only once stored.
    """
    from messaging.ingest import (
        PayloadTooLarge,
        SignatureInvalid,
        SignatureMissing,
        backpressure_delay,
        deliveries_store,
        webhook_authenticate,
    )

    outcomes: list[Outcome | None] = [None] * len(items)
    drafts, positions = [], []
    close_old_connections()
    try:
        for position, (body, signature) in enumerate(items):
            try:
                drafts.append(webhook_authenticate(body=body, signature=signature))
                positions.append(position)
            except PayloadTooLarge:
                outcomes[position] = (413, "payload too large", 0.0)
            except SignatureMissing:
                outcomes[position] = (401, "missing X-Hub-Signature-256", 0.0)
            except SignatureInvalid:
                outcomes[position] = (403, "invalid signature", 0.0)
        if drafts:
            stored, backlog = deliveries_store(drafts)
            delay = backpressure_delay(backlog)
            for position, row in zip(positions, stored, strict=True):
                if isinstance(row, Exception):
                    logger.error("webhook not stored: %s", row)
                    outcomes[position] = (500, "not stored", 0.0)  # Meta retries it
                else:
                    outcomes[position] = (200, "EVENT_RECEIVED", delay)
    except OperationalError:
        logger.exception("%d webhook(s) not stored: the database is unavailable", len(items))
        outcomes = [(503, "try again later", 0.0) if outcome is None or outcome[0] == 200 else outcome
                    for outcome in outcomes]
    finally:
        connection.close()  # back to the pool: this thread serves other requests
    return cast(list[Outcome], outcomes)  # every position was answered above (or the call raised)


class _GroupCommit:
    """Stores the webhooks a process receives at the same moment together: one INSERT, one commit and one
    Redis round trip per batch instead of per POST (the commit and the thread hop were most of a POST's cost).

    Nothing waits to fill a batch: a POST that finds a free slot is stored at once, alone; the POSTs that
    arrive while ``IN_FLIGHT`` batches are being stored form the next one. Each POST is answered only
    when its own row is committed, so "stored before acknowledged" holds per POST.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[tuple[bytes, str | None, asyncio.Future[Outcome]]] = []
        self.running = 0

    async def submit(self, body: bytes, signature: str | None) -> Outcome:
        future: asyncio.Future[Outcome] = self.loop.create_future()
        self.waiting.append((body, signature, future))
        if self.running < IN_FLIGHT:
            self.running += 1
            self.loop.create_task(self._store_while_waiting())
        return await future

    async def _store_while_waiting(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[:BATCH_MAX], self.waiting[BATCH_MAX:]
                try:
                    outcomes = await sync_to_async(_receive_many, thread_sensitive=False)(
                        [(body, signature) for body, signature, _ in batch])
                except Exception as error:  # noqa: BLE001 - each POST of the batch gets it (a 500)
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, _, future), outcome in zip(batch, outcomes, strict=True):
                    if not future.done():
                        future.set_result(outcome)
        finally:
            self.running -= 1


_group_commits: dict[asyncio.AbstractEventLoop, _GroupCommit] = {}


def _group_commit() -> _GroupCommit:
    """The running loop's group commit (a uvicorn worker has one loop; tests start a loop per call)."""
    loop = asyncio.get_running_loop()
    group = _group_commits.get(loop)
    if group is None:
        for stale in [other for other in _group_commits if other.is_closed()]:
            del _group_commits[stale]
        group = _group_commits[loop] = _GroupCommit(loop)
    return group


async def whatsapp_webhook(scope: dict[str, Any], receive, send) -> None:
    from messaging.ingest import max_body_bytes

    headers = {name.lower(): value for name, value in scope.get("headers") or []}
    host = headers.get(b"host", b"").decode("latin-1")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        await _respond(send, 400, "bad host")
        return
    limit = max_body_bytes()
    try:
        declared = int(headers.get(b"content-length", b"0") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        await _respond(send, 413, "payload too large")
        return
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await _respond(send, 413, "payload too large")
            return
        chunks.append(chunk)
        more = message.get("more_body", False)
    signature = headers.get(b"x-hub-signature-256")
    status, text, delay = await _group_commit().submit(
        b"".join(chunks), signature.decode("latin-1") if signature is not None else None)
    if delay:
        await asyncio.sleep(delay)  # stored already; the workers are behind: slow the sender (no CPU held)
    await _respond(send, status, text, [(b"retry-after", b"5")] if status == 503 else None)
