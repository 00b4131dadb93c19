"""Channels as the hot path reads them: a per-process cache by id and by phone number id.

A channel is read for every inbound message (whose channel is it, is it paused) and every send
(its token and Graph API address). Channels change rarely, so each process keeps them for
``TTL`` seconds and forgets them at once when one is saved in that process. Code that must see
the database's truth asks for it: the sender claims a message only while its channel is not
paused (in SQL), and reloads the channel when the Graph API refuses the cached token.
"""

from __future__ import annotations

import threading
import time

from django.db.models.signals import post_delete, post_save

from messaging.models import Channel, SandboxChannel, WhatsAppCloudChannel

TTL = 30.0
SANDBOX_PREFIX = "sandbox-"

_lock = threading.Lock()
_by_id: dict[int, tuple[float, Channel | None]] = {}
_by_phone: dict[str, tuple[float, Channel | None]] = {}


def channel_get(pk: int | None, *, fresh: bool = False) -> Channel | None:
    """The concrete channel (polymorphic) with this id, cached."""
    if pk is None:
        return None
    now = time.monotonic()
    if not fresh:
        with _lock:
            hit = _by_id.get(pk)
        if hit and now - hit[0] < TTL:
            return hit[1]
    channel = Channel.objects.filter(pk=pk).first()
    with _lock:
        _by_id[pk] = (now, channel)
    return channel


def channel_by_phone_id(phone_id: str) -> Channel | None:
    """The channel of a payload's ``metadata.phone_number_id`` (sandbox ids are ``sandbox-<pk>``), cached."""
    now = time.monotonic()
    with _lock:
        hit = _by_phone.get(phone_id)
    if hit and now - hit[0] < TTL and hit[1] is not None:
        return hit[1]
    if phone_id.startswith(SANDBOX_PREFIX):
        pk = phone_id[len(SANDBOX_PREFIX):]
        channel = SandboxChannel.objects.filter(pk=pk).first() if pk.isdigit() else None
    else:
        channel = WhatsAppCloudChannel.objects.filter(phone_number_id=phone_id).first()
    with _lock:
        _by_phone[phone_id] = (now, channel)
        if channel is not None:
            _by_id[channel.pk] = (now, channel)
    return channel


def channels_forget(*_args, **_kwargs) -> None:
    """Drop every cached channel (one was saved or deleted; tests)."""
    with _lock:
        _by_id.clear()
        _by_phone.clear()
    from messaging.ingest import secrets_forget

    secrets_forget()


for _model in (Channel, SandboxChannel, WhatsAppCloudChannel):
    post_save.connect(channels_forget, sender=_model, dispatch_uid=f"channels-forget-save-{_model.__name__}")
    post_delete.connect(channels_forget, sender=_model, dispatch_uid=f"channels-forget-delete-{_model.__name__}")
