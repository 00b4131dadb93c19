"""Log filters of Fluxo's processes (attached in config/celery.py and settings.LOGGING).

``QuietTicksFilter`` keeps the console quiet while idle: the scheduler's "Sending due task" line and
a worker's "received" / "succeeded" lines for periodic housekeeping tasks (several a second: the
timer scan runs every second) are DEBUG records, shown only with ``LOG_LEVEL=DEBUG``. Everything
else — tasks doing real work, warnings, errors, a periodic task that fails — keeps its level.
"""

from __future__ import annotations

import logging

# Fanned out by a periodic task on every tick, so as noisy as the periodic tasks themselves.
EXTRA_TICK_TASKS = frozenset({"flows.tasks.timers_sweep"})


def tick_task_names() -> frozenset[str]:
    """Names of the tasks beat sends on a schedule, plus the ones they fan out to."""
    try:
        from django.conf import settings

        schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", {}) or {}
    except Exception:  # noqa: BLE001 - settings not configured: only the known extras
        schedule = {}
    return frozenset(entry["task"] for entry in schedule.values() if "task" in entry) | EXTRA_TICK_TASKS


def _task_name(record: logging.LogRecord) -> str:
    args = record.args
    if isinstance(args, dict):
        return str(args.get("name", ""))
    if isinstance(args, tuple) and args and isinstance(args[0], dict):
        return str(args[0].get("name", ""))
    return ""


def is_tick(record: logging.LogRecord, names: frozenset[str]) -> bool:
    """Whether the record only says that a periodic task was sent, received or succeeded."""
    if record.levelno > logging.INFO:
        return False
    if record.name == "celery.beat":
        return str(record.msg).startswith("Scheduler: Sending due task")
    if record.name in ("celery.worker.strategy", "celery.app.trace"):
        message = str(record.msg)
        if "received" in message or "succeeded" in message:
            return _task_name(record) in names
    return False


class QuietTicksFilter(logging.Filter):
    """Turns periodic-tick records into DEBUG records (dropped unless the root level is DEBUG)."""

    def __init__(self, name: str = ""):
        super().__init__(name)
        self._names: frozenset[str] | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self._names is None:
            self._names = tick_task_names()
        if not is_tick(record, self._names):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)
