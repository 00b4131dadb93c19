"""Real Celery worker processes (PostgreSQL + Redis) killed in the middle of a send: no queued
message is lost, and the one send whose outcome died with the worker is either completed by
Meta's status webhook (our key comes back) or sent again after its lease (at-least-once)."""

from __future__ import annotations

import time

import pytest

from messaging.models import Message
from messaging.services import message_queue_outbound, messages_requeue_stale
from messaging.webhooks import status_apply
from tests.factories import make_contact
from tests.workers import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEASE = {"WHATSAPP_SENDING_LEASE": "2"}




def _queue_three(channel) -> list[Message]:
    messages = []
    for i in range(3):
        contact = make_contact(phone=f"+55119876543{i:02d}", channel=channel)
        messages.append(message_queue_outbound(contact=contact, conversation=None, kind="text",
                                               content={"text": {"body": f"Olá {i}", "preview_url": False}},
                                               idempotency_key=f"kill:{i}"))
    return messages


def _kill_during_first_send(workers, fake_graph) -> Message:
    fake_graph.delay = 4  # the first send hangs in flight
    doomed = workers("doomed", **LEASE)
    wait_for(lambda: len(fake_graph.requests) >= 1, timeout=60, message=f"the first send\n{doomed.output()}")
    doomed.kill()
    fake_graph.delay = 0
    in_flight = Message.objects.get(status="sending")
    assert Message.objects.filter(status="queued").count() == 2  # still waiting in the broker
    return in_flight


def test_worker_killed_mid_send_loses_nothing_and_resends_only_the_unknown_one(workers, cloud_channel, fake_graph):
    _queue_three(cloud_channel)
    in_flight = _kill_during_first_send(workers, fake_graph)
    workers("rescuer")
    wait_for(lambda: Message.objects.filter(status="sent").count() == 2, timeout=60, message="the two queued sent")
    assert Message.objects.get(pk=in_flight.pk).status == "sending"  # nobody knows whether Meta got it
    time.sleep(2.5)  # the lease of the dead worker's claim runs out
    assert messages_requeue_stale(grace_seconds=0) == 1
    wait_for(lambda: Message.objects.filter(status="sent").count() == 3, timeout=60, message="all three sent")
    in_flight.refresh_from_db()
    assert in_flight.attempts == 2  # sent again after the lease (the note is cleared once it is sent)
    keys = [body["biz_opaque_callback_data"] for body in fake_graph.sent]
    assert sorted(keys) == sorted(["kill:0", "kill:1", "kill:2", in_flight.idempotency_key])


def test_a_status_webhook_completes_the_send_the_dead_worker_never_recorded(workers, cloud_channel, fake_graph):
    from django.db import transaction

    _queue_three(cloud_channel)
    in_flight = _kill_during_first_send(workers, fake_graph)
    # Meta did get it: its "sent" status carries our key back.
    with transaction.atomic():
        status_apply(channel=cloud_channel, status={"id": "wamid.from.meta", "status": "sent", "timestamp": "1750000000",
                                                    "recipient_id": "5511987654300",
                                                    "biz_opaque_callback_data": in_flight.idempotency_key})
    workers("rescuer")
    wait_for(lambda: Message.objects.filter(status="sent").count() == 3, timeout=60, message="all three sent")
    time.sleep(2.5)  # past the lease: the re-queue job finds nothing to send again
    assert messages_requeue_stale(grace_seconds=0) == 0
    in_flight.refresh_from_db()
    assert in_flight.provider_message_id == "wamid.from.meta" and in_flight.attempts == 1
    assert [body["biz_opaque_callback_data"] for body in fake_graph.sent].count(in_flight.idempotency_key) == 1


def test_signed_webhook_to_reply_through_a_real_worker(workers, client, cloud_channel, fake_graph):
    """POST (signed) → WebhookDelivery → Redis → worker process: normalization, flow, send → fake Graph API."""
    import copy

    from flows.models import FlowRun
    from messaging.models import WebhookDelivery
    from tests.factories import chain, make_flow, node
    from tests.messaging.conftest import post_webhook, webhook_examples

    make_flow(chain(node("t", "trigger", event="interactive_reply", reply_ids=["cancel-button"]),
                    node("ok", "send_message", text="Cancelado, {{trigger.contact_name}}.")), name="Cancelar")
    workers("worker")
    payload = copy.deepcopy(webhook_examples()["Interactive Button Reply Message"])
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(time.time()))
    assert post_webhook(client, payload).status_code == 200
    wait_for(lambda: len(fake_graph.messages) == 1, timeout=60, message="the reply at the Graph API")
    assert fake_graph.messages[0]["text"]["body"] == "Cancelado, Sheena Nelson."
    assert WebhookDelivery.objects.get().state == "processed"
    wait_for(lambda: FlowRun.objects.filter(status="completed").exists(), timeout=30, message="the run completed")
    wait_for(lambda: Message.objects.filter(direction="out", status="sent").exists(), timeout=30,
             message="the send recorded")
