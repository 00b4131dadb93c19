"""End-to-end benchmark of the production topology: signed webhooks in, replies at the Graph API out.

    make bench-e2e                      # every point: c = 4, 16, 64, 256 (2,000 senders), c = 64 with
                                        # 50 senders, the ingest-only ceiling, the timers at scale
    .venv/bin/python -m bench.e2e --json --concurrency 16 --seconds 10     # one short point
    .venv/bin/python -m bench.e2e --workers 4                             # more inbound worker processes
    .venv/bin/python -m bench.e2e --only timers --timers 10000            # one extra point alone

What runs, on this machine, as the README's production section describes it: uvicorn (2 web
workers), Celery inbound workers, a Celery sender worker, a Celery calls worker (read receipts),
Celery beat, PostgreSQL and Redis, and a fake Graph API (bench/_fake_graph.py, a real HTTP
server). The flow is *any inbound message → branch (text contains "pedido") → send_message* (one reply per branch, each quoting the inbound
wamid so every reply is matched to its webhook). ``wrk`` posts pre-signed, Meta-shaped text
webhooks (a unique wamid each, senders taken round-robin) for ``--seconds`` at each concurrency;
then the bench waits for the drain and prints, per point:

* acknowledged/s and webhook latency p50/p99 (wrk), HTTP errors;
* end-to-end replies/s (first to last send), time to the first reply, drain time after the load;
* lost and duplicated replies: every stored webhook must give exactly one reply;
* SQL statements per event (counted in every Fluxo process, ``core/sqlcount.py``), transactions
  and new PostgreSQL sessions per event (``pg_stat_database``), CPU-ms per event of the web, the
  workers (inbound, sender, calls, beat) and PostgreSQL, read from /proc.

No figure here is asserted anywhere: the bench prints, people read.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.stdout.reconfigure(line_buffering=True)

BIN = ROOT / ".venv" / "bin"
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable
DB_NAME = "fluxo_bench_e2e"
REDIS_DB = 13
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
APP_SECRET = "bench-app-secret-0123456789"
TOKEN = "EAAG-bench-token-0123456789"
PHONE_NUMBER_ID = "106540352200001"
WABA_ID = "419561257900001"
LOG_DIR = Path(tempfile.gettempdir()) / "fluxo-bench-e2e"
WORK_DIR = LOG_DIR / "var"
TICKS = os.sysconf("SC_CLK_TCK")

WRK_SCRIPT = r"""
local counter = 1
function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
end
function init(args)
   local nth = tonumber(args[2])
   sigs, bodies, n = {}, {}, 0
   local i = 0
   for line in io.lines(args[1]) do
      if i % nth == (id - 1) then
         local tab = line:find("\t", 1, true)
         sigs[#sigs + 1] = line:sub(1, tab - 1)
         bodies[#bodies + 1] = line:sub(tab + 1)
      end
      i = i + 1
   end
end
function request()
   n = n + 1
   local k = ((n - 1) % #bodies) + 1
   return wrk.format("POST", "/webhooks/whatsapp/",
      {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = sigs[k]}, bodies[k])
end
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "WRKJSON {\"requests\":%d,\"duration_us\":%d,\"status_errors\":%d,\"connect\":%d,\"read\":%d," ..
      "\"write\":%d,\"timeout\":%d,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d}\n",
      summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.max))
end
"""


# --- Processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Proc:
    kind: str
    popen: subprocess.Popen

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)


def start(kind: str, args: list[str], env: dict[str, str]) -> Proc:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / f"{kind}.log", "ab")
    popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return Proc(kind, popen)


def process_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "FLUXO_SQL_COUNT": REDIS_URL,
        "FLUXO_VAR_DIR": str(WORK_DIR),
        "SECRET_KEY": "bench-secret-key",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


WEB_PRIORITY = ["nice", "-n", "10"] if os.environ.get("FLUXO_BENCH_NICE_WEB", "0") == "1" else []


class Topology:
    """The production topology of the README, scaled to this machine."""

    def __init__(self, *, workers: int, web_port: int, env: dict[str, str]):
        self.workers = workers
        self.web_port = web_port
        self.env = env
        self.procs: dict[str, Proc] = {}

    def start_web(self) -> None:
        self.procs["web"] = start("web", [*WEB_PRIORITY, str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1",
                                          "--port", str(self.web_port), "--workers", "2", "--no-access-log",
                                          "--log-level", "warning", "--backlog", "4096"], self.env)

    def start_workers(self) -> None:
        celery = str(BIN / "celery")
        common = ["--without-gossip", "--without-mingle", "--loglevel=WARNING"]
        self.procs["inbound"] = start("inbound", [celery, "-A", "config", "worker", "-Q", "inbound,celery",
                                                  "-n", "inbound@%h", f"--concurrency={self.workers}", *common],
                                      self.env)
        self.procs["sender"] = start("sender", [celery, "-A", "config", "worker", "-Q", "outbound", "-n",
                                                "sender@%h", "--pool=threads", "--concurrency=4", *common], self.env)
        # Read receipts (one per handled inbound message) and company calls go to their own queue.
        self.procs["calls"] = start("calls", [celery, "-A", "config", "worker", "-Q", "calls", "-n", "calls@%h",
                                              "--pool=threads", "--concurrency=4", *common], self.env)

    def start_beat(self) -> None:
        self.procs["beat"] = start("beat", [str(BIN / "celery"), "-A", "config", "beat", "--loglevel=WARNING",
                                            "--schedule", str(LOG_DIR / "celerybeat-schedule")], self.env)

    def stop(self, *kinds: str) -> None:
        for kind in kinds or list(self.procs):
            proc = self.procs.pop(kind, None)
            if proc:
                proc.stop()

    def wait_web(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/webhooks/whatsapp/?hub.mode=x", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the web did not start; see {LOG_DIR / 'web.log'}")


def _pids_of(root_pid: int) -> list[int]:
    """The process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def cpu_snapshot(topology: Topology) -> dict[str, dict[int, int]]:
    """CPU ticks per process kind, per pid (a pid that appears later started at zero)."""
    snapshot = {kind: {pid: _cpu_ticks(pid) for pid in _pids_of(proc.popen.pid)}
                for kind, proc in topology.procs.items()}
    snapshot["postgres"] = {pid: _cpu_ticks(pid) for pid in _postgres_pids()}
    return snapshot


def cpu_ms_between(before: dict, after: dict) -> dict[str, float]:
    result = {}
    for kind, pids in after.items():
        ticks = sum(max(0, value - before.get(kind, {}).get(pid, 0)) for pid, value in pids.items())
        result[kind] = ticks * 1000.0 / TICKS
    return result


# --- Database, Redis, Graph ---------------------------------------------------------------------


def fresh_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def pg_counters() -> dict[str, int]:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT xact_commit + xact_rollback, sessions FROM pg_stat_database WHERE datname = %s",
                           [DB_NAME]).fetchone()
    return {"xacts": int(row[0]), "sessions": int(row[1])}


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL)


