"""Counts the SQL statements each process runs, for the end-to-end benchmark (bench/e2e.py).

Off unless ``FLUXO_SQL_COUNT`` names a Redis URL: then every database connection this process
opens gets an execute wrapper that counts statements and adds them to the Redis key
``fluxo:bench:sql`` every 200 statements or half second, and at exit. Statements only: the
transactions are read from PostgreSQL's own counters (``pg_stat_database``).
"""

from __future__ import annotations

import atexit
import os
import threading
import time

KEY = "fluxo:bench:sql"
_lock = threading.Lock()
_state = {"pending": 0, "flushed_at": 0.0}
_client = None


def _flush() -> None:
    with _lock:
        pending, _state["pending"] = _state["pending"], 0
        _state["flushed_at"] = time.monotonic()
    if pending and _client is not None:
        try:
            _client.incrby(KEY, pending)
        except Exception:  # noqa: BLE001 - a probe must never break the process it measures
            pass


def _count(execute, sql, params, many, context):
    with _lock:
        _state["pending"] += 1
        due = _state["pending"] >= 200 or time.monotonic() - _state["flushed_at"] > 0.5
    if due:
        _flush()
    return execute(sql, params, many, context)


def _on_connection(sender, connection, **kwargs) -> None:
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


def install() -> None:
    """Called from CoreConfig.ready(): a no-op unless FLUXO_SQL_COUNT is set."""
    global _client
    url = os.environ.get("FLUXO_SQL_COUNT", "")
    if not url:
        return
    import redis
    from django.db.backends.signals import connection_created

    _client = redis.Redis.from_url(url)
    connection_created.connect(_on_connection, dispatch_uid="fluxo-sqlcount")
    atexit.register(_flush)
