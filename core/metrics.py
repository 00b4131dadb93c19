"""Counters that only the process doing the work can see, kept where every process can read them.

Today: Graph API calls (latency, result, error code). The Cloud API client wraps its HTTP call
in :func:`graph_api_call`; the numbers go to Redis (``REDIS_URL``), shared by every worker and
host, where ``/metrics`` reads them at scrape time and the dashboard's roll-up drains the
per-minute error counts. Without Redis (the embedded default) they stay in the process that made
the call. Recording never raises and never blocks long (a 250 ms socket timeout): a monitoring
hiccup must not fail a send.

Counts are summed in the process and written to Redis at most once per ``FLUSH_SECONDS`` (a
timer thread writes what is left when the process goes quiet): one Redis round trip per call
cost 0.24 ms of a send's CPU, and every inbound message makes two calls. A process killed
between flushes loses at most that second of monitoring, never a message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

PREFIX = "fluxo:metrics"
LATENCY_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ERROR_MINUTES_TTL = 3 * 24 * 3600

_client = None
_client_url = None
_client_lock = threading.Lock()
# The fallback without Redis: {key: {field: number}}.
_local: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
_local_lock = threading.Lock()
FLUSH_SECONDS = 1.0
# Summed here between two writes to Redis: {key: {field: number}}.
_buffer: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
_buffer_lock = threading.Lock()
_flush_timer: threading.Timer | None = None


def _redis():
    """A Redis client for REDIS_URL (one per process), or None without Redis."""
    global _client, _client_url
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    with _client_lock:
        if _client is None or _client_url != url:
            import redis

            _client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
            _client_url = url
        return _client


def _bucket(seconds: float) -> str:
    for bound in LATENCY_BUCKETS:
        if seconds <= bound:
            return f"{bound:g}"
    return "+Inf"


def graph_api_observe(*, seconds: float, result: str) -> None:
    """Record one Graph API call: its duration and ``result`` ("ok", a Graph error code such as
    "131047", "http_500", "timeout" or "connection"). Never raises."""
    global _flush_timer
    minute = int(time.time() // 60)
    updates = [(f"{PREFIX}:graph:latency", f"le:{_bucket(seconds)}", 1), (f"{PREFIX}:graph:latency", "count", 1),
               (f"{PREFIX}:graph:latency", "sum", seconds), (f"{PREFIX}:graph:calls", result, 1)]
    if result != "ok":
        updates.append((f"{PREFIX}:graph:errors:{minute}", result, 1))
    try:
        if _redis() is None:
            with _local_lock:
                for key, field, amount in updates:
                    _local[key][field] += amount
            return
        with _buffer_lock:
            for key, field, amount in updates:
                _buffer[key][field] += amount
            if _flush_timer is None:
                _flush_timer = threading.Timer(FLUSH_SECONDS, metrics_flush)
                _flush_timer.daemon = True
                _flush_timer.start()
    except Exception:  # noqa: BLE001 - monitoring must never break a send
        logger.debug("graph API metric not recorded", exc_info=True)


def metrics_flush() -> None:
    """Write the counts summed since the last flush to Redis (one pipeline). Never raises."""
    global _flush_timer
    with _buffer_lock:
        pending = {key: dict(fields) for key, fields in _buffer.items()}
        _buffer.clear()
        _flush_timer = None
    if not pending:
        return
    try:
        client = _redis()
        if client is None:
            return
        pipe = client.pipeline(transaction=False)
        for key, fields in pending.items():
            for field, amount in fields.items():
                if key.endswith(":latency") and field == "sum":
                    pipe.hincrbyfloat(key, field, amount)
                else:
                    pipe.hincrby(key, field, int(amount))
            if ":graph:errors:" in key:
                pipe.expire(key, ERROR_MINUTES_TTL)
        pipe.execute()
    except Exception:  # noqa: BLE001 - monitoring must never break a send
        logger.debug("graph API metrics not written", exc_info=True)


def _result_of(response: Any) -> str:
    """``ok``, Graph's error code, or ``http_<status>``, from a ``requests`` or a ``urllib3`` response."""
    status = getattr(response, "status_code", None) or getattr(response, "status", 0) or 0
    if status < 400:
        return "ok"
    try:
        code = (response.json().get("error") or {}).get("code")
    except Exception:  # noqa: BLE001 - an unreadable error body still counts, by its HTTP status
        code = None
    return str(code) if code is not None else f"http_{status}"


def graph_api_call(send: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``send(*args, **kwargs)`` (the HTTP request to the Graph API), timing it and recording
    its result; the response or exception passes through untouched."""
    started = time.monotonic()
    try:
        response = send(*args, **kwargs)
    except Exception as exc:
        name = type(exc).__name__.lower()
        graph_api_observe(seconds=time.monotonic() - started, result="timeout" if "timeout" in name else "connection")
        raise
    graph_api_observe(seconds=time.monotonic() - started, result=_result_of(response))
    return response


def _read_hash(key: str) -> dict[str, float]:
    client = _redis()
    if client is None:
        with _local_lock:
            return dict(_local.get(key, {}))
    raw = client.hgetall(key)
    return {field.decode(): float(value) for field, value in raw.items()}


def graph_api_snapshot() -> dict[str, dict[str, float]]:
    """Totals since the counters began: ``{"latency": {"le:0.1": n, ..., "sum", "count"}, "calls": {result: n}}``."""
    metrics_flush()  # this process's own latest calls count too
    try:
        return {"latency": _read_hash(f"{PREFIX}:graph:latency"), "calls": _read_hash(f"{PREFIX}:graph:calls")}
    except Exception:  # noqa: BLE001
        logger.warning("graph API metrics unreadable", exc_info=True)
        return {"latency": {}, "calls": {}}


def graph_errors_by_minute(*, after: int, before: int) -> dict[int, dict[str, int]]:
    """Graph API errors per minute (minutes since the epoch) with ``after < minute < before``."""
    found: dict[int, dict[str, int]] = {}
    start = max(after + 1, before - ERROR_MINUTES_TTL // 60)
    metrics_flush()
    client = _redis()
    if client is None:
        with _local_lock:
            for key, fields in _local.items():
                if key.startswith(f"{PREFIX}:graph:errors:"):
                    minute = int(key.rsplit(":", 1)[1])
                    if start <= minute < before:
                        found[minute] = {code: int(n) for code, n in fields.items()}
        return found
    pipe = client.pipeline(transaction=False)
    minutes = list(range(start, before))
    for minute in minutes:
        pipe.hgetall(f"{PREFIX}:graph:errors:{minute}")
    for minute, raw in zip(minutes, pipe.execute(), strict=True):
        if raw:
            found[minute] = {code.decode(): int(n) for code, n in raw.items()}
    return found


def metrics_reset() -> None:
    """Forget every counter (tests)."""
    with _local_lock:
        _local.clear()
    with _buffer_lock:
        _buffer.clear()
    client = _redis()
    if client is not None:
        keys = list(client.scan_iter(match=f"{PREFIX}:*"))
        if keys:
            client.delete(*keys)
