"""Dashboard figures: hourly aggregates kept by a periodic roll-up, and the reads of the pages.

Nothing here runs on the execution path. :func:`stats_rollup` (Celery beat, every
``FLUXO_STATS_INTERVAL`` seconds, under a row lock so one pass runs at a time) reads what was
written since its last pass and adds it to :class:`~flows.models.StatCounter` rows (one per hour,
flow, metric and key); the dashboard and the canvas counts only sum those rows.

How each source is followed, so that every fact counts exactly once:

* **Append-only tables** (runs started, steps, messages, status events, run actions) by **id
  watermark**. An id below the watermark that was not there yet (its transaction still open, or
  rolled back) is kept as a *gap* and looked up again on later passes for ``GAP_TTL`` seconds.
* **Run endings** (a run's ``ended_at``; a retried run ends again) by a **time window** that
  overlaps the previous pass by ``OVERLAP`` with a ledger of (run, ended_at) already counted.
* **Message outcomes** through :class:`~flows.models.MessageFact`, the bits already counted per
  outbound message (sent, delivered, read, failed): a status event sets bits, a bit is counted
  when it is first set. ``read`` implies ``delivered``, so ``read`` before ``delivered`` (Meta
  does not keep the order) counts one delivery, and a late status lands in the hour the message
  was sent (rates are per sending hour). Messages not yet sent or failed are looked at again
  each pass (the sandbox and send-time failures have no status events).
* **Graph API request errors** from ``core.metrics`` (per-minute counts in Redis), drained by a
  minute watermark.

Test runs and test contacts are never counted.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, Min, OuterRef, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone

from core import metrics as core_metrics
from core.db import array_placeholder
from flows.models import (
    FlowRun,
    InboundEvent,
    MessageFact,
    RollupSeen,
    RollupState,
    RunAction,
    RunStep,
    StatCounter,
    StatCounterDay,
    StatGauge,
)
from messaging.models import Message

logger = logging.getLogger(__name__)

BUCKET_SECONDS = 3600
GAP_TTL = 600  # seconds an id below the watermark is waited for
MAX_GAPS = 20_000
OVERLAP = timedelta(minutes=10)  # run endings: how far each scan reaches back
BATCH = int(getattr(settings, "FLUXO_STATS_BATCH", 5000))
PASS_BUDGET = 20.0  # seconds one roll-up call may spend before leaving the rest to the next
REPLY_LOOKBACK = timedelta(hours=24)
# First-reply latency histogram (seconds); the median and p90 are read from it.
LATENCY_BOUNDS: tuple[int, ...] = (5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)

RUN_OUTCOMES = ("completed", "failed", "expired", "cancelled")
FLAG_METRICS = ((MessageFact.SENT, "msg.sent"), (MessageFact.DELIVERED, "msg.delivered"),
                (MessageFact.READ, "msg.read"), (MessageFact.FAILED, "msg.failed"))
STATUS_FLAGS = {
    "sent": MessageFact.SENT,
    "delivered": MessageFact.SENT | MessageFact.DELIVERED,
    "read": MessageFact.SENT | MessageFact.DELIVERED | MessageFact.READ,
    "failed": MessageFact.FAILED,
}


def bucket_of(moment: datetime) -> datetime:
    """The hour (UTC) a moment falls in."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def day_of(moment: datetime) -> datetime:
    """The local day (``TIME_ZONE``) a moment falls in, as its midnight."""
    local = timezone.localtime(moment)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@functools.lru_cache(maxsize=4096)
def _day_of_hour(hour: datetime) -> datetime:
    return day_of(hour)


def reason_key(reason: str) -> str:
    """An end reason with its variable parts folded, for ranking: numbers of 4 digits or more (ids,
    ports, phones) become "#"; short ones (an HTTP status, "10 s") stay, as they tell failures apart."""
    return re.sub(r"\d{4,}", "#", " ".join((reason or "").split()))[:200]


def host_of(url: str) -> str:
    """The host an ``http_request`` URL calls (its raw text when the host is an expression)."""
    text = (url or "").strip()
    try:
        host = urlsplit(text).netloc
    except ValueError:
        host = ""
    if not host or "{{" in host:
        return text[:80]
    return host[:120]


def _latency_key(seconds: float) -> str:
    for bound in LATENCY_BOUNDS:
        if seconds <= bound:
            return str(bound)
    return "inf"


# --- The counters being added up in one pass ----------------------------------------------------


# All-time totals (for /metrics) live in counter rows of this bucket; period reads never reach it.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Metrics with an all-time total, and whether the total keeps the key (a label in /metrics).
TOTALS: dict[str, bool] = {
    "runs.started": False, "runs.completed": False, "runs.failed": False, "runs.expired": False,
    "runs.cancelled": False, "msg.sent": False, "msg.delivered": False, "msg.read": False, "msg.failed": False,
    "events.received": True, "graph.status_errors": True,
}


