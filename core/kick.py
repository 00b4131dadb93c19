"""Coalesced wake-ups: one queued drain task per shard, however many events arrive.

The inbound and outbound pipelines keep their work in the database (pending webhook deliveries,
queued messages). A *drain* task takes that work in batches until none is left. Producers do not
queue a task per item: they *kick* the drain of the item's shard, which costs one Redis
``SET NX`` and queues a task only when no drain of that shard is queued or running. Under load
the batches grow and the per-item cost of Celery vanishes; at rest every item still starts its
drain at once.

No item is ever left behind: the drain releases its flag (:func:`kick_release`) *before* its last
look for work, and producers kick *after* their item is committed, so an item committed while
the flag was still up is seen by that last look, and one committed after it queues a new drain.
A drain that dies leaves its flag to expire (``KICK_TTL``); the periodic sweeps re-kick stale work.

Without Redis (the embedded default) every kick queues its task: drains then simply find less to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

KICK_TTL = 30  # default seconds a drain may run before another may start on the same shard (FLUXO_KICK_TTL)
BACKLOG_TTL = 3  # seconds a drain's backlog report stands


@lru_cache(maxsize=2)
def _client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _key(name: str, shard: int) -> str:
    return f"fluxo:kick:{name}:{shard}"


def kick(name: str, shard: int, enqueue: Callable[[], Any], *, with_backlog: bool = False) -> bool | tuple[bool, int]:
    """Queue the drain of ``(name, shard)`` unless one is already queued or running. Returns whether it queued
    (and, with ``with_backlog``, the backlog the drains of ``name`` last reported, read in the same round trip).

    Call it after the work is committed (``kick_on_commit`` does that for you).
    """
    queued, backlog = kick_many(name, [shard], lambda _shard: enqueue(), with_backlog=with_backlog)
    return (bool(queued), backlog) if with_backlog else bool(queued)


def kick_many(name: str, shards: Iterable[int], enqueue: Callable[[int], Any], *,
              with_backlog: bool = False) -> tuple[list[int], int]:
    """:func:`kick` for several shards of ``name`` in one Redis round trip (a batch of stored work).

    Returns the shards whose drain it queued and, with ``with_backlog``, the backlog last reported.
    """
    shards = list(dict.fromkeys(shards))
    url = getattr(settings, "REDIS_URL", "")
    backlog = 0
    to_queue = shards
    if url and shards:
        try:
            pipe = _client(url).pipeline(transaction=False)
            ttl = int(getattr(settings, "FLUXO_KICK_TTL", KICK_TTL))
            for shard in shards:
                pipe.set(_key(name, shard), "1", nx=True, ex=ttl)
            if with_backlog:
                pipe.get(_backlog_key(name))
            answers = pipe.execute()
            backlog = int(answers[len(shards)] or 0) if with_backlog else 0
            to_queue = [shard for shard, taken in zip(shards, answers, strict=False) if taken]
        except Exception:  # noqa: BLE001 - without Redis, queue the task: a spare drain finds nothing
            logger.warning("kick %s:%s without Redis: queueing the drains anyway", name, shards, exc_info=True)
    for shard in to_queue:
        enqueue(shard)
    return to_queue, backlog


def _backlog_key(name: str) -> str:
    return f"fluxo:backlog:{name}"


def kick_extend(name: str, shard: int) -> None:
    """A drain hands its shard over to a fresh task of its own (time slicing): keep the flag up for it."""
    url = getattr(settings, "REDIS_URL", "")
    if url:
        try:
            _client(url).set(_key(name, shard), "1", ex=int(getattr(settings, "FLUXO_KICK_TTL", KICK_TTL)))
        except Exception:  # noqa: BLE001 - at worst a second drain runs; claims are safe with two
            logger.warning("could not extend kick %s:%s", name, shard, exc_info=True)


def backlog_report(name: str, count: int) -> None:
    """A drain says how much work waits in all shards of ``name``. Kept for ``BACKLOG_TTL`` s: no report, no
    drain at work. The total, not the drain's own shard: a shard whose drain waits for a worker reports
    nothing, and its backlog must still slow the producers down."""
    url = getattr(settings, "REDIS_URL", "")
    if url:
        try:
            _client(url).set(_backlog_key(name), count, ex=BACKLOG_TTL)
        except Exception:  # noqa: BLE001 - backpressure is an optimisation; the work goes on without it
            logger.debug("could not report the %s backlog", name, exc_info=True)


def kick_on_commit(name: str, shard: int, enqueue: Callable[[], Any]) -> None:
    """:func:`kick` once the current transaction commits (at once outside one).

    Inside a unit of work (a batch of events), one kick per shard for the whole unit.
    """
    from core.unit import current

    unit = current()
    if unit is None:
        transaction.on_commit(lambda: kick(name, shard, enqueue))
        return
    pending = getattr(unit, "_kicks", None)
    if pending is None:
        pending = unit._kicks = {}
    if (name, shard) not in pending:
        pending[(name, shard)] = enqueue
        transaction.on_commit(lambda: kick(name, shard, enqueue))


def kick_release(name: str, shard: int) -> None:
    """A drain found its shard empty: let the next kick queue a new drain. Look once more afterwards."""
    url = getattr(settings, "REDIS_URL", "")
    if url:
        try:
            _client(url).delete(_key(name, shard))
        except Exception:  # noqa: BLE001 - the flag then expires by itself
            logger.warning("could not release kick %s:%s", name, shard, exc_info=True)


def shard_of(value: Any, shards: int) -> int:
    """A stable shard for a sender or contact (the same one in every process)."""
    import zlib

    return zlib.crc32(str(value).encode()) % max(1, shards)
