"""Runs Fluxo's processes on one machine and keeps them up: what `make run` starts.

    .venv/bin/python -m config.supervisor [--workers 2] [--port 8000]

Starts the web server, the Celery scheduler (beat) and ``--workers`` Celery workers, each in its
own process group, and prints their output prefixed with their name. A process that dies is
started again after a backoff (1 s, doubling up to 30 s; back to 1 s once it has run for a minute)
while the others go on — honcho, used before, stopped everything when one process exited. SIGINT
(Ctrl-C) or SIGTERM stops every process (SIGTERM to its group, SIGKILL after a grace period) and
exits 0. When the web answers and the workers are ready, the login and the URLs are printed last.

The state of the processes (pid, restarts) is kept in ``$FLUXO_VAR_DIR/supervisor.json`` for the
soak bench and the tests. Standard library only: it must run before, and apart from, Django.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
HEALTHY_AFTER = 60.0  # seconds of life after which a process's next crash restarts it at once again
STOP_GRACE = 15.0
READY_TIMEOUT = 120.0


@dataclasses.dataclass
class Spec:
    """One process to keep running: its name (the output prefix) and command line."""

    name: str
    argv: list[str]
    ready_marker: str = ""  # a line of its output that says it is ready ("" = alive is ready)


def embedded_processes(*, port: int, workers: int, var_dir: Path) -> list[Spec]:
    """The processes of `make run`: web, beat and ``workers`` workers consuming every queue.

    Workers use the solo pool (one task at a time, no pool children to orphan when the worker is
    killed); two of them keep flows running while one is busy with a slow call or restarting.
    """
    celery = str(BIN / "celery")
    level = os.environ.get("LOG_LEVEL", "INFO")
    specs = [
        Spec("web", [str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                     "--no-access-log"], ready_marker=""),
        Spec("beat", [celery, "-A", "config", "beat", "--loglevel", level,
                      "--schedule", str(var_dir / "celerybeat-schedule")]),
    ]
    for number in range(1, workers + 1):
        specs.append(Spec(f"worker-{number}", [
            celery, "-A", "config", "worker", "-n", f"worker{number}@%h", "-Q", "inbound,outbound,calls,celery",
            "--pool", "solo", "--concurrency", "1", "--loglevel", level, "--without-gossip", "--without-mingle",
            "--without-heartbeat"],
            ready_marker=" ready."))
    return specs


class Child:
    """A supervised process and its restart bookkeeping."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.popen: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.backoff = BACKOFF_FIRST
        self.restart_at: float | None = None
        self.ready = not spec.ready_marker
        self.reader: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