class Counters:
    """Increments gathered in memory during a pass, written as multi-row upserts (hours and days)."""

    def __init__(self) -> None:
        self.values: dict[tuple[datetime, int, str, str], int] = defaultdict(int)
        self.days: dict[tuple[datetime, int, str, str], int] = defaultdict(int)

    def add(self, at: datetime, flow_id: int | None, metric: str, key: str = "", n: int = 1) -> None:
        if n:
            key, flow = (key or "")[:200], int(flow_id or 0)
            self.values[(bucket_of(at), flow, metric, key)] += n
            self.days[(_day_of_hour(bucket_of(at)), flow, metric, key)] += n
            if metric in TOTALS:
                self.values[(EPOCH, 0, metric, key if TOTALS[metric] else "")] += n

    def write(self) -> int:
        written = _upsert(StatCounter._meta.db_table, self.values) + _upsert(StatCounterDay._meta.db_table, self.days)
        self.values.clear()
        self.days.clear()
        return written


def _upsert(table: str, values: dict[tuple[datetime, int, str, str], int]) -> int:
    """Add ``values`` to the counter rows of ``table`` (created when missing), many rows per statement."""
    if not values:
        return 0
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in ("bucket", "flow_id", "metric", "key", "value"))
    conflict = ", ".join(q(c) for c in ("bucket", "flow_id", "metric", "key"))
    update = f"ON CONFLICT ({conflict}) DO UPDATE SET {q('value')} = {q(table)}.{q('value')} + excluded.{q('value')}"
    if connection.vendor == "postgresql":
        # One statement, five array parameters: no per-row placeholders to build or parse.
        buckets, flows, metrics, keys, amounts = (list(column) for column in zip(
            *((bucket, flow_id, metric, key, value) for (bucket, flow_id, metric, key), value in values.items()),
            strict=True))
        mark = array_placeholder()
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {q(table)} ({columns}) SELECT * FROM unnest({mark}::timestamptz[], "
                           f"{mark}::bigint[], {mark}::varchar[], {mark}::varchar[], {mark}::bigint[]) {update}",
                           [buckets, flows, metrics, keys, amounts])
        return len(values)
    rows = [(connection.ops.adapt_datetimefield_value(bucket), flow_id, metric, key, value)
            for (bucket, flow_id, metric, key), value in values.items()]
    size = 190  # SQLite: at most 999 parameters per statement
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            placeholders = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(f"INSERT INTO {q(table)} ({columns}) VALUES {placeholders} {update}",
                           [item for row in chunk for item in row])
    return len(rows)


# --- Id watermarks with gaps ------------------------------------------------------------------


def _state(name: str) -> RollupState:
    state, _ = RollupState.objects.get_or_create(name=name)
    return state


def _chunks(items: list[Any], size: int = 1000) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _next_ids(state: RollupState, queryset, *, batch: int = BATCH, now: float | None = None) -> tuple[list[int], bool]:
    """The ids to process now: gaps that appeared, then ids past the watermark (at most ``batch``).

    Returns ``(ids, more)``; ``more`` is True when the batch was full. Updates the state in memory.
    """
    now = time.time() if now is None else now
    gaps = {int(i): float(t) for i, t in state.gaps or []}
    found: list[int] = []
    for chunk in _chunks(sorted(gaps)):
        found += list(queryset.filter(pk__in=chunk).values_list("pk", flat=True))
    for pk in found:
        gaps.pop(pk, None)
    new = list(queryset.filter(pk__gt=state.watermark).order_by("pk").values_list("pk", flat=True)[:batch])
    if new:
        present = set(new)
        missing = [pk for pk in range(state.watermark + 1, new[-1]) if pk not in present]
        for pk in missing[-MAX_GAPS:]:
            gaps[pk] = now
        state.watermark = new[-1]
    kept = sorted((pk, t) for pk, t in gaps.items() if now - t < GAP_TTL)[-MAX_GAPS:]
    state.gaps = [[pk, t] for pk, t in kept]
    return sorted(found) + new, len(new) >= batch


def _next_batch(state: RollupState, queryset, *, batch: int = BATCH) -> tuple[Q | None, bool]:
    """Like :func:`_next_ids`, as a filter selecting exactly those rows (for aggregating in SQL).

    The new ids are the range past the old watermark minus the ids left as gaps (so a row that
    commits between the two queries is counted once, later, as a found gap); found gaps by id.
    """
    old = state.watermark
    ids, more = _next_ids(state, queryset, batch=batch)
    found = [pk for pk in ids if pk <= old]
    selected = None
    if state.watermark > old:
        waiting = [pk for pk, _ in state.gaps if old < pk <= state.watermark]
        selected = Q(pk__gt=old, pk__lte=state.watermark) & ~Q(pk__in=waiting)
    if found:
        selected = selected | Q(pk__in=found) if selected is not None else Q(pk__in=found)
    return selected, more


