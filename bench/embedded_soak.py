"""Soak of the embedded default: `make bench-soak` (SOAK_MINUTES=60) or
`.venv/bin/python -m bench.embedded_soak --minutes 60`.

Runs what `make run` runs — SQLite, the SQLite broker (config/broker.py), beat and two workers under
config/supervisor.py — in a temporary FLUXO_VAR_DIR with no DATABASE_URL/REDIS_URL, and for
``--minutes`` plays sandbox customers through the web (admin session, POST /sandbox/api/send/):
every ``--interval`` seconds each contact sends "SOAK <round>-<contact>", which a published flow
answers after a 2-s delay fired by beat's timer scan. ``--kill-every M`` also SIGKILLs a worker
every M minutes (the supervisor must restart it). Then it waits for the last replies, watches
the console for one idle minute and prints: processes alive, restarts, events processed, lost and
duplicated replies, broker rows left, console lines per idle minute, fatal lines seen.
Exit status 1 when a reply is lost or duplicated, a process is down, or a process restarted that
was not killed on purpose.

Not part of `make bench` (bench/__main__.py skips it): it runs for an hour by default.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.stdout.reconfigure(line_buffering=True)

from bench._embedded import EmbeddedStack, free_port  # noqa: E402

FATAL_MARKERS = ("Unrecoverable error", "CRITICAL", "JSONDecodeError", "Traceback (most recent call last)")


def console_lines(stack: EmbeddedStack) -> int:
    return len(stack.console().splitlines())


def broker_rows(var_dir: Path) -> int:
    with sqlite3.connect(var_dir / "broker.sqlite3", timeout=30) as conn:
        return conn.execute("SELECT count(*) FROM kombu_message").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description="Soak of the embedded default (SQLite + SQLite broker + beat + workers).")
    parser.add_argument("--minutes", type=float, default=60.0, help="minutes of traffic (default 60)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--contacts", type=int, default=5, help="sandbox customers playing at once")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between two messages of one customer")
    parser.add_argument("--kill-every", type=float, default=0.0, help="SIGKILL a worker every M minutes (0: never)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    # Stopped by a signal (also when started in the background, where SIGINT is ignored): the
    # finally clause below still stops the stack.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    var_dir = Path(tempfile.mkdtemp(prefix="fluxo-soak-"))
    stack = EmbeddedStack(var_dir, port=free_port(), workers=args.workers)
    print(f"embedded soak: {args.minutes:g} min, {args.workers} workers, {args.contacts} contacts every "
          f"{args.interval:g} s, var dir {var_dir}")
    stack.prepare()
    contacts = stack.setup_soak_flow(args.contacts)
    stack.start()
    session = stack.login()
    started = time.monotonic()
    sent: set[str] = set()
    refused = 0
    web_down = 0
    kills = 0
    last_kill = started
    next_minute = started + 60
    round_no = 0
    try:
        while time.monotonic() - started < args.minutes * 60:
            round_no += 1
            for index, contact in enumerate(contacts):
                key = f"SOAK {round_no}-{index}"
                try:
                    status = stack.send(session, contact, key)
                except Exception:  # noqa: BLE001 - a refused connection is what the soak counts
                    status = 0
                if status == 202:
                    sent.add(key)
                else:
                    refused += 1
            if not stack.web_answers():
                web_down += 1
            now = time.monotonic()
            if args.kill_every and now - last_kill >= args.kill_every * 60:
                victim = f"worker-{1 + kills % args.workers}"
                os.killpg(stack.pid_of(victim), signal.SIGKILL)
                kills += 1
                last_kill = now
                print(f"  killed {victim} (SIGKILL)")
            if now >= next_minute:
                next_minute += 60
                alive = stack.alive()
                restarts = sum(p["restarts"] for p in stack.state()["processes"].values())
                print(f"  minute {int((now - started) // 60)}: sent {len(sent)}, refused {refused}, "
                      f"alive {sum(alive.values())}/{len(alive)}, restarts {restarts}")
            time.sleep(max(0.0, args.interval - (time.monotonic() - now)))

        # The last replies: a 2-s delay, beat's 1-s scan, the sender; give them a minute at most.
        settle_deadline = time.monotonic() + 90
        report = stack.report()
        while time.monotonic() < settle_deadline and len(set(report["replies"]) & sent) < len(sent):
            time.sleep(5)
            report = stack.report()
        time.sleep(5)
        # Idle: no traffic for a minute; every line the console prints now is noise.
        before = console_lines(stack)
        time.sleep(60)
        idle_lines = console_lines(stack) - before
        report = stack.report()
        alive = stack.alive()
        state = stack.state()["processes"]
        rows = broker_rows(var_dir)
        web_ok = stack.web_answers()
    finally:
        code = stack.stop()
        if code is None or stack.proc.poll() is None:
            stack.kill_all()

    replies = report["replies"]
    lost = sorted(key for key in sent if replies.get(key, 0) == 0)
    duplicated = sorted(key for key, count in replies.items() if count > 1)
    inbound_dup = sorted(key for key, count in report["inbound"].items() if count > 1)
    restarts = {name: info["restarts"] for name, info in state.items()}
    console = stack.console()
    fatal = [line for line in console.splitlines() if any(marker in line for marker in FATAL_MARKERS)]
    minutes = (time.monotonic() - started) / 60
    print(f"\nembedded soak result ({minutes:.1f} min wall, {args.minutes:g} min of traffic)")
    print(f"  processes alive at the end   {sum(alive.values())}/{len(alive)} {alive}")
    print(f"  restarts                     {sum(restarts.values())} {restarts} (workers SIGKILLed on purpose: {kills})")
    print(f"  web answered                 {'yes' if web_ok else 'NO'} (down at {web_down} checks)")
    print(f"  messages sent (202)          {len(sent)} (refused or failed: {refused})")
    print(f"  events processed (runs)      {sum(report['runs'].values())} {report['runs']}")
    print(f"  replies lost / duplicated    {len(lost)} / {len(duplicated)} (inbound recorded twice: {len(inbound_dup)})")
    print(f"  broker rows left             {rows}")
    print(f"  console lines per idle min   {idle_lines}")
    print(f"  fatal lines in the console   {len(fatal)}")
    for line in fatal[:10]:
        print(f"    {line[:200]}")
    if lost[:10]:
        print(f"  first lost: {lost[:10]}")
    if args.keep:
        print(f"  kept {var_dir} (console.log, fluxo.sqlite3, broker.sqlite3)")
    else:
        shutil.rmtree(var_dir, ignore_errors=True)
    unexpected_restarts = sum(restarts.values()) - kills
    ok = (not lost and not duplicated and not inbound_dup and all(alive.values()) and web_ok
          and unexpected_restarts <= 0 and refused == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
