"""The embedded default (issue 9, point 7): what `make run` starts with no DATABASE_URL/REDIS_URL —
SQLite, the SQLite broker, beat and two workers under config/supervisor.py — in a temporary
FLUXO_VAR_DIR. The processes get an environment without the test suite's PostgreSQL/Redis and with
DJANGO_SETTINGS_MODULE=config.settings; everything goes through the web and the real processes.

Checks: a flow's 2-s delay fires through beat with two workers (a contact's second message too:
on SQLite it used to fail); a SIGKILLed worker is restarted by the supervisor while the web keeps
answering and flows keep running; the console stays quiet while idle; SIGTERM stops everything.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from bench._embedded import EmbeddedStack, free_port

pytestmark = pytest.mark.slow


def wait_until(condition, *, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s: {message}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


@pytest.fixture
def stack(tmp_path):
    embedded = EmbeddedStack(tmp_path / "var", port=free_port(), workers=2)
    embedded.prepare()
    yield embedded
    if embedded.proc is not None and embedded.proc.poll() is None:
        embedded.stop()
    embedded.kill_all()


def test_embedded_default_runs_delays_through_beat_and_survives_a_killed_worker(stack):
    contacts = stack.setup_soak_flow(contacts=2)
    stack.start()
    console = stack.console()
    assert console.rstrip().endswith("Ctrl-C stops Fluxo."), console[-2000:]  # the login is printed last
    assert "Login admin / soak-admin-password" in console
    session = stack.login()

    def replied(*keys):
        replies = stack.report()["replies"]
        return all(replies.get(key) == 1 for key in keys) and replies

    # A delay of 2 s, resumed by beat's timer scan, on either worker; twice for the same contact.
    assert stack.send(session, contacts[0], "SOAK 1-0") == 202
    assert stack.send(session, contacts[1], "SOAK 1-1") == 202
    wait_until(lambda: replied("SOAK 1-0", "SOAK 1-1"), timeout=60, message="the delayed replies")
    assert stack.send(session, contacts[0], "SOAK 2-0") == 202
    wait_until(lambda: replied("SOAK 2-0"), timeout=60, message="the reply to a contact's second message")

    # Idle: nothing but what happens (beat ticks and periodic tasks are DEBUG).
    before = len(stack.console().splitlines())
    time.sleep(12)
    idle = stack.console().splitlines()[before:]
    assert idle == [], idle

    # One worker SIGKILLed: the supervisor starts it again; the others never stop.
    others = {name: stack.pid_of(name) for name in ("web", "beat", "worker-2")}
    victim = stack.pid_of("worker-1")
    os.killpg(victim, signal.SIGKILL)
    wait_until(lambda: stack.state()["processes"]["worker-1"]["restarts"] == 1
               and stack.state()["processes"]["worker-1"]["pid"] != victim and stack.alive()["worker-1"],
               timeout=30, message="worker-1 restarted")
    assert "worker-1 exited (code -9); restarting in 1 s" in stack.console()
    assert {name: stack.pid_of(name) for name in others} == others
    assert all(pid_alive(pid) for pid in others.values())
    assert stack.web_answers()
    assert stack.send(session, contacts[1], "SOAK 3-1") == 202
    wait_until(lambda: replied("SOAK 3-1"), timeout=60, message="a reply after the restart")
    report = stack.report()
    assert all(count == 1 for count in report["replies"].values()), report  # nothing sent twice

    # SIGTERM: every process stops, the supervisor exits 0.
    pids = [info["pid"] for info in stack.state()["processes"].values()]
    assert stack.stop() == 0
    wait_until(lambda: not any(pid_alive(pid) for pid in pids), timeout=20, message="every process stopped")
    assert "SIGTERM: stopping every process" in stack.console()
