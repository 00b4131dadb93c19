"""Meta's webhook POSTs as a lean ASGI endpoint, ahead of Django's middleware.

A webhook needs none of what the middleware does for people (sessions, CSRF, messages, locale,
authentication): it is authenticated by its signature. Under ASGI each of those middlewares costs
a thread hop per request, which made the middleware the largest cost of a webhook. This app reads
the body (bounded), checks the host against ``ALLOWED_HOSTS`` and hands the bytes to
:func:`messaging.ingest.webhook_receive` in one worker thread, which stores and queues them. Any
other request — the GET handshake included — goes to Django as usual (``config/asgi.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

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


def _receive(body: bytes, signature: str | None) -> tuple[int, str, float]:
    """Store the webhook (in a worker thread). Returns the HTTP status, text, and backpressure delay."""
    from messaging.ingest import (
        PayloadTooLarge,
        SignatureInvalid,
        SignatureMissing,
        backpressure_delay,
        webhook_receive,
    )

    close_old_connections()
    try:
        delivery = webhook_receive(body=body, signature=signature)
        return 200, "EVENT_RECEIVED", backpressure_delay(getattr(delivery, "backlog", 0))
    except PayloadTooLarge:
        return 413, "payload too large", 0.0
    except SignatureMissing:
        return 401, "missing X-Hub-Signature-256", 0.0
    except SignatureInvalid:
        return 403, "invalid signature", 0.0
    except OperationalError:
        logger.exception("webhook not stored: the database is unavailable")
        return 503, "try again later", 0.0
    finally:
        connection.close()  # back to the pool: this thread serves other requests


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
    status, text, delay = await sync_to_async(_receive, thread_sensitive=False)(
        b"".join(chunks), signature.decode("latin-1") if signature is not None else None)
    if delay:
        await asyncio.sleep(delay)  # stored already; the workers are behind: slow the sender (no CPU held)
    await _respond(send, status, text, [(b"retry-after", b"5")] if status == 503 else None)