def graph_stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=30) as response:
        return json.loads(response.read())


def graph_reset(port: int) -> None:
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/reset", data=b"", method="POST"),
                           timeout=10).read()


# --- Data -----------------------------------------------------------------------------------------


def django_setup() -> None:
    os.environ.update(process_env(FLUXO_SQL_COUNT=""))
    import django

    django.setup()


def seed(*, graph_port: int, senders: int) -> None:
    """Migrate, then the channel, 2,000 known contacts and the published flow."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.utils import timezone

    from flows.demo import demo_definition, demo_node
    from flows.services import flow_create, flow_publish
    from messaging.models import Contact, WhatsAppCloudChannel

    channel = WhatsAppCloudChannel.objects.create(
        name="Bench", phone_number_id=PHONE_NUMBER_ID, waba_id=WABA_ID, display_phone_number="+55 11 4000-0000",
        access_token=TOKEN, app_secret=APP_SECRET, graph_api_base_url=f"http://127.0.0.1:{graph_port}",
        graph_api_version="v23.0", messages_per_second=1000)
    Contact.objects.bulk_create([
        Contact(phone=f"+5511{900000000 + i}", name=f"Cliente {i}", channel=channel, created_at=timezone.now())
        for i in range(senders)])
    definition = demo_definition(
        [
            demo_node("inbound", "trigger", 40, 160, event="message", match="any"),
            demo_node("about_order", "branch", 300, 160, mode="conditions", default_label="Outro", conditions=[
                {"id": "order", "label": "Pedido", "match": "all",
                 "rules": [{"left": "{{trigger.text}}", "op": "contains", "right": "pedido"}]}]),
            demo_node("order_reply", "send_message", 600, 60, text="Seu pedido está a caminho. ({{trigger.message_id}})"),
            demo_node("other_reply", "send_message", 600, 260, text="Recebemos sua mensagem. ({{trigger.message_id}})"),
        ],
        [("inbound", "next", "about_order"), ("about_order", "order", "order_reply"),
         ("about_order", "default", "other_reply")],
    )
    flow = flow_create(name="Bench: pedido", definition=definition)
    flow_publish(flow=flow, revision_number=1, comment="bench")


def sender_phone(index: int, senders: int) -> str:
    return f"5511{900000000 + index % senders}"


def write_bodies(path: Path, *, prefix: str, count: int, senders: int) -> None:
    """``<signature>\\t<body>`` per line: Meta-shaped text webhooks with unique wamids."""
    now = int(time.time())
    with open(path, "w") as out:
        for i in range(count):
            phone = sender_phone(i, senders)
            text = "quero saber do meu pedido" if i % 2 == 0 else "olá, bom dia"
            body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [{
                "field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "551140000000", "phone_number_id": PHONE_NUMBER_ID},
                    "contacts": [{"profile": {"name": f"Cliente {i % senders}"}, "wa_id": phone}],
                    "messages": [{"from": phone, "id": f"wamid.{prefix}.{i}", "timestamp": str(now),
                                  "type": "text", "text": {"body": text}}]}}]}]}, separators=(",", ":"))
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
            out.write(f"{signature}\t{body}\n")


def stored_deliveries_since(delivery_id: int) -> int:
    from messaging.models import WebhookDelivery

    return WebhookDelivery.objects.filter(pk__gt=delivery_id).count()


def last_delivery_id() -> int:
    from messaging.models import WebhookDelivery

    return WebhookDelivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- One point --------------------------------------------------------------------------------


def machine_reference_ms() -> float:
    """A pure-Python loop's time: how fast this machine's cores run Fluxo's kind of code today."""
    started, total = time.process_time(), 0
    for number in range(10_000_000):
        total += number
    return (time.process_time() - started) * 1000