# --- Streams ----------------------------------------------------------------------------------


def _runs_started(counters: Counters) -> bool:
    state = _state("runs")
    selected, more = _next_batch(state, FlowRun.objects.all())
    if selected is not None:
        for row in (FlowRun.objects.filter(selected, is_test=False)
                    .annotate(hour=TruncHour("started_at", tzinfo=UTC)).values("hour", "flow_id")
                    .annotate(n=Count("id"))):
            counters.add(row["hour"], row["flow_id"], "runs.started", n=row["n"])
    state.save()
    return more


def _runs_ended(counters: Counters, *, batch: int = BATCH) -> bool:
    """Run endings since the last pass (a run retried and ended again counts again)."""
    state = _state("run_ends")
    since = state.moment - OVERLAP if state.moment else EPOCH  # the first pass counts the whole history
    seen = RollupSeen.objects.filter(run_id=OuterRef("pk"), ended_at=OuterRef("ended_at"))
    rows = list(FlowRun.objects.filter(ended_at__gte=since, is_test=False).exclude(Exists(seen))
                .order_by("ended_at", "id")
                .values("id", "flow_id", "status", "current_node", "end_reason", "ended_at")[:batch])
    for row in rows:
        at, flow_id, status = row["ended_at"], row["flow_id"], row["status"]
        counters.add(at, flow_id, f"runs.{status}")
        if row["current_node"]:
            counters.add(at, flow_id, "node.end", f"{row['current_node']}:{status}")
        if status in ("failed", "expired"):
            counters.add(at, flow_id, "runs.reason", reason_key(row["end_reason"]))
    RollupSeen.objects.bulk_create([RollupSeen(run_id=r["id"], ended_at=r["ended_at"]) for r in rows],
                                   ignore_conflicts=True)
    if rows:
        latest = max(r["ended_at"] for r in rows)
        if state.moment is None or latest > state.moment:
            state.moment = latest
    if state.moment is not None:
        RollupSeen.objects.filter(ended_at__lt=state.moment - OVERLAP - timedelta(minutes=5)).delete()
    state.save()
    return len(rows) >= batch


def _steps(counters: Counters) -> bool:
    """Steps, grouped in SQL by hour, flow, node, port and what the counters need of them."""
    state = _state("steps")
    selected, more = _next_batch(state, RunStep.objects.all())
    if selected is not None:
        rows = (RunStep.objects.filter(selected, run__is_test=False)
                .annotate(hour=TruncHour("started_at", tzinfo=UTC), flow_id=F("run__flow_id"),
                          url=Coalesce(KT("input__config__url"), KT("input__event__request__url")),
                          team=KT("input__config__team"),
                          event_kind=KT("input__event_kind"), code=KT("output__code"),
                          executed=ExpressionWrapper(Q(input__has_key="config"), output_field=BooleanField()),
                          failed=ExpressionWrapper(~Q(error=""), output_field=BooleanField()))
                .values("hour", "flow_id", "node_id", "node_type", "port", "failed", "executed", "url", "team",
                        "event_kind", "code")
                .annotate(n=Count("id")))
        for row in rows:
            _count_step(counters, row)
    state.save()
    return more


def _count_step(counters: Counters, row: dict[str, Any]) -> None:
    """Add one group of ``n`` alike steps (same hour, flow, node, port, outcome, ...)."""
    at, flow_id, node_id, node_type, n = row["hour"], row["flow_id"], row["node_id"], row["node_type"], row["n"]
    executed = bool(row["executed"])  # a resumption's input is the event, not the config
    failed = bool(row["failed"])
    if executed:
        counters.add(at, flow_id, "node.entered", node_id, n)
    if row["port"]:
        counters.add(at, flow_id, "node.port", f"{node_id}:{row['port']}", n)
    if failed:
        counters.add(at, flow_id, "node.error", node_id, n)
    # Outside calls (flows.calls) log two steps: the call going out (executed, it waits) and its answer
    # (resumed, where an error shows). Calls are counted on the first, errors on either.
    if node_type == "http_request":
        host = host_of(row["url"] or "")
        if executed:
            counters.add(at, flow_id, "http.calls", host, n)
        if failed:
            counters.add(at, flow_id, "http.errors", host, n)
            if row["code"] in ("http_timeout", "call_timeout"):
                counters.add(at, flow_id, "http.timeouts", host, n)
    elif node_type == "ai_reply":
        if executed:
            counters.add(at, flow_id, "ai.calls", n=n)
        if failed:
            counters.add(at, flow_id, "ai.failures", row["code"] or "error", n)
    elif node_type == "route_to_team" and executed and not failed:
        counters.add(at, flow_id, "handoffs", row["team"] or "", n)
    elif node_type == "wait_for_reply" and not executed and row["event_kind"] in ("message", "interactive_reply"):
        counters.add(at, flow_id, "flow.replies", n=n)


