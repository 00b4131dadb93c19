"""Inbound webhooks: handshake, signatures, store-first, the 16 spec examples, statuses, duplicates, consent."""

from __future__ import annotations

import copy
import json

import pytest

from flows.models import InboundEvent
from messaging.models import Contact, Message, MessageTemplate, WebhookDelivery
from messaging.webhooks import webhook_delivery_process
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.messaging.conftest import APP_SECRET, meta_body, post_webhook, sign, webhook_examples

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_in_english")]

EXAMPLES = webhook_examples()
SHEENA = "+16505551234"


def deliver(client, payload, django_capture_on_commit_callbacks):
    """POST like Meta, then run the worker's processing of the stored delivery (the task's code)."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_webhook(client, payload)
    assert response.status_code == 200, response.content
    delivery = WebhookDelivery.objects.order_by("-id").first()
    assert len(callbacks) == (1 if delivery.state == WebhookDelivery.State.PENDING else 0)
    webhook_delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def only_event(**filters) -> InboundEvent:
    events = list(InboundEvent.objects.filter(**filters))
    assert len(events) == 1, [(e.kind, e.dedupe_key) for e in InboundEvent.objects.all()]
    return events[0]


# --- handshake ------------------------------------------------------------------------------


def test_handshake_answers_the_challenge_when_the_token_matches(client, cloud_channel):
    response = client.get("/webhooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": "verify-me-please",
                                                  "hub.challenge": "1158201444"})
    assert response.status_code == 200 and response.content == b"1158201444"


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me-please", "hub.challenge": "1"},
    {"hub.challenge": "1"},
])
def test_handshake_refuses_otherwise(client, cloud_channel, params):
    assert client.get("/webhooks/whatsapp/", params).status_code == 403


# --- signatures -----------------------------------------------------------------------------


def test_missing_signature_is_401_and_nothing_is_stored(client, cloud_channel):
    response = post_webhook(client, EXAMPLES["Text Message"], secret=None)
    assert response.status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_wrong_signature_is_403(client, cloud_channel):
    assert post_webhook(client, EXAMPLES["Text Message"], secret="not-the-secret").status_code == 403
    assert post_webhook(client, EXAMPLES["Text Message"], signature="sha256=deadbeef").status_code == 403
    assert post_webhook(client, EXAMPLES["Text Message"], signature="garbage").status_code == 403
    assert not WebhookDelivery.objects.exists()


def test_signature_over_a_tampered_body_is_403(client, cloud_channel):
    body = meta_body(EXAMPLES["Text Message"])
    signature = sign(body)
    tampered = body.replace(b"another color", b"another colour")
    assert post_webhook(client, tampered, signature=signature).status_code == 403


def test_right_signature_is_200_and_stored_raw(client, cloud_channel, django_capture_on_commit_callbacks):
    body = meta_body(EXAMPLES["Text Message"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_webhook(client, body)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.body.encode() == body and delivery.state == "pending" and delivery.channel_id == cloud_channel.pk
    assert len(callbacks) == 1  # processing is queued after commit, not done in the request
    assert not InboundEvent.objects.exists()


def test_non_ascii_body_is_signed_over_the_escaped_raw_bytes(client, cloud_channel, django_capture_on_commit_callbacks):
    payload = copy.deepcopy(EXAMPLES["Text Message"])
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "Olá, ação já! 👍"
    body = meta_body(payload)
    assert b"\\u00e1" in body and "á".encode() not in body  # Meta's escaping
    delivery = deliver(client, body, django_capture_on_commit_callbacks)
    assert delivery.state == "processed"
    assert only_event(kind="message").payload["text"] == "Olá, ação já! 👍"
    # The same text sent as raw UTF-8 with a signature over the escaped form does not verify.
    raw_utf8 = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    assert post_webhook(client, raw_utf8, signature=sign(body)).status_code == 403
    assert post_webhook(client, raw_utf8, signature=sign(raw_utf8)).status_code == 200


def test_unknown_phone_number_id_is_kept_for_inspection(client, cloud_channel):
    payload = copy.deepcopy(EXAMPLES["Text Message"])
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999999"
    response = post_webhook(client, payload)  # signed with the app's secret: authentic, but not ours
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.UNKNOWN_CHANNEL and "999999" in delivery.error
    assert not InboundEvent.objects.exists()


def test_unreadable_payload_is_kept_not_a_500(client, cloud_channel):
    body = b'{"object": "whatsapp_business_account", "entry": [ broken'
    response = post_webhook(client, body)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.UNREADABLE and delivery.body.encode() == body


def test_items_of_unexpected_shape_fail_alone(client, cloud_channel, django_capture_on_commit_callbacks, settings):
    """A poison item: retried a bounded number of times, then the delivery is parked as failed with the
    reason, and the good items of the same delivery are kept."""
    from messaging import tasks
    from messaging.models import ChannelAlert

    settings.WHATSAPP_DELIVERY_MAX_ATTEMPTS = 3
    payload = copy.deepcopy(EXAMPLES["Text Message"])
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    messages.insert(0, {"type": "text", "text": {"body": "no id, no from"}})
    with django_capture_on_commit_callbacks(execute=False):
        post_webhook(client, payload)
    delivery = WebhookDelivery.objects.get()
    tasks.inbound_delivery_process.apply(args=(delivery.pk, delivery.sender))  # eager: retries run at once
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.FAILED and "without 'from'" in delivery.error
    assert delivery.attempts == 3
    assert only_event(kind="message").payload["text"] == "Does it come in another color?"
    assert ChannelAlert.objects.filter(channel=cloud_channel, code="webhook_failed").count() == 1


# --- the 16 examples of the spec --------------------------------------------------------------

EXPECTED = {
    "Text Message": ("message", {"type": "text", "text": "Does it come in another color?"}),
    "Text Message with Context (Product Inquiry)": ("message", {"type": "text", "text": "Is this still available?"}),
    "Text Message from Click to WhatsApp Ad": ("message", {"type": "text",
                                                           "text": "Hello! Can I get more info on this?"}),
    "Reaction Message": ("message", {"type": "reaction", "text": "👍", "emoji": "👍",
                                     "reacted_message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0RTJEOTc2ODVERUY5RDlGNkYA"}),
    "Image Message": ("message", {"type": "image", "media_id": "1003383421387256", "mime_type": "image/jpeg",
                                  "caption": "Taj Mahal", "text": "Taj Mahal"}),
    "Location Message": ("message", {"type": "location", "latitude": 37.44221496582, "longitude": -122.16165924072,
                                     "name": "Philz Coffee", "address": "101 Forest Ave, Palo Alto, CA 94301",
                                     "text": "Philz Coffee"}),
    "Contact Sharing Message": ("message", {"type": "contacts", "text": "Lucía Gómez"}),
    "Unsupported Message": ("message", {"type": "unsupported", "text": ""}),
    "Button Message": ("interactive_reply", {"type": "button", "text": "Unsubscribe", "reply_id": "Unsubscribe",
                                             "reply_title": "Unsubscribe"}),
    "Interactive List Reply Message": ("interactive_reply", {
        "type": "interactive", "text": "Priority Mail Express", "reply_id": "priority_express",
        "reply_title": "Priority Mail Express", "reply_description": "Next Day to 2 Days"}),
    "Interactive Button Reply Message": ("interactive_reply", {"type": "interactive", "text": "Cancel",
                                                               "reply_id": "cancel-button", "reply_title": "Cancel"}),
    "Order Message": ("message", {"type": "order"}),
    "System Message": ("message", {"type": "system",
                                   "text": "User Sheena Nelson changed from 16505551234 to 12195555358"}),
}
GROUPS = ["Group Create Message", "Group Settings Update", "Group Remove Participants"]


def test_the_spec_has_the_16_examples():
    assert sorted(EXPECTED) + GROUPS and set(EXAMPLES) == set(EXPECTED) | set(GROUPS)
    assert len(EXAMPLES) == 16


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_spec_message_example_becomes_the_right_event(client, cloud_channel, name, django_capture_on_commit_callbacks):
    delivery = deliver(client, EXAMPLES[name], django_capture_on_commit_callbacks)
    assert delivery.state == WebhookDelivery.State.PROCESSED, delivery.error
    raw = EXAMPLES[name]["entry"][0]["changes"][0]["value"]["messages"][0]
    kind, expected = EXPECTED[name]
    event = only_event(dedupe_key=f"wa:msg:{raw['id']}")
    assert event.kind == kind
    assert event.raw is None and event.channel_id == cloud_channel.pk  # the raw message is the Message's content
    payload = event.payload
    for key, value in expected.items():
        assert payload[key] == value, key
    # What every flow can count on:
    for key in ("type", "text", "reply_id", "reply_title", "message_id", "from", "contact_name", "timestamp",
                "conversation_started"):
        assert key in payload, key
    assert payload["message_id"] == raw["id"] and payload["from"] == SHEENA
    assert payload["conversation_started"] is True
    assert payload["timestamp"].startswith("20")
    contact = Contact.objects.get(phone=SHEENA)
    assert event.contact_id == contact.pk and contact.last_inbound_at is not None
    if name != "System Message":
        assert payload["contact_name"] == "Sheena Nelson" and contact.name == "Sheena Nelson"
    stored = Message.objects.get(provider_message_id=raw["id"])
    assert stored.direction == "in" and stored.content == raw and stored.kind == raw["type"]


def test_context_and_referral_are_passed_on(client, cloud_channel, django_capture_on_commit_callbacks):
    deliver(client, EXAMPLES["Text Message with Context (Product Inquiry)"], django_capture_on_commit_callbacks)
    deliver(client, EXAMPLES["Text Message from Click to WhatsApp Ad"], django_capture_on_commit_callbacks)
    context = InboundEvent.objects.get(payload__text="Is this still available?").payload["context"]
    assert context["referred_product"]["product_retailer_id"] == "di9ozbzfi4"
    referral = InboundEvent.objects.get(payload__text="Hello! Can I get more info on this?").payload["referral"]
    assert referral["source_type"] == "ad" and referral["ctwa_clid"].startswith("Aff-")


def test_order_and_unsupported_details(client, cloud_channel, django_capture_on_commit_callbacks):
    deliver(client, EXAMPLES["Order Message"], django_capture_on_commit_callbacks)
    deliver(client, EXAMPLES["Unsupported Message"], django_capture_on_commit_callbacks)
    assert len(InboundEvent.objects.get(payload__type="order").payload["order"]["product_items"]) == 2
    assert InboundEvent.objects.get(payload__type="unsupported").payload["errors"][0]["code"] == 131051


@pytest.mark.parametrize("name", GROUPS)
def test_group_updates_are_stored_and_ignored_by_flows(client, cloud_channel, name, django_capture_on_commit_callbacks):
    payload = copy.deepcopy(EXAMPLES[name])
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = cloud_channel.phone_number_id
    delivery = deliver(client, payload, django_capture_on_commit_callbacks)
    assert delivery.state == WebhookDelivery.State.PROCESSED
    event = only_event(kind="system")
    assert event.contact_id is None and event.state == InboundEvent.State.IGNORED
    assert event.payload["type"] == "group"
    assert not Contact.objects.exists()


def test_a_conversation_is_started_once(client, cloud_channel, django_capture_on_commit_callbacks):
    deliver(client, EXAMPLES["Text Message with Context (Product Inquiry)"], django_capture_on_commit_callbacks)
    deliver(client, EXAMPLES["Interactive Button Reply Message"], django_capture_on_commit_callbacks)
    first, second = InboundEvent.objects.order_by("id")
    assert first.payload["conversation_started"] is True and second.payload["conversation_started"] is False


# --- batches and duplicates -------------------------------------------------------------------


def _batch() -> dict:
    """Many entries, changes, messages and statuses in one POST."""
    batch = copy.deepcopy(EXAMPLES["Text Message with Context (Product Inquiry)"])
    value = batch["entry"][0]["changes"][0]["value"]
    for name in ("Interactive List Reply Message", "Image Message", "Location Message"):
        value["messages"] += EXAMPLES[name]["entry"][0]["changes"][0]["value"]["messages"]
    batch["entry"].append(copy.deepcopy(EXAMPLES["Order Message"])["entry"][0])
    batch["entry"][1]["changes"].append(copy.deepcopy(EXAMPLES["Reaction Message"])["entry"][0]["changes"][0])
    return batch


def test_a_batch_is_handled_whole(client, cloud_channel, django_capture_on_commit_callbacks):
    delivery = deliver(client, _batch(), django_capture_on_commit_callbacks)
    assert delivery.state == "processed" and delivery.error == ""
    # The image and reaction examples of the spec share one wamid: the second is a duplicate.
    assert InboundEvent.objects.filter(kind__in=["message", "interactive_reply"]).count() == 5


def test_the_same_post_twice_is_a_no_op(client, cloud_channel, django_capture_on_commit_callbacks):
    deliver(client, _batch(), django_capture_on_commit_callbacks)
    counts = (InboundEvent.objects.count(), Message.objects.count(), Contact.objects.count())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deliver(client, _batch(), django_capture_on_commit_callbacks)
    assert (InboundEvent.objects.count(), Message.objects.count(), Contact.objects.count()) == counts
    assert WebhookDelivery.objects.count() == 2  # both deliveries are kept, only one had effects
    assert not any("contact_events_process" in repr(cb) for cb in callbacks)


def test_reprocessing_a_delivery_is_a_no_op(client, cloud_channel, django_capture_on_commit_callbacks):
    delivery = deliver(client, EXAMPLES["Text Message"], django_capture_on_commit_callbacks)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state="pending")
    webhook_delivery_process(delivery_id=delivery.pk)
    assert InboundEvent.objects.count() == 1 and Message.objects.count() == 1


# --- statuses ---------------------------------------------------------------------------------


def _outbound(contact, wamid="wamid.OUT1", status="sent"):
    return Message.objects.create(direction="out", kind="text", content={"text": {"body": "oi"}}, contact=contact,
                                  channel=contact.channel, provider_message_id=wamid, status=status,
                                  idempotency_key=f"key-{wamid}")


def _status_payload(channel, *statuses) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": channel.waba_id, "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
                                       "metadata": {"display_phone_number": "15550783881",
                                                    "phone_number_id": channel.phone_number_id},
                                       "statuses": list(statuses)}}]}]}


def _status(wamid, status, ts=1750000000, **extra):
    return {"id": wamid, "status": status, "timestamp": str(ts), "recipient_id": "16505551234", **extra}


@pytest.fixture
def sheena(cloud_channel):
    return Contact.objects.create(phone=SHEENA, name="Sheena", channel=cloud_channel)


def test_statuses_move_forward_and_never_back(client, cloud_channel, sheena, django_capture_on_commit_callbacks):
    message = _outbound(sheena)
    deliver(client, _status_payload(cloud_channel, _status("wamid.OUT1", "read", 1750000030)),
            django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == "read" and message.read_at is not None
    deliver(client, _status_payload(cloud_channel, _status("wamid.OUT1", "delivered", 1750000020),
                                    _status("wamid.OUT1", "sent", 1750000010)), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == "read"


def test_read_before_delivered_back_fills_delivered_at(client, cloud_channel, sheena,
                                                     django_capture_on_commit_callbacks):
    """A read message was delivered: "read" alone (or first) leaves no empty delivered_at (issue 9)."""
    from datetime import UTC, datetime

    message = _outbound(sheena)
    deliver(client, _status_payload(cloud_channel, _status("wamid.OUT1", "read", 1750000030)),
            django_capture_on_commit_callbacks)
    message.refresh_from_db()
    read_at = datetime.fromtimestamp(1750000030, tz=UTC)
    assert message.status == "read"
    assert message.read_at == read_at and message.delivered_at == read_at
    # "delivered" arriving late still gives its own, earlier moment; the status stays "read".
    deliver(client, _status_payload(cloud_channel, _status("wamid.OUT1", "delivered", 1750000020)),
            django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == "read"
    assert message.delivered_at == datetime.fromtimestamp(1750000020, tz=UTC) and message.read_at == read_at


def test_delivered_then_read_in_one_batch(client, cloud_channel, sheena, django_capture_on_commit_callbacks):
    message = _outbound(sheena)
    deliver(client, _status_payload(cloud_channel, _status("wamid.OUT1", "delivered"), _status("wamid.OUT1", "read")),
            django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == "read" and message.delivered_at and message.read_at


def test_failed_status_keeps_code_and_reason(client, cloud_channel, sheena, django_capture_on_commit_callbacks):
    message = _outbound(sheena)
    failed = _status("wamid.OUT1", "failed", errors=[{"code": 131047, "title": "Re-engagement message",
                                                      "error_data": {"details": "Message failed to send because more than 24 hours have passed"}}])
    deliver(client, _status_payload(cloud_channel, failed), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == "131047"
    assert "use a template" in message.error


def test_same_wamid_and_status_twice_is_a_no_op(client, cloud_channel, sheena, django_capture_on_commit_callbacks,
                                                monkeypatch):
    from core import signals

    emitted = []
    monkeypatch.setattr("messaging.services.domain_event_emit", lambda **kw: emitted.append(kw["event_type"]))
    _outbound(sheena)
    payload = _status_payload(cloud_channel, _status("wamid.OUT1", "delivered"))
    deliver(client, payload, django_capture_on_commit_callbacks)
    deliver(client, payload, django_capture_on_commit_callbacks)
    assert emitted == ["message.delivered"]
    assert InboundEvent.objects.filter(kind="status").count() == 1
    assert signals  # imported for the monkeypatch target's module


def test_status_before_the_send_was_recorded_is_applied_later(client, cloud_channel, sheena,
                                                              django_capture_on_commit_callbacks):
    from messaging.outbound import message_record_sent
    from messaging.webhooks import statuses_reconcile

    message = _outbound(sheena, wamid=None, status="sending")
    deliver(client, _status_payload(cloud_channel, _status("wamid.LATE", "delivered")),
            django_capture_on_commit_callbacks)
    message_record_sent(message=message, provider_message_id="wamid.LATE", delivered=False, channel=cloud_channel)
    assert statuses_reconcile() == 1
    message.refresh_from_db()
    assert message.provider_message_id == "wamid.LATE" and message.status == "delivered"


def test_status_carrying_our_key_completes_a_send_a_dead_worker_never_recorded(
        client, cloud_channel, sheena, django_capture_on_commit_callbacks):
    message = _outbound(sheena, wamid=None, status="sending")
    status = _status("wamid.LOST", "sent", biz_opaque_callback_data=message.idempotency_key)
    deliver(client, _status_payload(cloud_channel, status), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.provider_message_id == "wamid.LOST" and message.status == "sent"


def test_template_status_update_updates_the_template(client, cloud_channel, django_capture_on_commit_callbacks):
    template = MessageTemplate.objects.create(channel=cloud_channel, name="promo", language="pt_BR",
                                              provider_template_id="778", status="PENDING")
    payload = {"object": "whatsapp_business_account", "entry": [{"id": cloud_channel.waba_id, "time": 1750000000,
               "changes": [{"field": "message_template_status_update", "value": {
                   "event": "APPROVED", "message_template_id": 778, "message_template_name": "promo",
                   "message_template_language": "pt_BR", "reason": "NONE"}}]}]}
    delivery = deliver(client, payload, django_capture_on_commit_callbacks)
    assert delivery.channel_id == cloud_channel.pk
    template.refresh_from_db()
    assert template.status == "APPROVED"
    payload["entry"][0]["changes"][0]["value"].update(event="REJECTED", message_template_id=779)
    deliver(client, payload, django_capture_on_commit_callbacks)
    template.refresh_from_db()
    assert template.status == "REJECTED"


# --- consent ----------------------------------------------------------------------------------


def _text(body: str, wamid: str = "wamid.OPT1") -> dict:
    payload = copy.deepcopy(EXAMPLES["Text Message"])
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["text"]["body"], message["id"] = body, wamid
    return payload


@pytest.mark.parametrize("word", ["SAIR", "parar", "Stop", "cancelar!", "Descadastrar"])
def test_opt_out_keywords(client, cloud_channel, word, django_capture_on_commit_callbacks):
    deliver(client, _text(word), django_capture_on_commit_callbacks)
    contact = Contact.objects.get(phone=SHEENA)
    assert contact.consent_state("marketing") == "opted_out"
    event = only_event(kind="opt_out")
    assert event.dedupe_key == "wa:optout:wamid.OPT1" and event.contact_id == contact.pk
    assert only_event(kind="message").payload["text"] == word  # the flows still see the message


def test_opt_out_keyword_inside_a_sentence_is_just_a_message(client, cloud_channel, django_capture_on_commit_callbacks):
    deliver(client, _text("não quero sair de casa"), django_capture_on_commit_callbacks)
    assert Contact.objects.get(phone=SHEENA).consent_state("marketing") == "unknown"
    assert not InboundEvent.objects.filter(kind="opt_out").exists()


def test_opt_out_button_from_the_spec(client, cloud_channel, django_capture_on_commit_callbacks):
    deliver(client, EXAMPLES["Button Message"], django_capture_on_commit_callbacks)  # payload "Unsubscribe"
    assert Contact.objects.get(phone=SHEENA).consent_state("marketing") == "opted_out"


def test_opt_in_keyword_and_configurable_keywords(client, cloud_channel, settings, django_capture_on_commit_callbacks):
    deliver(client, _text("Quero receber", "wamid.IN1"), django_capture_on_commit_callbacks)
    assert Contact.objects.get(phone=SHEENA).consent_state("marketing") == "opted_in"
    assert only_event(kind="opt_in").dedupe_key == "wa:optin:wamid.IN1"
    settings.WHATSAPP_OPT_OUT_KEYWORDS = ["CHEGA"]
    deliver(client, _text("SAIR", "wamid.X2"), django_capture_on_commit_callbacks)
    assert Contact.objects.get(phone=SHEENA).consent_state("marketing") == "opted_in"
    deliver(client, _text("chega", "wamid.X3"), django_capture_on_commit_callbacks)
    assert Contact.objects.get(phone=SHEENA).consent_state("marketing") == "opted_out"


def test_error_131050_records_the_opt_out(client, cloud_channel, sheena, django_capture_on_commit_callbacks):
    Contact.objects.filter(pk=sheena.pk).update(consent={"marketing": {"state": "opted_in"}})
    _outbound(sheena)
    failed = _status("wamid.OUT1", "failed", errors=[{"code": 131050, "title": "User stopped marketing"}])
    deliver(client, _status_payload(cloud_channel, failed), django_capture_on_commit_callbacks)
    sheena.refresh_from_db()
    assert sheena.consent_state("marketing") == "opted_out"
    assert only_event(kind="opt_out").payload["source"] == "error 131050"


def test_secret_never_reaches_the_stored_delivery(client, cloud_channel):
    post_webhook(client, EXAMPLES["Text Message"])
    assert APP_SECRET not in WebhookDelivery.objects.get().signature


@pytest.mark.parametrize("payload", [
    {"object": "whatsapp_business_account", "entry": "not a list"},
    {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": 7}]}]},
    {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": "x"}]},
])
def test_json_of_another_shape_is_kept_as_unreadable(client, cloud_channel, payload, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = post_webhook(client, payload)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    webhook_delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state in (WebhookDelivery.State.UNREADABLE, WebhookDelivery.State.UNKNOWN_CHANNEL)
    assert not InboundEvent.objects.exists()


def test_malformed_items_are_skipped_and_the_rest_processed(client, cloud_channel, django_capture_on_commit_callbacks):
    payload = copy.deepcopy(EXAMPLES["Text Message"])
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"].append("garbage")
    value["statuses"] = [42]
    delivery = deliver(client, payload, django_capture_on_commit_callbacks)
    assert delivery.state == "processed" and delivery.summary["malformed"] == 2
    assert only_event(kind="message").payload["text"] == "Does it come in another color?"
