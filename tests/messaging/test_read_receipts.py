"""Read receipts: an inbound message a flow handles is marked read after commit (channel setting), and
the typing indicator goes out while an AI reply is being prepared (channel setting)."""

from __future__ import annotations

import copy

import pytest

from messaging.models import WebhookDelivery
from messaging.webhooks import webhook_delivery_process
from tests.factories import chain, make_flow, node
from tests.messaging.conftest import post_webhook, webhook_examples

pytestmark = pytest.mark.django_db
EXAMPLES = webhook_examples()


def receive(client, wamid, django_capture_on_commit_callbacks, eager=True):
    payload = copy.deepcopy(EXAMPLES["Text Message"])
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = wamid
    with django_capture_on_commit_callbacks(execute=False):
        assert post_webhook(client, payload).status_code == 200
    with django_capture_on_commit_callbacks(execute=eager) as callbacks:
        webhook_delivery_process(delivery_id=WebhookDelivery.objects.order_by("-id").first().pk)
    return callbacks


def receipts(graph):
    return [b for b in graph.sent if b.get("status") == "read"]


def test_a_message_handled_by_a_flow_is_marked_read_after_commit(client, cloud_channel, fake_graph, eager_celery,
                                                                  django_capture_on_commit_callbacks):
    make_flow(chain(node("t", "trigger", event="message", match="any"), node("e", "end")))
    callbacks = receive(client, "wamid.read.1", django_capture_on_commit_callbacks, eager=False)
    assert not receipts(fake_graph)  # nothing under the lock or inside the transaction
    for callback in callbacks:
        callback()
    assert receipts(fake_graph) == [{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.read.1"}]


def test_no_receipt_when_no_flow_handles_it_or_the_channel_turned_it_off(client, cloud_channel, fake_graph,
                                                                       eager_celery, django_capture_on_commit_callbacks):
    receive(client, "wamid.read.none", django_capture_on_commit_callbacks)
    assert not receipts(fake_graph)
    make_flow(chain(node("t", "trigger", event="message", match="any"), node("e", "end")))
    cloud_channel.read_receipts = False
    cloud_channel.save()
    from messaging.channel_cache import channel_get

    channel_get(cloud_channel.pk, fresh=True)
    receive(client, "wamid.read.off", django_capture_on_commit_callbacks)
    assert not receipts(fake_graph)


def test_the_typing_indicator_shows_on_the_last_message(cloud_channel, fake_graph):
    from messaging.models import Message
    from messaging.services import typing_indicator_show
    from tests.factories import make_contact

    contact = make_contact(channel=cloud_channel)
    Message.objects.create(direction="in", kind="text", content={}, contact=contact, channel=cloud_channel,
                           provider_message_id="wamid.typing", status="received")
    assert typing_indicator_show(contact_id=contact.pk) is False  # off by default
    cloud_channel.typing_indicator = True
    cloud_channel.save()
    from messaging.channel_cache import channel_get

    channel_get(cloud_channel.pk, fresh=True)
    assert typing_indicator_show(contact_id=contact.pk) is True
    assert receipts(fake_graph)[-1] == {"messaging_product": "whatsapp", "status": "read",
                                        "message_id": "wamid.typing", "typing_indicator": {"type": "text"}}


def test_the_channel_page_turns_receipts_and_typing_on_and_off(cloud_channel):
    from rest_framework.test import APIClient

    from tests.factories import make_user

    admin = APIClient()
    admin.force_authenticate(make_user("root", role="admin"))
    health = admin.get(f"/api/channels/{cloud_channel.pk}/health/").json()
    assert health["read_receipts"] is True and health["typing_indicator"] is False
    changed = admin.patch(f"/api/channels/{cloud_channel.pk}/health/",
                          {"read_receipts": False, "typing_indicator": True}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["read_receipts"] is False and changed.json()["typing_indicator"] is True
    cloud_channel.refresh_from_db()
    assert cloud_channel.read_receipts is False and cloud_channel.typing_indicator is True


def test_a_batch_of_deliveries_queues_one_receipt_task_per_channel(client, cloud_channel, fake_graph, eager_celery,
                                                                  django_capture_on_commit_callbacks):
    """The inbound drain handles many customers per transaction: their receipts go in one task, not one each."""
    from celery.signals import task_prerun

    from messaging.inbound import deliveries_drain
    from messaging.ingest import inbound_shards

    make_flow(chain(node("t", "trigger", event="message", match="any"), node("e", "end")))
    wamids = [f"wamid.batch.{i}" for i in range(4)]
    for i, wamid in enumerate(wamids):
        payload = copy.deepcopy(EXAMPLES["Text Message"])
        value = payload["entry"][0]["changes"][0]["value"]
        value["messages"][0]["id"], value["messages"][0]["from"] = wamid, f"55119876500{i:02d}"
        value["contacts"][0]["wa_id"] = f"55119876500{i:02d}"
        with django_capture_on_commit_callbacks(execute=False):
            assert post_webhook(client, payload).status_code == 200
    ran: list[str] = []

    def count(sender=None, **_):
        ran.append(sender.name)

    task_prerun.connect(count, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            for shard in range(inbound_shards()):
                deliveries_drain(shard=shard)
        assert not receipts(fake_graph)  # nothing inside the transaction
        for callback in callbacks:
            callback()
    finally:
        task_prerun.disconnect(count)
    assert sorted(b["message_id"] for b in receipts(fake_graph)) == wamids
    shards_with_work = {WebhookDelivery.objects.get(pk=pk).shard for pk in WebhookDelivery.objects.values_list("pk", flat=True)}
    assert ran.count("messaging.tasks.read_receipts_send") == len(shards_with_work)
    assert "messaging.tasks.read_receipt_send" not in ran