def _message_flags(status: str) -> int:
    return {"sent": MessageFact.SENT, "delivered": MessageFact.SENT | MessageFact.DELIVERED,
            "read": MessageFact.SENT | MessageFact.DELIVERED | MessageFact.READ,
            "failed": MessageFact.FAILED}.get(status, 0)


def _fact_apply(counters: Counters, fact: MessageFact, flags: int) -> bool:
    """Set ``flags`` on a fact, counting the bits that were not set yet. Returns whether it changed."""
    new = flags & ~fact.flags
    if not new:
        return False
    for bit, metric in FLAG_METRICS:
        if new & bit:
            counters.add(fact.bucket, fact.flow_id, metric, fact.template)
    fact.flags |= flags
    fact.open = not fact.flags & (MessageFact.SENT | MessageFact.FAILED)
    return True


MESSAGE_FIELDS = ("id", "direction", "status", "contact_id", "created_at", "flow_id", "template_name", "is_test")


def _message_rows(queryset):
    return queryset.annotate(flow_id=F("run__flow_id"), template_name=KT("content__template__name"),
                             is_test=F("contact__is_test"))


def _fact_for(row: dict[str, Any]) -> MessageFact:
    return MessageFact(message_id=row["id"], bucket=bucket_of(row["created_at"]), flow_id=row["flow_id"] or 0,
                       template=(row["template_name"] or "")[:200], flags=0, open=True)


def _messages(counters: Counters) -> bool:
    """New messages: a fact per outbound message, inbound counts, time to first reply."""
    state = _state("messages")
    ids, more = _next_ids(state, Message.objects.all())
    for chunk in _chunks(ids):
        rows = [r for r in _message_rows(Message.objects.filter(pk__in=chunk)).values(*MESSAGE_FIELDS)
                if not r["is_test"]]
        outbound = [r for r in rows if r["direction"] == Message.Direction.OUTBOUND]
        for row in rows:
            if row["direction"] == Message.Direction.INBOUND:
                counters.add(row["created_at"], 0, "msg.received")
        known = set(MessageFact.objects.filter(message_id__in=[r["id"] for r in outbound])
                    .values_list("message_id", flat=True))
        facts = []
        for row in outbound:
            if row["id"] in known:
                continue
            fact = _fact_for(row)
            _fact_apply(counters, fact, _message_flags(row["status"]))
            facts.append(fact)
        MessageFact.objects.bulk_create(facts)
        _first_replies(counters, outbound)
    state.save()
    return more


def _first_replies(counters: Counters, outbound: list[dict[str, Any]]) -> None:
    """For each outbound message that answers inbound ones, the time since the earliest of them."""
    if not outbound:
        return
    contacts = {r["contact_id"] for r in outbound}
    start = min(r["created_at"] for r in outbound) - REPLY_LOOKBACK
    end = max(r["created_at"] for r in outbound)
    history: dict[int, list[tuple[datetime, int, str]]] = defaultdict(list)
    for row in (Message.objects.filter(contact_id__in=contacts, created_at__gte=start, created_at__lte=end)
                .values_list("contact_id", "created_at", "id", "direction")):
        history[row[0]].append((row[1], row[2], row[3]))
    for items in history.values():
        items.sort()
    for row in outbound:
        waiting_since = None
        for created_at, pk, direction in history[row["contact_id"]]:
            if pk == row["id"]:
                break
            if direction == Message.Direction.OUTBOUND:
                waiting_since = None
            elif waiting_since is None:
                waiting_since = created_at
        if waiting_since is not None:
            seconds = max(0.0, (row["created_at"] - waiting_since).total_seconds())
            counters.add(row["created_at"], row["flow_id"], "reply.latency", _latency_key(seconds))


