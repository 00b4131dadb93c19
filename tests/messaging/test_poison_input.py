"""Poison input is parked, not looped (issue 9, point 6): the shapes of the outside review.

``contacts[].profile`` as a string, ``metadata`` as a string, ``entry``/``changes`` as numbers: the
good items of the delivery (and of its batch) are kept, the bad one is counted or recorded with
its reason, and a delivery that fails every attempt is parked as failed with an alert after
``WHATSAPP_DELIVERY_MAX_ATTEMPTS`` — the stale-delivery sweep never queues it again.
"""

from __future__ import annotations

import pytest

from flows.models import InboundEvent
from messaging.inbound import deliveries_drain
from messaging.models import ChannelAlert, Contact, Message, WebhookDelivery
from messaging.webhooks import webhook_deliveries_requeue_stale
from tests.messaging.conftest import post_webhook

pytestmark = pytest.mark.django_db

ANA, BIA = "5511987654321", "5521998765432"


def _message(sender: str, wamid: str, text: str = "oi") -> dict:
    return {"from": sender, "id": wamid, "timestamp": "1749416383", "type": "text", "text": {"body": text}}


def _value(phone_number_id, *, messages: list, contacts=None) -> dict:
    return {"messaging_product": "whatsapp", "metadata": {"phone_number_id": phone_number_id},
            "contacts": contacts if contacts is not None else [], "messages": messages}


def _payload(*changes: dict, entry_extra: list | None = None) -> dict:
    entries = [{"id": "102290129340398", "changes": [{"field": "messages", "value": v} for v in changes]}]
    return {"object": "whatsapp_business_account", "entry": [*(entry_extra or []), *entries]}


def _stored(client, payload) -> WebhookDelivery:
    response = post_webhook(client, payload)
    assert response.status_code == 200
    return WebhookDelivery.objects.order_by("-id").first()


def _processed(delivery: WebhookDelivery) -> WebhookDelivery:
    from messaging.tasks import inbound_delivery_process

    result = inbound_delivery_process.apply(args=(delivery.pk, delivery.sender))  # eager: retries run at once
    assert result.successful(), result.traceback
    delivery.refresh_from_db()
    return delivery


def test_a_profile_that_is_a_string_keeps_the_message(client, cloud_channel):
    pid = cloud_channel.phone_number_id
    delivery = _processed(_stored(client, _payload(_value(pid, messages=[_message(ANA, "wamid.P1")],
                                                          contacts=[{"profile": "Ana", "wa_id": ANA}]))))
    assert delivery.state == WebhookDelivery.State.PROCESSED and delivery.attempts == 1
    assert Message.objects.get(provider_message_id="wamid.P1").contact.phone == f"+{ANA}"
    assert Contact.objects.get(phone=f"+{ANA}").name == ""  # no name from a profile that is not an object


def test_a_metadata_string_skips_its_change_and_keeps_the_others(client, cloud_channel):
    pid = cloud_channel.phone_number_id
    bad = {"messaging_product": "whatsapp", "metadata": pid, "messages": [_message(BIA, "wamid.M0")]}
    delivery = _processed(_stored(client, _payload(bad, _value(pid, messages=[_message(ANA, "wamid.M1")]))))
    assert delivery.state == WebhookDelivery.State.PROCESSED
    assert delivery.summary == {"items": 1, "malformed": 0, "unknown_channel": 1}
    assert list(Message.objects.values_list("provider_message_id", flat=True)) == ["wamid.M1"]


@pytest.mark.parametrize("extra", [[5], [{"id": "1", "changes": 7}], ["entry"], [{"changes": [3, "x"]}]])
def test_entries_or_changes_that_are_numbers_are_counted_and_the_rest_kept(client, cloud_channel, extra):
    pid = cloud_channel.phone_number_id
    delivery = _processed(_stored(client, _payload(_value(pid, messages=[_message(ANA, "wamid.E1")]),
                                                   entry_extra=extra)))
    assert delivery.state == WebhookDelivery.State.PROCESSED and delivery.summary["malformed"] >= 1
    assert Message.objects.filter(provider_message_id="wamid.E1").exists()


@pytest.mark.parametrize("body", [{"entry": 5}, {"entry": [{"changes": 7}]}, {"object": "x", "entry": "str"}])
def test_a_delivery_of_numbers_only_ends_unreadable_or_unknown_never_pending(client, cloud_channel, body):
    delivery = _stored(client, body)
    if delivery.state == WebhookDelivery.State.PENDING:
        delivery = _processed(delivery)
    assert delivery.state in {WebhookDelivery.State.UNREADABLE, WebhookDelivery.State.UNKNOWN_CHANNEL}
    assert not InboundEvent.objects.exists()


def test_a_poison_item_fails_alone_in_a_batch_and_is_parked_with_an_alert(client, cloud_channel, settings,
                                                                          eager_celery):
    """The drain's batch rolls back on the poison delivery; each delivery then gets attempts of its own:
    the good delivery is processed, the poison one keeps its good message, is parked after the bounded
    attempts with the reason and an alert, and the sweep of stale deliveries leaves it alone."""
    settings.WHATSAPP_DELIVERY_MAX_ATTEMPTS = 3
    settings.FLUXO_INBOUND_SHARDS = 1
    pid = cloud_channel.phone_number_id
    good = _stored(client, _payload(_value(pid, messages=[_message(BIA, "wamid.G1", "bom dia")],
                                           contacts=[{"profile": {"name": "Bia"}, "wa_id": BIA}])))
    # One customer's good message and a message without "from" (it can never be placed) in one delivery.
    poison = _stored(client, _payload(_value(pid, messages=[_message(ANA, "wamid.B1", "tudo bem?"),
                                                            {"id": "wamid.B2", "type": "text"}],
                                             contacts=[{"profile": "Ana", "wa_id": ANA}])))
    assert good.state == poison.state == WebhookDelivery.State.PENDING and good.shard == poison.shard == 0

    deliveries_drain(shard=0)

    good.refresh_from_db()
    poison.refresh_from_db()
    assert good.state == WebhookDelivery.State.PROCESSED
    assert poison.state == WebhookDelivery.State.FAILED and poison.attempts == 3
    assert "without 'from'" in poison.error
    assert set(Message.objects.values_list("provider_message_id", flat=True)) == {"wamid.G1", "wamid.B1"}
    alert = ChannelAlert.objects.get(channel=cloud_channel, code="webhook_failed")
    assert str(poison.pk) in alert.message

    # The sweep of stale deliveries queues a lost pending one again, but not the parked one.
    lost = WebhookDelivery.objects.create(source="meta", body="{}", state=WebhookDelivery.State.PENDING, shard=0)
    WebhookDelivery.objects.filter(pk__in=[poison.pk, lost.pk]).update(received_at=poison.received_at.replace(year=2020))
    assert webhook_deliveries_requeue_stale(grace_seconds=0) == 1
    lost.refresh_from_db()
    poison.refresh_from_db()
    assert lost.state == WebhookDelivery.State.PROCESSED  # it was queued (eagerly) and processed
    assert poison.state == WebhookDelivery.State.FAILED and poison.attempts == 3