def run_wrk(*, port: int, concurrency: int, seconds: float, bodies: Path) -> dict:
    script = LOG_DIR / "webhooks.lua"
    script.write_text(WRK_SCRIPT)
    threads = 2
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{max(concurrency, threads)}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                          "-s", str(script), f"http://127.0.0.1:{port}", "--", str(bodies), str(threads)],
                         capture_output=True, text=True, check=True)
    line = next(line for line in out.stdout.splitlines() if line.startswith("WRKJSON "))
    return json.loads(line[len("WRKJSON "):])


def measure_point(topology: Topology, *, graph_port: int, concurrency: int, seconds: float, senders: int,
                  label: str, with_workers: bool = True) -> dict:
    prefix = f"{label}c{concurrency}s{senders}t{int(time.time())}"
    bodies = LOG_DIR / f"bodies-{prefix}.tsv"
    write_bodies(bodies, prefix=prefix, count=int(seconds * 3000) + 5000, senders=senders)
    graph_reset(graph_port)
    redis = redis_client()
    before_sql = int(redis.get("fluxo:bench:sql") or 0)
    before_pg = pg_counters()
    before_cpu = cpu_snapshot(topology)
    before_delivery = last_delivery_id()

    started = time.time()
    wrk = run_wrk(port=topology.web_port, concurrency=concurrency, seconds=seconds, bodies=bodies)
    load_end = started + wrk["duration_us"] / 1e6
    stored = stored_deliveries_since(before_delivery)

    drained = None
    if with_workers:
        deadline, last_count, last_change = time.time() + 600, -1, time.time()
        while time.time() < deadline:
            count = len(graph_stats(graph_port)["sent"])
            if count >= stored:
                break
            if count != last_count:
                last_count, last_change = count, time.time()
            elif time.time() - last_change > 60:
                break  # no progress for a minute: report what arrived
            time.sleep(0.2)
        time.sleep(1.0)  # late duplicates, if any, arrive too
    stats = graph_stats(graph_port)
    after_cpu = cpu_snapshot(topology)
    time.sleep(0.6)  # the probes flush their statement counts every half second
    after_sql = int(redis.get("fluxo:bench:sql") or 0)
    after_pg = pg_counters()
    bodies.unlink(missing_ok=True)

    sent = stats["sent"]
    acked = wrk["requests"] - wrk["status_errors"]
    events = max(stored, 1)
    cpu = cpu_ms_between(before_cpu, after_cpu)
    result = {
        "label": label, "concurrency": concurrency, "senders": senders, "seconds": round(wrk["duration_us"] / 1e6, 2),
        "acked": acked, "stored": stored,
        "acked_per_s": round(acked / (wrk["duration_us"] / 1e6), 1),
        "p50_ms": round(wrk["p50_us"] / 1000, 2), "p99_ms": round(wrk["p99_us"] / 1000, 2),
        "max_ms": round(wrk["max_us"] / 1000, 1),
        "http_errors": wrk["status_errors"] + wrk["connect"] + wrk["read"] + wrk["write"] + wrk["timeout"],
        "statements_per_event": round((after_sql - before_sql) / events, 2),
        "transactions_per_event": round((after_pg["xacts"] - before_pg["xacts"]) / events, 2),
        "sessions_per_event": round((after_pg["sessions"] - before_pg["sessions"]) / events, 4),
        "cpu_ms_per_event": {kind: round(ms / events, 2) for kind, ms in cpu.items()},
    }
    result["cpu_ms_per_event"]["fluxo_total"] = round(
        sum(v for k, v in cpu.items() if k != "postgres") / events, 2)
    if with_workers:
        from messaging.models import Message, WebhookDelivery

        still_queued = Message.objects.filter(direction="out", status__in=Message.UNSETTLED).count()
        # Stored and not yet processed is not lost either (a backlog the wait did not see through).
        still_pending = WebhookDelivery.objects.filter(pk__gt=before_delivery, state="pending").count()
        replied = [text.rsplit("(", 1)[-1].rstrip(")") for _, _, text in sent]
        replied_set = {wamid for wamid in replied if wamid.startswith(f"wamid.{prefix}.")}
        times = sorted(t for t, _, _ in sent)
        result.update({
            "replies": len(sent),
            "replies_per_s": round(len(sent) / max(times[-1] - times[0], 1e-3), 1) if len(times) > 1 else 0.0,
            "first_reply_s": round(times[0] - started, 3) if times else None,
            "drain_s": round(max(0.0, times[-1] - load_end), 2) if times else None,
            # Still queued is not lost: WhatsApp's pair rate (one reply per 6 s per customer after a
            # burst of 3) holds deep per-customer queues past the bench's wait (the 50-sender point).
            "still_queued": still_queued,
            "still_pending": still_pending,
            "lost": max(0, stored - len(replied_set) - still_queued - still_pending),
            "duplicated": len(replied) - len(replied_set),
            "read_receipts": stats.get("read", 0),
        })
        drained = result["drain_s"]
    else:
        result.update({"replies": 0, "replies_per_s": None, "first_reply_s": None, "drain_s": drained,
                       "lost": 0, "duplicated": 0})
    return result