def _status_events(counters: Counters) -> bool:
    """Every new event counts as received (by kind); Meta's status events also set message outcome
    bits and count delivery failures by Graph error code.

    A status whose message is not known yet (its wamid not recorded) waits (state
    ``events_waiting``) for ``GAP_TTL`` seconds, then counts without a message (its error code
    still counts).
    """
    state, waiting_state = _state("events"), _state("events_waiting")
    waiting = {int(i): float(t) for i, t in waiting_state.gaps or []}
    ids, more = _next_ids(state, InboundEvent.objects.all())
    now = time.time()
    for chunk in _chunks(ids):
        for row in (InboundEvent.objects.filter(pk__in=chunk)
                    .filter(Q(contact__isnull=True) | Q(contact__is_test=False)).values("kind", "received_at")):
            counters.add(row["received_at"], 0, "events.received", row["kind"])
    status_ids = sorted(set(ids) | set(waiting))
    for chunk in _chunks(status_ids):
        events = list(InboundEvent.objects.filter(pk__in=chunk, kind=InboundEvent.Kind.STATUS)
                      .values("id", "payload", "raw", "occurred_at", "received_at"))
        if not events:
            continue
        wamids = {str((e["payload"] or {}).get("message_id", "")) for e in events} - {""}
        keys = {str((e["raw"] or {}).get("biz_opaque_callback_data") or "") for e in events} - {""}
        by_wamid: dict[str, dict[str, Any]] = {}
        by_key: dict[str, dict[str, Any]] = {}
        for row in (_message_rows(Message.objects.filter(Q(provider_message_id__in=wamids) | Q(idempotency_key__in=keys)))
                    .values(*MESSAGE_FIELDS, "provider_message_id", "idempotency_key")):
            if row["provider_message_id"]:
                by_wamid[row["provider_message_id"]] = row
            if row["idempotency_key"]:
                by_key[row["idempotency_key"]] = row
        ids_found = {r["id"] for r in (*by_wamid.values(), *by_key.values())}
        facts = {f.message_id: f for f in MessageFact.objects.filter(message_id__in=ids_found)}
        touched: dict[int, MessageFact] = {}
        for event in events:
            payload, raw = event["payload"] or {}, event["raw"] or {}
            status, at = payload.get("status", ""), event["occurred_at"] or event["received_at"]
            row = by_wamid.get(str(payload.get("message_id", ""))) or by_key.get(str(raw.get("biz_opaque_callback_data")))
            seen = waiting.pop(event["id"], now)
            if row is None and now - seen < GAP_TTL:
                waiting[event["id"]] = seen
                continue
            if status == "failed":
                code = str(((raw.get("errors") or [{}])[0]).get("code", "") or "unknown")
                counters.add(at, 0, "graph.status_errors", code)
            if row is None or row["is_test"]:
                continue
            fact = facts.get(row["id"])
            if fact is None:
                fact = _fact_for(row)
                fact._new = True  # type: ignore[attr-defined]
                facts[row["id"]] = fact
                touched[row["id"]] = fact
                _fact_apply(counters, fact, _message_flags(row["status"]))
            if _fact_apply(counters, fact, STATUS_FLAGS.get(status, 0)):
                touched[fact.message_id] = fact
        _facts_save(touched.values())
    # Ids in ``waiting`` that are not status events (or are gone) are dropped here.
    waiting_state.gaps = [[pk, t] for pk, t in sorted(waiting.items()) if now - t < GAP_TTL][-MAX_GAPS:]
    waiting_state.save()
    state.save()
    return more


def _facts_save(facts: Iterable[MessageFact]) -> None:
    facts = list(facts)
    new = [f for f in facts if getattr(f, "_new", False)]
    old = [f for f in facts if not getattr(f, "_new", False)]
    MessageFact.objects.bulk_create(new, ignore_conflicts=True)
    if old:
        MessageFact.objects.bulk_update(old, ["flags", "open"])


def _open_facts(counters: Counters, *, limit: int = 20_000) -> None:
    """Messages not sent nor failed at the last look: their status now (sandbox, send-time failures)."""
    changed = []
    open_ids = list(MessageFact.objects.filter(open=True).order_by("message_id")
                    .values_list("message_id", flat=True)[:limit])
    for chunk in _chunks(open_ids):
        facts = {f.message_id: f for f in MessageFact.objects.filter(message_id__in=chunk)}
        statuses = dict(Message.objects.filter(pk__in=chunk).values_list("pk", "status"))
        for pk, fact in facts.items():
            status = statuses.get(pk)
            if status is None:  # the message was deleted
                fact.open = False
                changed.append(fact)
            elif _fact_apply(counters, fact, _message_flags(status)):
                changed.append(fact)
    if changed:
        MessageFact.objects.bulk_update(changed, ["flags", "open"])


def _actions(counters: Counters) -> bool:
    state = _state("actions")
    ids, more = _next_ids(state, RunAction.objects.all())
    for chunk in _chunks(ids):
        for row in RunAction.objects.filter(pk__in=chunk).values("action", "requested_at", "run__flow_id"):
            counters.add(row["requested_at"], row["run__flow_id"], "runs.actions", row["action"])
    state.save()
    return more


