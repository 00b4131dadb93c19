"""The dashboard's aggregates: counted once across passes, late and out-of-order statuses, retries,
test runs left out, path counts, gaps in the id sequence."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core import metrics as core_metrics
from flows import run_actions, stats
from flows.engine.interpreter import Interpreter
from flows.models import FlowRevision, FlowRun, MessageFact, RollupState, StatCounter
from flows.services import contact_events_process
from messaging.models import Message
from messaging.services import message_deliver_attempt, message_record_sent
from messaging.webhooks import status_apply
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import chain, definition, edge, make_contact, make_flow, make_user, node
from tests.flows.helpers import inbound
from tests.flows.test_run_actions import FlakyNode, flaky  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("run_in_english")

START = node("t", "trigger", event="message", match="keyword", keywords=["start"])


@pytest.fixture(autouse=True)
def _clean_metrics():
    core_metrics.metrics_reset()
    yield
    core_metrics.metrics_reset()


def counter(metric: str, key: str = "", *, flow_id: int | None = None, bucket=None) -> int:
    rows = StatCounter.objects.filter(metric=metric, key=key).exclude(bucket=stats.EPOCH)
    if flow_id is not None:
        rows = rows.filter(flow_id=flow_id)
    if bucket is not None:
        rows = rows.filter(bucket=bucket)
    return sum(rows.values_list("value", flat=True))


def _send_flow(text="olá"):
    return make_flow(chain(START, node("m", "send_message", text=text)))


def _status(wamid: str, status: str, at, **extra) -> None:
    status_apply(channel=None, status={"id": wamid, "status": status, "timestamp": str(int(at.timestamp())),
                                       "recipient_id": "5511999999999", **extra})


def test_runs_are_counted_once_across_passes_and_test_runs_never(contact):
    flow = _send_flow()
    inbound(contact, "start")
    inbound(make_contact(channel=contact.channel), "start")
    tester = make_contact(channel=contact.channel, is_test=True)
    Interpreter().run_start(flow=flow, revision=flow.published_revision, contact=tester, trigger_node_id="t",
                            is_test=True, trigger_payload={})
    assert FlowRun.objects.filter(flow=flow).count() == 3
    stats.stats_rollup()
    stats.stats_rollup()
    assert counter("runs.started", flow_id=flow.pk) == 2
    assert counter("runs.completed", flow_id=flow.pk) == 2
    assert counter("node.entered", "m", flow_id=flow.pk) == 2
    assert counter("node.end", "m:completed", flow_id=flow.pk) == 2
    totals = dict(StatCounter.objects.filter(bucket=stats.EPOCH, metric="runs.started").values_list("key", "value"))
    assert totals == {"": 2}


def test_a_retried_run_counts_its_failure_and_its_completion(contact, flaky):  # noqa: F811
    flow = make_flow(chain(START, node("x", "test_flaky", fail=True), node("m", "send_message", text="ok")))
    inbound(contact, "start")
    stats.stats_rollup()
    assert counter("runs.failed", flow_id=flow.pk) == 1
    assert counter("runs.reason", "node 'x' (Flaky): the company API answered 500", flow_id=flow.pk) == 1
    assert counter("node.error", "x", flow_id=flow.pk) == 1
    run = flow.runs.get()
    flow.published_revision = FlowRevision.objects.create(
        flow=flow, revision=2, spec_version=1,
        definition=chain(START, node("x", "test_flaky", fail=False), node("m", "send_message", text="ok")))
    flow.save(update_fields=["published_revision"])
    run_actions.run_action_request(run=run, action="retry", user=make_user("ana"))
    contact_events_process(contact_id=contact.pk)
    stats.stats_rollup()
    stats.stats_rollup()
    assert counter("runs.started", flow_id=flow.pk) == 1
    assert counter("runs.failed", flow_id=flow.pk) == 1
    assert counter("runs.completed", flow_id=flow.pk) == 1
    assert counter("runs.actions", "retry", flow_id=flow.pk) == 1
    assert counter("node.entered", "x", flow_id=flow.pk) == 2  # the retried step entered the node again
    data = stats.dashboard(since=timezone.now() - timedelta(hours=2), until=timezone.now() + timedelta(hours=1),
                           flow_id=flow.pk)
    assert data["runs"]["failed"] == 1 and data["runs"]["completed"] == 1
    assert data["failure_reasons"] == [{"key": "node 'x' (Flaky): the company API answered 500", "count": 1}]


def _sent_message(contact, wamid: str) -> Message:
    flow = _send_flow()
    inbound(contact, "start")
    message = Message.objects.get(run__flow=flow)
    message_record_sent(message_id=message.pk, provider_message_id=wamid)
    message.refresh_from_db()
    return message


def test_read_before_delivered_counts_one_delivery_and_one_read(contact):
    message = _sent_message(contact, "wamid.A")
    stats.stats_rollup()
    assert (counter("msg.sent"), counter("msg.delivered"), counter("msg.read")) == (1, 0, 0)
    now = timezone.now()
    _status("wamid.A", "read", now)
    stats.stats_rollup()
    assert (counter("msg.sent"), counter("msg.delivered"), counter("msg.read")) == (1, 1, 1)
    _status("wamid.A", "delivered", now - timedelta(seconds=5))  # arrives after "read"
    _status("wamid.A", "read", now)  # Meta repeats itself
    stats.stats_rollup()
    assert (counter("msg.sent"), counter("msg.delivered"), counter("msg.read")) == (1, 1, 1)
    assert MessageFact.objects.get(message_id=message.pk).flags == 7


def test_a_late_status_counts_in_the_hour_the_message_was_sent(contact):
    message = _sent_message(contact, "wamid.B")
    sent_hour = timezone.now() - timedelta(hours=5)
    Message.objects.filter(pk=message.pk).update(created_at=sent_hour)
    stats.stats_rollup()
    _status("wamid.B", "delivered", timezone.now())  # five hours later
    stats.stats_rollup()
    assert counter("msg.delivered", bucket=stats.bucket_of(sent_hour)) == 1
    assert counter("msg.delivered") == 1
    window = stats.dashboard(since=sent_hour - timedelta(minutes=1), until=sent_hour + timedelta(hours=1))
    assert window["messages"]["delivered"] == 1 and window["messages"]["delivery_rate"] == 1.0


def test_a_status_before_its_wamid_is_known_waits_then_counts(contact, monkeypatch):
    flow = _send_flow()
    inbound(contact, "start")
    message = Message.objects.get(run__flow=flow)
    _status("wamid.C", "delivered", timezone.now())  # the send's own write has not landed yet
    stats.stats_rollup()
    assert counter("msg.delivered") == 0
    assert RollupState.objects.get(name="events_waiting").gaps  # kept, not dropped
    message_record_sent(message_id=message.pk, provider_message_id="wamid.C")
    stats.stats_rollup()
    assert (counter("msg.sent"), counter("msg.delivered")) == (1, 1)
    assert RollupState.objects.get(name="events_waiting").gaps == []


def test_failed_statuses_count_by_graph_error_code(contact):
    _sent_message(contact, "wamid.D")
    _status("wamid.D", "failed", timezone.now(), errors=[{"code": 131026, "title": "Message undeliverable"}])
    stats.stats_rollup()
    assert counter("msg.failed") == 1 and counter("graph.status_errors", "131026") == 1
    data = stats.dashboard(since=timezone.now() - timedelta(hours=1), until=timezone.now() + timedelta(hours=1))
    assert data["graph_errors"][0]["code"] == "131026" and data["graph_errors"][0]["status"] == 1
    assert "undeliverable" in data["graph_errors"][0]["reason"]


def _graph_errors_at(minute: int, code: str, n: int = 1) -> None:
    """As if the Cloud API client had recorded ``n`` errors ``code`` during ``minute``."""
    key = f"{core_metrics.PREFIX}:graph:errors:{minute}"
    client = core_metrics._redis()
    if client is not None:
        client.hincrby(key, code, n)
    else:
        core_metrics._local[key][code] += n


def test_graph_request_errors_are_drained_once_from_the_metrics_hook(db):
    minute = int(time.time() // 60)
    RollupState.objects.create(name="graph", watermark=minute - 4)
    _graph_errors_at(minute - 3, "131047", 2)
    _graph_errors_at(minute - 2, "130429")
    stats.stats_rollup()
    stats.stats_rollup()
    assert counter("graph.request_errors", "131047") == 2 and counter("graph.request_errors", "130429") == 1


def test_the_hook_times_graph_calls_and_keeps_the_error_code(db):
    class Answer:
        def __init__(self, status, body):
            self.status_code, self.body = status, body

        def json(self):
            return self.body

    assert core_metrics.graph_api_call(lambda: Answer(200, {"messages": [{"id": "wamid.x"}]})).status_code == 200
    core_metrics.graph_api_call(lambda: Answer(400, {"error": {"code": 131047, "message": "24h"}}))
    with pytest.raises(TimeoutError):
        core_metrics.graph_api_call(lambda: (_ for _ in ()).throw(TimeoutError("slow")))
    snapshot = core_metrics.graph_api_snapshot()
    assert snapshot["calls"] == {"ok": 1.0, "131047": 1.0, "timeout": 1.0}
    assert snapshot["latency"]["count"] == 3
    minute = int(time.time() // 60)
    recent = core_metrics.graph_errors_by_minute(after=minute - 2, before=minute + 1)
    assert sum(n for codes in recent.values() for n in codes.values()) == 2


def test_sandbox_deliveries_are_found_by_looking_at_open_messages_again(contact):
    flow = _send_flow()
    inbound(contact, "start")
    message = Message.objects.get(run__flow=flow)
    stats.stats_rollup()
    assert MessageFact.objects.get(message_id=message.pk).open
    assert counter("msg.sent") == 0
    message_deliver_attempt(message_id=message.pk)  # the sandbox delivers at once
    stats.stats_rollup()
    assert (counter("msg.sent"), counter("msg.delivered")) == (1, 1)
    assert not MessageFact.objects.get(message_id=message.pk).open


def test_per_node_path_counts_follow_the_ports_taken(channel):
    flow = make_flow(definition(
        [START, node("b", "branch", conditions=[{"id": "vip", "label": "VIP",
                                                 "rules": [{"left": "{{trigger.text}}", "op": "contains",
                                                            "right": "vip"}]}]),
         node("m1", "send_message", text="vip"), node("m2", "send_message", text="comum")],
        [edge("t", "b"), edge("b", "m1", "vip"), edge("b", "m2", "default")]))
    for text in ("start vip", "start vip", "start"):
        inbound(make_contact(channel=channel), text)
    stats.stats_rollup()
    counts = stats.path_counts(flow_id=flow.pk, since=timezone.now() - timedelta(hours=1),
                               until=timezone.now() + timedelta(hours=1))["nodes"]
    assert counts["b"]["entered"] == 3 and counts["b"]["ports"] == {"vip": 2, "default": 1}
    assert counts["m1"]["entered"] == 2 and counts["m1"]["ended"] == {"completed": 2}
    assert counts["m2"]["entered"] == 1 and counts["t"]["ports"] == {"next": 3}


def test_time_to_first_reply(contact):
    flow = _send_flow()
    event = inbound(contact, "start")
    inbound_message = Message.objects.get(provider_message_id=event.payload["message_id"])
    Message.objects.filter(pk=inbound_message.pk).update(created_at=timezone.now() - timedelta(seconds=40))
    stats.stats_rollup()
    assert counter("reply.latency", "60", flow_id=flow.pk) == 1
    data = stats.dashboard(since=timezone.now() - timedelta(hours=1), until=timezone.now() + timedelta(hours=1))
    assert 30 < data["reply_time"]["median_seconds"] <= 60 and data["reply_time"]["answered"] == 1
    assert data["messages"]["replies"] == 1  # the inbound message


def test_an_id_not_visible_yet_is_picked_up_later(contact):
    flow = _send_flow()
    for _ in range(3):
        inbound(contact, "start")
    ids = list(FlowRun.objects.order_by("id").values_list("id", flat=True))
    state = RollupState(name="probe", watermark=ids[0] - 1)
    hidden = FlowRun.objects.exclude(pk=ids[1])  # as if its transaction had not committed yet
    found, _ = stats._next_ids(state, hidden)
    assert found == [ids[0], ids[2]] and [g[0] for g in state.gaps] == [ids[1]]
    found, _ = stats._next_ids(state, FlowRun.objects.all())
    assert found == [ids[1]] and state.gaps == []
    state.gaps = [[999_999_999, 0.0]]  # waited for longer than GAP_TTL: forgotten
    stats._next_ids(state, FlowRun.objects.all())
    assert state.gaps == []
    assert flow.runs.count() == 3


def test_gauges_and_dashboard_shape(contact):
    flow = make_flow(chain(START, node("w", "wait_for_reply")))
    inbound(contact, "start")
    FlowRun.objects.filter(flow=flow).update(wake_at=timezone.now() - timedelta(minutes=10))
    stats.stats_rollup()
    data = stats.dashboard(since=timezone.now() - timedelta(days=7), until=timezone.now())
    assert data["step"] == "day" and len(data["series"]) >= 7
    assert data["gauges"]["runs_waiting"] == 1 and data["gauges"]["timers_overdue"] == 1
    assert stats.dashboard(since=timezone.now() - timedelta(hours=1), until=timezone.now(),
                           flow_id=flow.pk)["gauges"]["runs_waiting"] == 1
    assert data["channels"][0]["paused"] is False


def test_long_periods_add_whole_days_and_the_hours_at_either_end(channel):
    """Runs over five days: the 7-day view (day rows plus edge hours) and hour rows agree."""
    flow = _send_flow()
    now = timezone.now()
    moments = [now - timedelta(days=d, hours=h) for d, h in ((0, 0), (0, 3), (1, 5), (2, 0), (3, 12), (4, 23))]
    for _ in moments:
        inbound(make_contact(channel=channel), "start")
    for run, at in zip(flow.runs.order_by("id"), moments, strict=True):
        FlowRun.objects.filter(pk=run.pk).update(started_at=at, ended_at=at)
    stats.stats_rollup()
    week = stats.dashboard(since=now - timedelta(days=7), until=now + timedelta(minutes=1), flow_id=flow.pk)
    assert week["step"] == "day" and week["runs"]["started"] == 6 and week["runs"]["completed"] == 6
    assert sum(point["runs.started"] for point in week["series"]) == 6
    for at in moments:  # each run's day holds it
        point = next(p for p in week["series"] if p["at"] == stats.day_of(at).isoformat())
        assert point["runs.started"] >= 1
    recent = stats.dashboard(since=now - timedelta(hours=4), until=now + timedelta(minutes=1), flow_id=flow.pk)
    assert recent["step"] == "hour" and recent["runs"]["started"] == 2
    counts = stats.path_counts(flow_id=flow.pk, since=now - timedelta(days=7), until=now + timedelta(minutes=1))
    assert counts["nodes"]["m"]["entered"] == 6


def test_a_batch_filter_selects_exactly_the_rows_of_the_batch(contact):
    _send_flow()
    for _ in range(4):
        inbound(contact, "start")
    ids = list(FlowRun.objects.order_by("id").values_list("id", flat=True))
    state = RollupState(name="probe", watermark=ids[0] - 1)
    hidden = FlowRun.objects.exclude(pk=ids[2])  # not committed yet when the batch was listed
    selected, _ = stats._next_batch(state, hidden)
    # Even though the row is visible by the time the batch is aggregated, it waits for its turn.
    assert sorted(FlowRun.objects.filter(selected).values_list("id", flat=True)) == [ids[0], ids[1], ids[3]]
    selected, _ = stats._next_batch(state, FlowRun.objects.all())
    assert list(FlowRun.objects.filter(selected).values_list("id", flat=True)) == [ids[2]]
    selected, _ = stats._next_batch(state, FlowRun.objects.all())
    assert selected is None