# --- Timers at scale -------------------------------------------------------------------------------


def measure_timers(topology: Topology, *, count: int, lead_seconds: float = 8.0) -> dict:
    """``count`` runs waiting on delays due at the same second: how late do they resume?"""
    from django.db import connection
    from django.utils import timezone

    from flows.demo import demo_definition, demo_node
    from flows.models import FlowRun, RunStep
    from flows.services import flow_create, flow_publish
    from messaging.models import Contact, WhatsAppCloudChannel

    channel = WhatsAppCloudChannel.objects.get(phone_number_id=PHONE_NUMBER_ID)
    definition = demo_definition(
        [demo_node("start", "trigger", 40, 160, event="external", event_name="bench.timer"),
         demo_node("wait", "delay", 300, 160, mode="duration", duration={"value": 1, "unit": "hours"}),
         demo_node("after", "set_variable", 600, 160, assignments=[{"target": "vars.done", "value": "sim"}])],
        [("start", "next", "wait"), ("wait", "next", "after")])
    flow = flow_create(name="Bench: timers", definition=definition)
    flow = flow_publish(flow=flow, revision_number=1, comment="bench")
    stamp = int(time.time())
    contacts = Contact.objects.bulk_create([
        Contact(phone=f"+5521{900000000 + i}", name=f"Timer {i}", channel=channel) for i in range(count)])
    due = timezone.now() + timezone.timedelta(seconds=lead_seconds)
    due = due.replace(microsecond=0)
    FlowRun.objects.bulk_create([
        FlowRun(flow=flow, revision=flow.published_revision, contact=contact, status=FlowRun.Status.WAITING,
                current_node="wait", wait_kind=FlowRun.WaitKind.DELAY, wake_at=due, wait_token=f"t{stamp}{i}",
                context={"trigger": {"kind": "external"}, "vars": {}, "_visits": {"start": 1, "wait": 1}},
                step_count=2)
        for i, contact in enumerate(contacts)], batch_size=2000)
    run_ids = set(FlowRun.objects.filter(flow=flow).values_list("pk", flat=True))
    before_cpu = cpu_snapshot(topology)
    deadline = time.time() + lead_seconds + 120
    while time.time() < deadline:
        # By flow and status (an index range): an IN list of 10,000 ids every half second cost
        # PostgreSQL more than the sweep it measured.
        done = FlowRun.objects.filter(flow=flow, status=FlowRun.Status.COMPLETED, is_test=False).count()
        if done >= count:
            break
        time.sleep(0.5)
    after_cpu = cpu_snapshot(topology)
    starts = list(RunStep.objects.filter(run_id__in=run_ids, node_id="after").values_list("started_at", flat=True))
    lateness = sorted((s - due).total_seconds() for s in starts)
    # The empty scan: what the beat's tick (flows.tasks.timers_fire_due) costs when nothing is due,
    # run here, warm, as the beat's task runs it.
    from django.test.utils import CaptureQueriesContext

    from bench._setup import percentile
    from flows.tasks import timers_fire_due

    with CaptureQueriesContext(connection) as queries:
        timers_fire_due.run()
    t0 = time.perf_counter()
    for _ in range(200):
        timers_fire_due.run()
    empty_scan_ms = (time.perf_counter() - t0) / 200 * 1000
    cpu = cpu_ms_between(before_cpu, after_cpu)
    return {
        "label": "timers", "concurrency": None, "timers": count, "resumed": len(starts),
        "lateness_p50_s": round(percentile(lateness, 50), 3) if lateness else None,
        "lateness_p99_s": round(percentile(lateness, 99), 3) if lateness else None,
        "lateness_max_s": round(lateness[-1], 3) if lateness else None,
        "all_resumed_within_s": round(lateness[-1], 3) if len(lateness) == count else None,
        "sweep_timers_per_s": round(len(lateness) / max(lateness[-1] - lateness[0], 1e-3), 1) if lateness else None,
        "empty_scan_ms": round(empty_scan_ms, 3), "empty_scan_statements": len(queries),
        "cpu_ms_per_timer": {kind: round(ms / max(len(starts), 1), 2) for kind, ms in cpu.items()},
    }


