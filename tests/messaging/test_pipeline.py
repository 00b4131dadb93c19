"""The inbound and outbound pipelines with real worker processes (PostgreSQL, Redis, Celery), against
the fake Graph API: signed webhooks in, replies out. Every guarantee on the path a user runs:

* a duplicate webhook is a no-op; each customer's messages are handled in order, never concurrently,
  by any number of inbound workers;
* a worker killed mid-batch, or its database connection killed mid-run, loses nothing and sends nothing
  twice;
* each contact's replies reach WhatsApp in the order they were queued, under the pair rate limit;
* a send whose answer never came is confirmed by Meta's status, not repeated;
* a company API that takes ten seconds slows only its own run and holds no transaction;
* each timer fires once with several sweepers.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, transaction

from flows.models import FlowRun, RunStep
from messaging.models import Message, WebhookDelivery
from tests.factories import chain, definition, edge, make_contact, make_flow, node
from tests.messaging.conftest import post_webhook
from tests.workers import start_beat, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FAST = {"WHATSAPP_RECIPIENT_INTERVAL": "0", "FLUXO_KICK_TTL": "3"}


def _text(channel, phone: str, wamid: str, text: str) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": channel.waba_id, "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": channel.phone_number_id},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": phone}],
            "messages": [{"from": phone, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                          "text": {"body": text}}]}}]}]}


def _echo_flow():
    return make_flow(chain(node("t", "trigger", event="message", match="any"),
                           node("r", "send_message", text="eco {{trigger.text}}")), name="Eco")


def _replies(fake_graph) -> list[tuple[str, str]]:
    return [(body["to"], body["text"]["body"]) for body in fake_graph.sent if body.get("type") == "text"]


def test_two_inbound_workers_keep_each_customers_order_and_duplicates_are_no_ops(workers, client, cloud_channel,
                                                                                fake_graph):
    _echo_flow()
    workers("in-1", QUEUES="inbound,celery", **FAST)
    workers("in-2", QUEUES="inbound,celery", **FAST)
    workers("out", QUEUES="outbound", **FAST)
    phones = [f"55119876{i:05d}" for i in range(12)]
    for n in range(5):
        for phone in phones:
            payload = _text(cloud_channel, phone, f"wamid.{phone}.{n}", f"{n}")
            assert post_webhook(client, payload).status_code == 200
            if n % 2 == 0:
                assert post_webhook(client, payload).status_code == 200  # Meta delivered it twice
    wait_for(lambda: len(_replies(fake_graph)) >= 60, timeout=90, message=f"60 replies, got {len(fake_graph.sent)}")
    time.sleep(1.5)  # a duplicate reply, if any, would arrive now
    replies = _replies(fake_graph)
    assert len(replies) == 60
    for phone in phones:
        assert [text for to, text in replies if to == f"+{phone}"] == [f"eco {n}" for n in range(5)]
    assert Message.objects.filter(direction="in").count() == 60
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"processed"}


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(workers, client, cloud_channel, fake_graph,
                                                                         tmp_path):
    from messaging.webhooks import webhook_deliveries_requeue_stale

    marker = tmp_path / "started"
    make_flow(chain(node("t", "trigger", event="message", match="any"),
                    node("slow", "test_slow", seconds=30, marker=str(marker)),
                    node("r", "send_message", text="eco {{trigger.text}}")), name="Lento")
    doomed = workers("doomed", QUEUES="inbound,celery", FLUXO_EXTRA_NODE_MODULES="tests.flows.slow_node", **FAST)
    for i in range(5):
        post_webhook(client, _text(cloud_channel, f"5511977{i:06d}", f"wamid.k{i}", f"{i}"))
    wait_for(marker.exists, timeout=60, message=f"a run in its slow step\n{doomed.output()}")
    doomed.kill()  # mid-batch: the batch's transaction dies with it
    assert WebhookDelivery.objects.filter(state="pending").count() == 5  # rolled back, nothing lost
    workers("rescuer", QUEUES="inbound,outbound,celery", FLUXO_EXTRA_NODE_MODULES="tests.flows.slow_node",
            FLUXO_TEST_FAST="1", **FAST)
    assert webhook_deliveries_requeue_stale(grace_seconds=0) == 5
    wait_for(lambda: len(_replies(fake_graph)) >= 5, timeout=90, message="the five replies")
    time.sleep(1.5)
    assert sorted(text for _, text in _replies(fake_graph)) == [f"eco {i}" for i in range(5)]
    assert FlowRun.objects.count() == 5  # nothing ran twice


def test_a_database_connection_killed_mid_run_loses_nothing(workers, client, cloud_channel, fake_graph, tmp_path):
    marker = tmp_path / "started"
    make_flow(chain(node("t", "trigger", event="message", match="any"),
                    node("slow", "test_slow", seconds=3, marker=str(marker)),
                    node("r", "send_message", text="eco {{trigger.text}}")), name="Lento")
    worker = workers("worker", FLUXO_EXTRA_NODE_MODULES="tests.flows.slow_node", **FAST)
    post_webhook(client, _text(cloud_channel, "5511966000001", "wamid.pg", "oi"))
    wait_for(marker.exists, timeout=60, message=f"the run in its slow step\n{worker.output()}")
    with connection.cursor() as cursor:  # the worker's backend: in a transaction, not ours
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'")
        assert cursor.fetchall(), "no worker transaction to kill"
    wait_for(lambda: len(_replies(fake_graph)) >= 1, timeout=120, message=f"the reply\n{worker.output()}")
    time.sleep(1.5)
    assert _replies(fake_graph) == [("+5511966000001", "eco oi")]
    assert FlowRun.objects.filter(status="completed").count() == 1


def test_50_contacts_x_20_replies_reach_the_graph_api_in_the_order_they_were_queued(workers, cloud_channel,
                                                                                   fake_graph):
    from messaging.services import message_queue_outbound

    contacts = [make_contact(phone=f"+55119555{i:05d}", channel=cloud_channel) for i in range(50)]
    with transaction.atomic():
        for n in range(20):
            for contact in contacts:
                message_queue_outbound(contact=contact, conversation=None, kind="text",
                                       content={"text": {"body": f"{n}", "preview_url": False}},
                                       idempotency_key=f"order:{contact.pk}:{n}")
    pair_limit = {"WHATSAPP_RECIPIENT_INTERVAL": "0.05", "WHATSAPP_RECIPIENT_BURST": "2", "FLUXO_KICK_TTL": "3"}
    workers("out-1", QUEUES="outbound", **pair_limit)
    workers("out-2", QUEUES="outbound", **pair_limit)
    wait_for(lambda: len(fake_graph.sent) >= 1000, timeout=120, message=f"1,000 sends, got {len(fake_graph.sent)}")
    time.sleep(1.5)
    sent = [(body["to"], body["text"]["body"]) for body in fake_graph.sent]
    assert len(sent) == 1000 and len({body["biz_opaque_callback_data"] for body in fake_graph.sent}) == 1000
    for contact in contacts:
        assert [text for to, text in sent if to == contact.phone] == [f"{n}" for n in range(20)]


def test_a_hang_storm_with_status_webhooks_sends_each_message_once(workers, cloud_channel, fake_graph):
    """Meta takes every message but answers after our timeout; its status webhooks carry our key back."""
    from messaging.services import message_queue_outbound
    from messaging.webhooks import status_apply

    contacts = [make_contact(phone=f"+55119444{i:05d}", channel=cloud_channel) for i in range(10)]
    with transaction.atomic():
        for n in range(3):
            for contact in contacts:
                message_queue_outbound(contact=contact, conversation=None, kind="text",
                                       content={"text": {"body": f"{n}", "preview_url": False}},
                                       idempotency_key=f"hang:{contact.pk}:{n}")
    fake_graph.delay = 1.0
    workers("out", QUEUES="outbound,celery", WHATSAPP_HTTP_TIMEOUT="0.3", WHATSAPP_UNCERTAIN_GRACE="20",
            **FAST)
    confirmed: set[str] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(confirmed) < 30:
        for index, body in enumerate(list(fake_graph.sent)):
            key = body["biz_opaque_callback_data"]
            if key in confirmed:
                continue
            with transaction.atomic():  # what Meta's "sent" status webhook does
                status_apply(channel=cloud_channel, status={
                    "id": f"wamid.hang.{index}", "status": "sent", "timestamp": str(int(time.time())),
                    "recipient_id": body["to"].lstrip("+"), "biz_opaque_callback_data": key})
            confirmed.add(key)
        time.sleep(0.2)
    assert len(confirmed) == 30
    keys = [body["biz_opaque_callback_data"] for body in fake_graph.sent]
    assert len(keys) == len(set(keys)) == 30  # nothing sent twice
    assert not Message.objects.filter(possible_duplicate=True).exists()
    for contact in contacts:
        assert [b["text"]["body"] for b in fake_graph.sent if b["to"] == contact.phone] == ["0", "1", "2"]


class _SlowAPI(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    asked = threading.Event()
    answered = threading.Event()

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).asked.set()
        time.sleep(10)
        type(self).answered.set()
        data = json.dumps({"status": "em transporte"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_a_company_api_taking_ten_seconds_slows_only_its_own_run(workers, client, cloud_channel, fake_graph):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/orders/1"
    try:
        make_flow(definition(
            [node("t", "trigger", event="message", match="keyword", keywords=["pedido"]),
             node("api", "http_request", method="GET", url=url, timeout_seconds=20, retries=0,
                  response_mapping=[{"variable": "status", "path": "$.status"}]),
             node("r", "send_message", text="Seu pedido: {{vars.status}}")],
            [edge("t", "api"), edge("api", "r", "success")]), name="Pedido")
        make_flow(chain(node("t", "trigger", event="message", match="any"),
                        node("r", "send_message", text="Oi!")), name="Oi")
        env = {"FLUXO_HTTP_ALLOWLIST": "127.0.0.1", **FAST}
        workers("inbound", QUEUES="inbound,celery", **env)
        workers("calls", QUEUES="calls", **env)
        workers("out", QUEUES="outbound", **env)
        _SlowAPI.asked.clear()
        _SlowAPI.answered.clear()
        post_webhook(client, _text(cloud_channel, "5511933000001", "wamid.slow", "pedido"))
        wait_for(_SlowAPI.asked.is_set, timeout=60, message="the company API asked")  # the call is in flight
        asked_at = time.monotonic()
        post_webhook(client, _text(cloud_channel, "5511933000002", "wamid.fast", "oi"))
        wait_for(lambda: ("+5511933000002", "Oi!") in _replies(fake_graph), timeout=30, message="the other reply")
        assert not _SlowAPI.answered.is_set()  # the other customer was answered while the call still ran
        time.sleep(max(0.0, 5 - (time.monotonic() - asked_at)))  # five seconds into the ten-second call
        with connection.cursor() as cursor:  # and no transaction is held open over the call
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND xact_start < now() - interval '3 seconds'")
            assert cursor.fetchone()[0] == 0
        assert not _SlowAPI.answered.is_set()
        assert FlowRun.objects.get(contact__phone="+5511933000001").wait_kind == "call"  # waiting, not holding
        wait_for(lambda: ("+5511933000001", "Seu pedido: em transporte") in _replies(fake_graph), timeout=40,
                 message="the slow one's reply")
    finally:
        server.shutdown()


def test_each_timer_fires_once_with_several_sweepers(workers, cloud_channel):
    from django.utils import timezone

    flow = make_flow(chain(node("t", "trigger", event="external", event_name="x"),
                           node("wait", "delay", mode="duration", duration={"value": 1, "unit": "hours"}),
                           node("after", "set_variable", assignments=[{"target": "vars.done", "value": "sim"}])))
    contacts = [make_contact(phone=f"+55119222{i:05d}", channel=cloud_channel) for i in range(300)]
    due = timezone.now() + timezone.timedelta(seconds=3)
    FlowRun.objects.bulk_create([
        FlowRun(flow=flow, revision=flow.published_revision, contact=contact, status="waiting", current_node="wait",
                wait_kind="delay", wake_at=due, wait_token=f"t{i}", context={"trigger": {}, "vars": {}}, step_count=2)
        for i, contact in enumerate(contacts)])
    env = {"FLUXO_TIMER_SWEEPERS": "3", "FLUXO_TIMER_BATCH": "40", **FAST}  # small batches: the sweepers share the 300
    workers("a", **env)
    workers("b", **env)
    beat = start_beat(**env)
    try:
        wait_for(lambda: FlowRun.objects.filter(flow=flow, status="completed").count() == 300, timeout=90,
                 message="300 timers fired")
        time.sleep(2)  # another sweep, if any, would act now
        per_run = RunStep.objects.filter(run__flow=flow, node_id="after").values_list("run_id", flat=True)
        assert len(per_run) == 300 and len(set(per_run)) == 300
    finally:
        beat.stop()
