"""Worker-level behaviour on PostgreSQL with real connections from several threads, and the task wrappers."""

from __future__ import annotations

import copy
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from flows.models import InboundEvent
from messaging.models import Message, WebhookDelivery
from tests.factories import make_contact
from tests.messaging.conftest import meta_body, webhook_examples


def _in_threads(target, n: int) -> list:
    results, errors = [], []
    barrier = threading.Barrier(n)

    def run():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_one_message_send_it_once(cloud_channel, fake_graph):
    from messaging.outbound import message_send

    contact = make_contact(phone="+5511987654321", channel=cloud_channel)
    message = Message.objects.create(direction="out", kind="text", content={"text": {"body": "oi"}},
                                     contact=contact, channel=cloud_channel, status="queued", idempotency_key="dup")
    fake_graph.delay = 0.2  # keep the first send in flight while the second worker tries
    _in_threads(lambda: message_send(message_id=message.pk), 4)
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 1
    assert len(fake_graph.sent) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_update_delivered_to_several_workers_at_once_makes_one_event(cloud_channel):
    from messaging.webhooks import webhook_delivery_process

    body = meta_body(webhook_examples()["Interactive Button Reply Message"]).decode()
    ids = [WebhookDelivery.objects.create(body=body, channel=cloud_channel).pk for _ in range(4)]
    pending = list(ids)
    lock = threading.Lock()

    def work():
        with lock:
            pk = pending.pop()
        return webhook_delivery_process(delivery_id=pk)

    _in_threads(work, 4)
    assert InboundEvent.objects.filter(kind="interactive_reply").count() == 1
    assert Message.objects.filter(direction="in").count() == 1
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"processed"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_drains_of_one_shard_send_each_message_once_and_in_order(cloud_channel, fake_graph, settings):
    """Two outbound drains of the same shard at once (a kick raced the flag's expiry): nothing twice, nothing
    out of order — SKIP LOCKED splits the batch, and a contact's second message waits for its first."""
    from messaging.outbound import messages_drain

    settings.FLUXO_OUTBOUND_SHARDS = 1
    settings.WHATSAPP_RECIPIENT_INTERVAL = 0  # no pair limit: only the order rule holds messages back
    contacts = [make_contact(phone=f"+551198765{i:04d}", channel=cloud_channel) for i in range(10)]
    for n in range(3):
        for contact in contacts:
            Message.objects.create(direction="out", kind="text", content={"text": {"body": f"{contact.pk}:{n}"}},
                                   contact=contact, channel=cloud_channel, status="queued",
                                   idempotency_key=f"d{contact.pk}:{n}")
    fake_graph.delay = 0.02
    _in_threads(lambda: messages_drain(shard=0), 2)
    bodies = [body["text"]["body"] for body in fake_graph.sent]
    assert len(bodies) == 30 and len(set(bodies)) == 30
    for contact in contacts:
        assert [b for b in bodies if b.startswith(f"{contact.pk}:")] == [f"{contact.pk}:{n}" for n in range(3)]


@pytest.mark.django_db
def test_webhook_task_retries_with_backoff_when_an_item_fails(cloud_channel, monkeypatch):
    from celery.exceptions import Retry

    from messaging import tasks

    payload = copy.deepcopy(webhook_examples()["Text Message"])
    payload["entry"][0]["changes"][0]["value"]["messages"][0].pop("from")
    delivery = WebhookDelivery.objects.create(body=meta_body(payload).decode(), channel=cloud_channel)
    with pytest.raises(Retry):
        tasks.inbound_delivery_process.apply(args=(delivery.pk, None), throw=True)
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.attempts == 1 and "without 'from'" in delivery.error


@pytest.mark.django_db
def test_stored_but_unprocessed_deliveries_are_requeued(cloud_channel, monkeypatch):
    from messaging import tasks
    from messaging.webhooks import webhook_deliveries_requeue_stale

    old = WebhookDelivery.objects.create(body="{}", channel=cloud_channel)
    WebhookDelivery.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    WebhookDelivery.objects.create(body="{}", channel=cloud_channel)  # fresh: its drain is probably on the way
    parked = WebhookDelivery.objects.create(body="{}", channel=cloud_channel, state="failed", attempts=5)
    WebhookDelivery.objects.filter(pk=parked.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    queued = []
    monkeypatch.setattr(tasks.inbound_delivery_process, "delay", lambda pk, sender: queued.append(pk))
    assert webhook_deliveries_requeue_stale() == 1 and queued == [old.pk]  # never the parked one


@pytest.mark.django_db
def test_processed_deliveries_are_pruned_after_retention(cloud_channel, settings):
    from messaging.webhooks import webhook_deliveries_prune

    settings.WHATSAPP_WEBHOOK_RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    done = WebhookDelivery.objects.create(body="{}", channel=cloud_channel, state="processed")
    kept = WebhookDelivery.objects.create(body="{", state="unreadable")
    recent = WebhookDelivery.objects.create(body="{}", channel=cloud_channel, state="processed")
    WebhookDelivery.objects.filter(pk__in=[done.pk, kept.pk]).update(received_at=old)
    assert webhook_deliveries_prune() == 1
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {kept.pk, recent.pk}