def _graph_errors(counters: Counters) -> None:
    """Graph API request errors per minute (``core.metrics``), up to the minute before this one."""
    state = _state("graph")
    current = int(time.time() // 60)
    after = state.watermark or current - 24 * 60
    for minute, codes in sorted(core_metrics.graph_errors_by_minute(after=after, before=current).items()):
        at = datetime.fromtimestamp(minute * 60, tz=UTC)
        for code, n in codes.items():
            counters.add(at, 0, "graph.request_errors", code, n)
    state.watermark = current - 1
    state.save()


def _gauges(now: datetime) -> None:
    """Current state: open runs per flow, overdue timers and their lateness, queues."""
    grace = timedelta(seconds=float(getattr(settings, "FLUXO_TIMER_OVERDUE_SECONDS", 60)))
    values: list[tuple[str, int, str, float]] = []
    for row in (FlowRun.objects.filter(status__in=FlowRun.OPEN_STATUSES, is_test=False)
                .values("flow_id", "status").annotate(n=Count("id"))):
        values.append((f"runs.{row['status']}", row["flow_id"], "", row["n"]))
    overdue = FlowRun.objects.filter(status=FlowRun.Status.WAITING, wake_at__lte=now - grace)
    found = overdue.aggregate(n=Count("id"), oldest=Min("wake_at"))
    values.append(("timers.overdue", 0, "", found["n"] or 0))
    values.append(("timers.lateness", 0, "", (now - found["oldest"]).total_seconds() if found["oldest"] else 0.0))
    for row in overdue.values("flow_id").annotate(n=Count("id")):
        values.append(("timers.overdue", row["flow_id"], "", row["n"]))
    pending = InboundEvent.objects.filter(state=InboundEvent.State.PENDING, contact__isnull=False)
    found = pending.aggregate(n=Count("id"), oldest=Min("received_at"))
    values.append(("events.pending", 0, "", found["n"] or 0))
    values.append(("events.oldest_pending", 0, "",
                   (now - found["oldest"]).total_seconds() if found["oldest"] else 0.0))
    values.append(("messages.queued", 0, "", Message.objects.filter(
        direction=Message.Direction.OUTBOUND, status__in=[Message.Status.QUEUED, Message.Status.SENDING]).count()))
    StatGauge.objects.all().delete()
    StatGauge.objects.bulk_create([StatGauge(name=n, flow_id=f, key=k, value=v, measured_at=now)
                                   for n, f, k, v in values])


def stats_rollup(*, budget: float = PASS_BUDGET) -> dict[str, Any]:
    """One roll-up pass (the Celery beat task): add everything new to the hourly counters.

    Each round is one transaction holding the ``lock`` row (``SKIP LOCKED``: a second pass that
    finds it taken returns at once), so counters and watermarks always move together. Rounds
    repeat while a stream had a full batch, within ``budget`` seconds. Then alerts are evaluated.
    """
    RollupState.objects.get_or_create(name="lock")
    started = time.monotonic()
    rounds = written = 0
    while True:
        with transaction.atomic():
            lock = RollupState.objects.select_for_update(skip_locked=True).filter(name="lock").first()
            if lock is None:
                return {"skipped": True}
            counters = Counters()
            more = False
            for stream in (_runs_started, _runs_ended, _messages, _status_events, _steps, _actions):
                more |= stream(counters)
            _open_facts(counters)
            _graph_errors(counters)
            now = timezone.now()
            _gauges(now)
            written += counters.write()
            lock.moment = now
            lock.save()
            rounds += 1
        if not more or time.monotonic() - started > budget:
            break
    from flows.alerts import alerts_evaluate

    alerts = alerts_evaluate(now=timezone.now())
    return {"rounds": rounds, "rows": written, "alerts": alerts, "more": more}


# --- Reads ------------------------------------------------------------------------------------

SERIES_METRICS = ("runs.started", "runs.completed", "runs.failed", "runs.expired", "msg.sent", "msg.delivered",
                  "msg.read", "msg.failed")


def _day_span(since: datetime, until: datetime) -> tuple[datetime, datetime] | None:
    """The whole local days inside ``[hour of since, until)``, or None."""
    start = bucket_of(since)
    first = day_of(start)
    if first < start:
        first = day_of(first + timedelta(hours=30))
    last = day_of(until)
    return (first, last) if first < last else None


def _counter_sums(*, since: datetime, until: datetime, flow_id: int | None, metrics: Iterable[str],
                  by: tuple[str, ...], hourly: bool = False) -> list[dict[str, Any]]:
    """Sums of counters over ``[since, until)`` grouped by ``by`` (bucket, metric, key, flow_id):
    whole local days from the day table, the hours at either end from the hour table (``hourly``:
    hours only). Returned bucket values are hours, or days for the day table's rows."""
    metrics = list(metrics)

    def rows(model, start, end):
        queryset = model.objects.filter(bucket__gte=start, bucket__lt=end, metric__in=metrics)
        if flow_id:
            queryset = queryset.filter(flow_id=flow_id)
        return list(queryset.values(*by).annotate(total=Sum("value")))

    start = bucket_of(since)
    days = None if hourly else _day_span(since, until)
    if days is None:
        return rows(StatCounter, start, until)
    return [*rows(StatCounterDay, days[0], days[1]), *rows(StatCounter, start, days[0]),
            *rows(StatCounter, days[1], until)]


def _percentile(histogram: dict[str, int], share: float) -> float | None:
    """The ``share`` quantile of a latency histogram (seconds), interpolated within its bucket."""
    total = sum(histogram.values())
    if not total:
        return None
    target, seen, low = share * total, 0, 0.0
    for bound in (*LATENCY_BOUNDS, None):
        key = str(bound) if bound is not None else "inf"
        count = histogram.get(key, 0)
        high = float(bound) if bound is not None else low * 2 or 1.0
        if count and seen + count >= target:
            return round(low + (high - low) * (target - seen) / count, 1)
        seen += count
        low = high
    return low


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def dashboard(*, since: datetime, until: datetime, flow_id: int | None = None) -> dict[str, Any]:
    """The dashboard for ``[since, until)`` (hour buckets), for one flow or all: totals, series,
    rankings, message rates, latency, gauges, channels. Sums rows of the roll-up only."""
    from flows.models import Flow

    totals: dict[str, dict[str, int]] = defaultdict(dict)
    by_flow: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_template: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    metrics = (*SERIES_METRICS, "runs.cancelled", "runs.reason", "runs.actions", "http.calls", "http.errors",
               "http.timeouts", "ai.calls", "ai.failures", "handoffs", "graph.status_errors", "graph.request_errors",
               "msg.received", "flow.replies", "reply.latency")
    rows = _counter_sums(since=since, until=until, flow_id=flow_id, metrics=metrics, by=("metric", "key", "flow_id"))
    for row in rows:
        metric, key, total = row["metric"], row["key"], row["total"]
        totals[metric][key] = totals[metric].get(key, 0) + total
        if metric.startswith(("runs.", "msg.")) and metric not in ("runs.reason", "runs.actions", "msg.received"):
            by_flow[row["flow_id"]][metric] += total
        if metric.startswith("msg.") and key:
            by_template[key][metric] += total

    def total(metric: str) -> int:
        return sum(totals.get(metric, {}).values())

    def ranked(metric: str, limit: int = 10) -> list[dict[str, Any]]:
        items = sorted(totals.get(metric, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        return [{"key": key, "count": count} for key, count in items[:limit] if count]

    span = until - since
    step = timedelta(days=1) if span > timedelta(days=3) else timedelta(hours=1)
    series: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in _counter_sums(since=since, until=until, flow_id=flow_id, metrics=SERIES_METRICS,
                             by=("bucket", "metric"), hourly=step == timedelta(hours=1)):
        moment = day_of(row["bucket"]) if step == timedelta(days=1) else row["bucket"]
        series[moment.isoformat()][row["metric"]] += row["total"]
    points = []
    cursor = day_of(since) if step == timedelta(days=1) else bucket_of(since)
    while cursor < until and len(points) < 2000:
        values = series.get(cursor.isoformat(), {})
        points.append({"at": cursor.isoformat(), **{m: values.get(m, 0) for m in SERIES_METRICS}})
        cursor = day_of(cursor + timedelta(hours=30)) if step == timedelta(days=1) else cursor + step

    sent, delivered, read = total("msg.sent"), total("msg.delivered"), total("msg.read")
    http_hosts = sorted(totals.get("http.calls", {}))
    hosts = [{"host": h, "calls": totals["http.calls"].get(h, 0), "errors": totals.get("http.errors", {}).get(h, 0),
              "timeouts": totals.get("http.timeouts", {}).get(h, 0)} for h in http_hosts]
    hosts.sort(key=lambda h: (-h["errors"], -h["calls"], h["host"]))
    graph: dict[str, dict[str, int]] = defaultdict(lambda: {"request": 0, "status": 0})
    for code, n in totals.get("graph.request_errors", {}).items():
        graph[code]["request"] += n
    for code, n in totals.get("graph.status_errors", {}).items():
        graph[code]["status"] += n
    from messaging.providers.whatsapp_cloud import REASONS

    graph_rows = sorted(({"code": code, **counts, "total": counts["request"] + counts["status"],
                          "reason": str(REASONS[int(code)]) if code.isdigit() and int(code) in REASONS else None}
                         for code, counts in graph.items() if counts["request"] + counts["status"]),
                        key=lambda r: (-r["total"], r["code"]))
    names = dict(Flow.objects.filter(pk__in=[f for f in by_flow if f]).values_list("pk", "name"))
    flows_table = [{"flow_id": f, "name": names.get(f, ""), **{m: v for m, v in counts.items()},
                    "delivery_rate": _rate(counts.get("msg.delivered", 0), counts.get("msg.sent", 0)),
                    "read_rate": _rate(counts.get("msg.read", 0), counts.get("msg.sent", 0))}
                   for f, counts in by_flow.items() if f]
    flows_table.sort(key=lambda r: (-r.get("runs.failed", 0), -r.get("runs.started", 0), r["name"]))
    templates = [{"template": name, **dict(counts), "delivery_rate": _rate(counts.get("msg.delivered", 0),
                                                                           counts.get("msg.sent", 0)),
                  "read_rate": _rate(counts.get("msg.read", 0), counts.get("msg.sent", 0))}
                 for name, counts in sorted(by_template.items())]
    histogram = totals.get("reply.latency", {})
    return {
        "since": since.isoformat(), "until": until.isoformat(), "flow_id": flow_id,
        "step": "day" if step == timedelta(days=1) else "hour",
        "runs": {"started": total("runs.started"), "completed": total("runs.completed"),
                 "failed": total("runs.failed"), "expired": total("runs.expired"),
                 "cancelled": total("runs.cancelled"), "actions": dict(totals.get("runs.actions", {})),
                 "failure_rate": _rate(total("runs.failed"),
                                       total("runs.completed") + total("runs.failed") + total("runs.expired"))},
        "series": points,
        "failure_reasons": ranked("runs.reason"),
        "http": hosts[:20],
        "ai": {"calls": total("ai.calls"), "failures": total("ai.failures"), "by_code": ranked("ai.failures"),
               "handoffs": total("handoffs"), "handoffs_by_team": ranked("handoffs")},
        "graph_errors": graph_rows[:20],
        "messages": {"sent": sent, "delivered": delivered, "read": read, "failed": total("msg.failed"),
                     "delivery_rate": _rate(delivered, sent), "read_rate": _rate(read, sent),
                     "replies": total("flow.replies") if flow_id else total("msg.received")},
        "reply_time": {"median_seconds": _percentile(histogram, 0.5), "p90_seconds": _percentile(histogram, 0.9),
                       "answered": sum(histogram.values())},
        "flows": flows_table[:50],
        "templates": templates[:50],
        "gauges": gauges(flow_id=flow_id),
        "channels": channels_state(),
        "updated_at": _last_pass(),
    }


def _last_pass() -> str | None:
    lock = RollupState.objects.filter(name="lock").values_list("moment", flat=True).first()
    return lock.isoformat() if lock else None


def gauges(*, flow_id: int | None = None) -> dict[str, float]:
    """The last roll-up's measures, for one flow (open runs, overdue timers) or the installation."""
    found: dict[str, float] = defaultdict(float)
    for name, flow, value in StatGauge.objects.values_list("name", "flow_id", "value"):
        if flow_id is not None:
            if flow == flow_id:
                found[name] += value
        elif name in ("runs.waiting", "runs.active"):  # measured per flow only
            found[name] += value
        elif flow == 0:
            found[name] = value
    return {"runs_waiting": found.get("runs.waiting", 0), "runs_active": found.get("runs.active", 0),
            "timers_overdue": found.get("timers.overdue", 0), "timers_lateness_seconds": found.get("timers.lateness", 0),
            "events_pending": found.get("events.pending", 0), "messages_queued": found.get("messages.queued", 0)}


def channels_state() -> list[dict[str, Any]]:
    """Each channel: paused or not (and why), and what Meta last said of its quality and tier."""
    from flows.models import ChannelHealth
    from messaging.models import Channel

    health = {h.channel_id: h for h in ChannelHealth.objects.all()}
    result = []
    for channel in Channel.objects.filter(is_active=True).order_by("name"):
        known = health.get(channel.pk)
        result.append({"id": channel.pk, "name": channel.name, "kind": channel.provider_key,
                       "paused": channel.is_paused, "paused_at": channel.paused_at.isoformat() if channel.paused_at else None,
                       "pause_reason": channel.pause_reason,
                       "quality_rating": known.quality_rating if known else "",
                       "messaging_limit_tier": known.messaging_limit_tier if known else "",
                       "health_checked_at": known.checked_at.isoformat() if known and known.checked_at else None})
    return result


def path_counts(*, flow_id: int, since: datetime, until: datetime) -> dict[str, Any]:
    """RapidPro-style path counts of one flow: runs that entered each node, left by each port,
    ended or failed there, in ``[since, until)``."""
    nodes: dict[str, dict[str, Any]] = defaultdict(lambda: {"entered": 0, "errors": 0, "ports": {}, "ended": {}})
    rows = _counter_sums(since=since, until=until, flow_id=flow_id,
                         metrics=("node.entered", "node.port", "node.error", "node.end"), by=("metric", "key"))
    for row in rows:
        metric, key, total = row["metric"], row["key"], row["total"]
        if metric == "node.entered":
            nodes[key]["entered"] += total
        elif metric == "node.error":
            nodes[key]["errors"] += total
        else:
            node_id, _, sub = key.rpartition(":")
            bucket = nodes[node_id]["ports" if metric == "node.port" else "ended"]
            bucket[sub] = bucket.get(sub, 0) + total
    return {"flow_id": flow_id, "since": since.isoformat(), "until": until.isoformat(), "nodes": dict(nodes),
            "updated_at": _last_pass()}