class Supervisor:
    """Starts the children, restarts the ones that die, stops them all on a signal."""

    def __init__(self, specs: list[Spec], *, env: dict[str, str] | None = None, out: TextIO = sys.stdout,
                 state_file: Path | None = None, ready_url: str = "", banner: Callable[[], str] | None = None):
        self.children = [Child(spec) for spec in specs]
        self.env = env if env is not None else dict(os.environ)
        self.out = out
        self.state_file = state_file
        self.ready_url = ready_url
        self.banner = banner
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.width = max(len(spec.name) for spec in specs + [Spec("supervisor", [])])

    # --- output ---------------------------------------------------------------------------------
    def say(self, name: str, line: str) -> None:
        with self.lock:
            self.out.write(f"{name:<{self.width}} | {line.rstrip()}\n")
            self.out.flush()

    def _pump(self, child: Child, stream) -> None:
        """Copy one child's output line by line (runs in its own thread until the pipe closes)."""
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            if child.spec.ready_marker and not child.ready and child.spec.ready_marker in line:
                child.ready = True
            self.say(child.spec.name, line)
        stream.close()

    # --- processes ------------------------------------------------------------------------------
    def start(self, child: Child) -> None:
        child.ready = not child.spec.ready_marker
        child.popen = subprocess.Popen(child.spec.argv, cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        child.started_at = time.monotonic()
        child.restart_at = None
        child.reader = threading.Thread(target=self._pump, args=(child, child.popen.stdout), daemon=True)
        child.reader.start()
        self.write_state()

    def _signal_group(self, child: Child, sig: int) -> None:
        if child.popen is None:
            return
        try:
            os.killpg(child.popen.pid, sig)  # the process and anything it started
        except (ProcessLookupError, PermissionError):
            pass

    def check(self) -> None:
        """One round: notice deaths, schedule restarts with backoff, start the due ones."""
        now = time.monotonic()
        for child in self.children:
            if self.stopping.is_set():
                return
            if child.popen is not None and child.restart_at is None and child.popen.poll() is not None:
                code = child.popen.returncode
                self._signal_group(child, signal.SIGKILL)  # leftovers of its group die with it
                if now - child.started_at >= HEALTHY_AFTER:
                    child.backoff = BACKOFF_FIRST
                delay = child.backoff
                child.backoff = min(BACKOFF_MAX, child.backoff * 2)
                child.restart_at = now + delay
                self.say("supervisor", f"{child.spec.name} exited (code {code}); restarting in {delay:.0f} s")
            if child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self.start(child)
                self.say("supervisor", f"{child.spec.name} restarted (pid {child.popen.pid}, restart {child.restarts})")

    def stop(self) -> None:
        """SIGTERM to every group, then SIGKILL what is still there after the grace period."""
        for child in self.children:
            if child.alive:
                self._signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for child in self.children:
            if child.popen is None:
                continue
            try:
                child.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("supervisor", f"{child.spec.name} did not stop in {STOP_GRACE:.0f} s; killing it")
                self._signal_group(child, signal.SIGKILL)
                child.popen.wait(5)
            self._signal_group(child, signal.SIGKILL)
        for child in self.children:
            if child.reader is not None:
                child.reader.join(2)
        self.write_state()

    def write_state(self) -> None:
        if self.state_file is None:
            return
        state = {
            "supervisor": os.getpid(),
            "stopping": self.stopping.is_set(),
            "processes": {
                child.spec.name: {"pid": child.popen.pid if child.popen else None, "alive": child.alive,
                                  "restarts": child.restarts, "ready": child.ready}
                for child in self.children
            },
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.state_file)  # readers never see a half-written file

    # --- readiness ------------------------------------------------------------------------------
    def _web_answers(self) -> bool:
        if not self.ready_url:
            return True
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def run(self) -> int:
        """Start everything and supervise until a signal asks to stop; returns the exit code."""
        def ask_stop(signum, _frame):
            if not self.stopping.is_set():
                self.say("supervisor", f"{signal.Signals(signum).name}: stopping every process")
            self.stopping.set()

        signal.signal(signal.SIGINT, ask_stop)
        signal.signal(signal.SIGTERM, ask_stop)
        for child in self.children:
            self.start(child)
        announced = self.banner is None
        began = time.monotonic()
        last_state = ""
        while not self.stopping.is_set():
            self.check()
            if not announced:
                everyone = all(child.alive and child.ready for child in self.children)
                if (everyone and self._web_answers()) or time.monotonic() - began > READY_TIMEOUT:
                    announced = True
                    with self.lock:
                        self.out.write(self.banner())
                        self.out.flush()
            state = json.dumps([(c.alive, c.ready, c.restarts) for c in self.children])
            if state != last_state:
                last_state = state
                self.write_state()
            self.stopping.wait(0.5)
        self.stop()
        return 0


def admin_banner(*, port: int, var_dir: Path) -> str:
    """The login and the URLs, as seed_demo created them (var/admin-password.txt or the env)."""
    username = os.environ.get("FLUXO_ADMIN_USER", "admin")
    password = os.environ.get("FLUXO_ADMIN_PASSWORD", "")
    secret_file = var_dir / "admin-password.txt"
    if not password and secret_file.exists():
        password = secret_file.read_text().strip()
    base = f"http://127.0.0.1:{port}"
    return (
        "\n  Fluxo is ready.\n"
        f"  Open  {base}/           (editor)\n"
        f"        {base}/sandbox/   (sandbox phone: play the customer)\n"
        f"        {base}/admin/     (Django admin)\n"
        f"  Login {username} / {password or '(see var/admin-password.txt)'}\n"
        "  Ctrl-C stops Fluxo.\n\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("FLUXO_WORKERS", "2")))
    args = parser.parse_args(argv)
    var_dir = Path(os.environ.get("FLUXO_VAR_DIR", ROOT / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["PYTHONUNBUFFERED"] = "1"  # lines reach the console as they are written
    supervisor = Supervisor(
        embedded_processes(port=args.port, workers=args.workers, var_dir=var_dir), env=env,
        state_file=var_dir / "supervisor.json", ready_url=f"http://127.0.0.1:{args.port}/healthz",
        banner=lambda: admin_banner(port=args.port, var_dir=var_dir))
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