def measure_idle(topology: Topology, seconds: float = 10.0) -> dict:
    before_cpu = cpu_snapshot(topology)
    redis = redis_client()
    before_sql = int(redis.get("fluxo:bench:sql") or 0)
    time.sleep(seconds)
    after_cpu = cpu_snapshot(topology)
    after_sql = int(redis.get("fluxo:bench:sql") or 0)
    cpu = cpu_ms_between(before_cpu, after_cpu)
    return {"label": "idle", "concurrency": None, "seconds": seconds,
            "cpu_ms_per_s": {kind: round(ms / seconds, 2) for kind, ms in cpu.items()},
            "statements_per_s": round((after_sql - before_sql) / seconds, 2)}


# --- Main -------------------------------------------------------------------------------------------


KEYS = ["concurrency", "acked_per_s", "p50_ms", "p99_ms", "replies_per_s", "first_reply_s", "drain_s", "lost",
        "duplicated", "statements_per_event", "sessions_per_event", "cpu_ms_per_event"]


def show(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, sort_keys=False))
        return
    label = result.get("label")
    if label == "timers":
        print(f"timers: {result['resumed']}/{result['timers']} resumed; lateness p50 {result['lateness_p50_s']} s, "
              f"p99 {result['lateness_p99_s']} s, max {result['lateness_max_s']} s; sweep "
              f"{result['sweep_timers_per_s']} timers/s; empty scan {result['empty_scan_ms']} ms, "
              f"{result['empty_scan_statements']} statement(s); CPU-ms per timer {result['cpu_ms_per_timer']}")
        return
    if label == "idle":
        print(f"idle {result['seconds']} s: CPU-ms/s {result['cpu_ms_per_s']}; {result['statements_per_s']} statements/s")
        return
    cpu = result["cpu_ms_per_event"]
    line = (f"{label:>11} c={result['concurrency']:<3} senders={result['senders']:<4} "
            f"acked {result['acked_per_s']:>7}/s p50 {result['p50_ms']:>6} ms p99 {result['p99_ms']:>7} ms "
            f"errors {result['http_errors']:<4}")
    if result.get("replies_per_s") is not None:
        line += (f"| replies {result['replies_per_s']:>6}/s first {result['first_reply_s']} s drain "
                 f"{result['drain_s']} s lost {result['lost']} dup {result['duplicated']} "
                 f"{'still queued ' + str(result['still_queued']) + ' ' if result.get('still_queued') else ''}"
                 f"{'still pending ' + str(result['still_pending']) + ' ' if result.get('still_pending') else ''}"
                 f"read {result.get('read_receipts', 0)} ")
    line += (f"| {result['statements_per_event']} stmt, {result['transactions_per_event']} xact, "
             f"{result['sessions_per_event']} sessions /event | CPU-ms/event {cpu}")
    print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--concurrency", type=int, action="append",
                        help="a concurrency to run (repeatable); default 4, 16, 64 and 256 plus the extra points")
    parser.add_argument("--seconds", type=float, default=20.0, help="load per point (default 20)")
    parser.add_argument("--senders", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="inbound worker processes (default 2)")
    parser.add_argument("--timers", type=int, default=10000, help="timers for the timer point (0: skip)")
    parser.add_argument("--only", choices=["50-senders", "ingest", "timers", "idle"], action="append",
                        help="run only these extra points (repeatable), without the concurrency sweep")
    options = parser.parse_args()

    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        print("wrk is not installed: run `make bench-e2e` (it installs it) or apt-get install wrk", file=sys.stderr)
        return 2
    extras = set(options.only or ([] if options.concurrency else ["50-senders", "ingest", "timers", "idle"]))
    levels = options.concurrency or ([] if options.only else [4, 16, 64, 256])
    # Stopped from outside (Ctrl-C, timeout): still take the topology down in `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    for old in LOG_DIR.glob("*.log"):
        old.unlink()
    fresh_database()
    redis_client().flushdb()
    graph_port, web_port = free_port(), free_port()
    graph = start("graph", [PYTHON, str(ROOT / "bench" / "_fake_graph.py"), "--port", str(graph_port), "--token", TOKEN],
                  process_env())
    django_setup()
    seed(graph_port=graph_port, senders=max(options.senders, 50))
    from django.db import connection

    connection.close()

    topology = Topology(workers=options.workers, web_port=web_port, env=process_env())
    results = []
    try:
        topology.start_web()
        topology.start_workers()
        topology.start_beat()
        topology.wait_web()
        time.sleep(3)  # workers connect to the broker
        if not options.json:
            print(f"topology: uvicorn x2, inbound worker x{options.workers}, sender worker (4 drain threads, 8 sends in flight each), "
                  f"calls worker (4 threads), beat; "
                  f"PostgreSQL, Redis; fake Graph API on :{graph_port}; logs in {LOG_DIR}")
            print(f"machine reference: {machine_reference_ms():.0f} ms for 10 million Python additions "
                  f"(figures of runs on machines whose reference differs do not compare)")
        # Warm-up: every process imports, connects and compiles once before anything is measured.
        measure_point(topology, graph_port=graph_port, concurrency=4, seconds=2, senders=options.senders,
                      label="warmup")
        for concurrency in levels:
            result = measure_point(topology, graph_port=graph_port, concurrency=concurrency, seconds=options.seconds,
                                   senders=options.senders, label="e2e")
            results.append(result)
            show(result, options.json)
        if "ingest" in extras:
            # The ingest ceiling: workers stopped, the web alone stores and acknowledges.
            topology.stop("inbound", "sender", "calls")
            result = measure_point(topology, graph_port=graph_port, concurrency=64, seconds=options.seconds,
                                   senders=options.senders, label="ingest only", with_workers=False)
            show(result, options.json)
            backlog_started = time.time()
            topology.start_workers()
            from messaging.models import Message, WebhookDelivery

            while WebhookDelivery.objects.filter(state="pending").exists() and time.time() - backlog_started < 600:
                time.sleep(0.5)
            drained_in = time.time() - backlog_started
            # Its replies too, before the next point: several per customer wait for WhatsApp's pair rate
            # (WHATSAPP_RECIPIENT_INTERVAL, one per 6 s after a burst of 3), and a sender still at work
            # would be counted in the timers' and the idle figures.
            while (Message.objects.filter(direction="out", status__in=Message.UNSETTLED).exists()
                   and time.time() - backlog_started < 900):
                time.sleep(0.5)
            if not options.json:
                print(f"ingest-only backlog of {result['stored']} webhooks drained by the workers in "
                      f"{drained_in:.1f} s; their replies all sent after {time.time() - backlog_started:.1f} s "
                      f"(paced per customer by WhatsApp's pair rate)")
        if "timers" in extras and options.timers:
            show(measure_timers(topology, count=options.timers), options.json)
        if "idle" in extras:
            show(measure_idle(topology), options.json)
        if "50-senders" in extras:
            # Last: WhatsApp's pair rate holds most of its replies for minutes after the wait for them
            # ends; a sender still at them would be counted in the ingest, timer and idle figures.
            result = measure_point(topology, graph_port=graph_port, concurrency=64, seconds=options.seconds,
                                   senders=50, label="50 senders")
            show(result, options.json)
    finally:
        topology.stop()
        graph.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
