"""Real Celery worker and beat processes for integration tests, on the test database and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).parent / "celery")


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a child process that must see exactly what the test sees."""
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "FLUXO_VAR_DIR": str(settings.VAR_DIR),
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    })
    env.update(extra)
    return env


class Proc:
    """A child process in its own session, so it and its children can be killed as one."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"fluxo-{name}-", suffix=".log", delete=False)
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish or clean up (a crashed machine)."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]


def start_worker(name: str, **env: str) -> Proc:
    return Proc(name, [CELERY, "-A", "config", "worker", "--pool=solo", "-n", f"{name}@%h",
                       "-Q", env.pop("QUEUES", "inbound,outbound,calls,celery"), "--without-gossip",
                       "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"], process_env(**env))


def start_beat(**env: str) -> Proc:
    schedule = tempfile.mktemp(prefix="fluxo-beat-")
    return Proc("beat", [CELERY, "-A", "config", "beat", "--loglevel=WARNING", "--schedule", schedule],
                process_env(**env))


def purge_queue() -> None:
    from config.celery import app

    app.control.purge()


def wait_for(condition: Callable[[], bool], *, timeout: float = 30, interval: float = 0.1, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for: {message or condition}")
