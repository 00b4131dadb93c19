"""The whole path of one inbound message with one reply, as the production topology runs it, counted.

Web (store the signed body) → inbound worker (claim, record, run the flow, queue the reply, one
transaction) → sender (claim, send to the Graph API, record). The statement budget is a guard:
adding a query to this path fails here, with the list of what ran.
"""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flows.demo import demo_definition, demo_node
from flows.services import flow_create, flow_publish
from messaging.models import Contact, Message, WebhookDelivery
from messaging.webhooks import signature_expected
from tests.messaging.conftest import APP_SECRET

BUDGET = 15  # statements, BEGIN and COMMIT included


def _flow() -> None:
    definition = demo_definition(
        [demo_node("inbound", "trigger", 40, 160, event="message", match="any"),
         demo_node("about_order", "branch", 300, 160, mode="conditions", default_label="Outro", conditions=[
             {"id": "order", "label": "Pedido", "match": "all",
              "rules": [{"left": "{{trigger.text}}", "op": "contains", "right": "pedido"}]}]),
         demo_node("order_reply", "send_message", 600, 60, text="Seu pedido está a caminho ({{trigger.message_id}})"),
         demo_node("other_reply", "send_message", 600, 260, text="Recebemos ({{trigger.message_id}})")],
        [("inbound", "next", "about_order"), ("about_order", "order", "order_reply"),
         ("about_order", "default", "other_reply")])
    flow_publish(flow=flow_create(name="Pedido", definition=definition), revision_number=1)


def _webhook(channel, wamid: str, text: str, at: int) -> tuple[bytes, str]:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": channel.waba_id, "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": channel.phone_number_id},
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5511987654321"}],
            "messages": [{"from": "5511987654321", "id": wamid, "timestamp": str(at), "type": "text",
                          "text": {"body": text}}]}}]}]}).encode()
    return body, signature_expected(body, APP_SECRET)


def _one_message(channel, wamid: str, at: int, monkeypatch) -> tuple[list[str], list[str], list[str]]:
    from messaging import inbound as inbound_worker
    from messaging import outbound
    from messaging.ingest import webhook_receive

    body, signature = _webhook(channel, wamid, "quero ver meu pedido", at)
    with CaptureQueriesContext(connection) as web:
        delivery = webhook_receive(body=body, signature=signature)
    with CaptureQueriesContext(connection) as inbound:
        inbound_worker.delivery_process(delivery_id=delivery.pk, sender=delivery.sender)  # as its task does
    reply = Message.objects.filter(direction="out").latest("id")
    assert wamid in reply.content["text"]["body"]
    with CaptureQueriesContext(connection) as sender:
        outbound.message_send(message_id=reply.pk)
    return ([q["sql"] for q in web.captured_queries], [q["sql"] for q in inbound.captured_queries],
            [q["sql"] for q in sender.captured_queries])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_message_with_one_reply_for_a_known_contact_stays_within_the_statement_budget(
        cloud_channel, fake_graph, monkeypatch):
    monkeypatch.setattr("core.kick.kick", lambda *args, **kwargs: (False, 0) if kwargs.get("with_backlog") else False)
    _flow()
    now = int(time.time())
    _one_message(cloud_channel, "wamid.first", now - 60, monkeypatch)  # the contact and its conversation
    web, inbound, sender = _one_message(cloud_channel, "wamid.second", now, monkeypatch)

    listing = "\n".join(f"{part}: {sql[:140]}" for part, queries in (("web", web), ("inbound", inbound),
                                                                      ("sender", sender)) for sql in queries)
    assert len(web) + len(inbound) + len(sender) <= BUDGET, listing
    assert len(web) == 1  # the stored body, in autocommit: nothing else before the 200
    assert [body["text"]["body"] for body in fake_graph.sent][-1] == "Seu pedido está a caminho (wamid.second)"
    contact = Contact.objects.get(phone="+5511987654321")
    assert contact.last_inbound_at.timestamp() == now
    assert WebhookDelivery.objects.filter(state="processed").count() == 2



def _webhook_from(channel, phone: str, wamid: str, text: str, at: int) -> tuple[bytes, str]:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": channel.waba_id, "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": channel.phone_number_id},
            "contacts": [{"profile": {"name": f"Cliente {phone[-4:]}"}, "wa_id": phone}],
            "messages": [{"from": phone, "id": wamid, "timestamp": str(at), "type": "text",
                          "text": {"body": text}}]}}]}]}).encode()
    return body, signature_expected(body, APP_SECRET)


def _store(channel, phone: str, wamid: str, text: str, at: int) -> None:
    from messaging.ingest import webhook_receive

    body, signature = _webhook_from(channel, phone, wamid, text, at)
    webhook_receive(body=body, signature=signature)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_is_read_ahead_with_a_few_statements_and_every_guarantee_kept(cloud_channel, settings, monkeypatch):
    """A drain batch of many customers: contacts locked, their state read, their messages stored and their
    conversations continued with one statement each; duplicates, a new customer, a customer with two
    messages and a closed conversation still come out exactly as one by one."""
    from messaging import inbound as inbound_worker
    from messaging.models import Conversation

    settings.FLUXO_INBOUND_SHARDS = 1  # one batch
    monkeypatch.setattr("core.kick.kick", lambda *args, **kwargs: (False, 0) if kwargs.get("with_backlog") else False)
    _flow()
    now = int(time.time())
    phones = [f"55119870000{i:02d}" for i in range(20)]
    for phone in phones:  # known contacts with an open conversation
        _store(cloud_channel, phone, f"wamid.old.{phone}", "oi", now - 120)
    inbound_worker.deliveries_drain(shard=0)
    closed = Contact.objects.get(phone="+" + phones[3])
    Conversation.objects.filter(pk=closed.current_conversation_id).update(state=Conversation.State.COMPLETED)
    old_conversation = closed.current_conversation_id

    for phone in phones:
        _store(cloud_channel, phone, f"wamid.new.{phone}", "meu pedido", now)
    _store(cloud_channel, phones[0], f"wamid.new.{phones[0]}", "meu pedido", now)  # again
    _store(cloud_channel, phones[1], f"wamid.old.{phones[1]}", "oi", now - 120)  # old
    _store(cloud_channel, phones[2], "wamid.second.of.2", "outra coisa", now + 1)
    _store(cloud_channel, "5511987009999", "wamid.newcomer", "meu pedido", now)
    with CaptureQueriesContext(connection) as drained:
        assert inbound_worker.deliveries_drain(shard=0) == 24

    new_wamids = [f"wamid.new.{p}" for p in phones] + ["wamid.second.of.2", "wamid.newcomer"]
    inbound = Message.objects.filter(direction="in")
    assert inbound.count() == 20 + len(new_wamids)  # no duplicate stored
    for wamid in new_wamids:
        replies = [m for m in Message.objects.filter(direction="out") if wamid in m.content["text"]["body"]]
        assert len(replies) == 1, wamid  # exactly one reply for each new message, none for the duplicates
    two = Message.objects.filter(direction="out", contact__phone="+" + phones[2]).order_by("id")
    assert [m.content["text"]["body"] for m in two][-2:] == [
        f"Seu pedido está a caminho (wamid.new.{phones[2]})", "Recebemos (wamid.second.of.2)"]  # in order
    closed.refresh_from_db()
    assert closed.current_conversation_id != old_conversation  # a closed conversation is not continued
    assert Message.objects.get(provider_message_id=f"wamid.new.{phones[3]}").conversation_id == \
        closed.current_conversation_id
    kept = Contact.objects.get(phone="+" + phones[5])
    assert Conversation.objects.get(pk=kept.current_conversation_id).last_inbound_at.timestamp() == now
    assert kept.last_inbound_at.timestamp() == now
    assert Contact.objects.filter(phone="+5511987009999").exists()
    statements = [q["sql"] for q in drained.captured_queries]
    # One by one this was about 9 per message; the read-ahead leaves the per-message work to the few
    # customers it cannot cover (the newcomer, the duplicates, the closed conversation, the second message).
    assert len(statements) <= 45, "\n".join(s[:140] for s in statements)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reply_behind_a_message_waiting_for_its_slot_wakes_no_drain_and_goes_after_it(
        cloud_channel, fake_graph, settings, monkeypatch):
    """Customers whose queue waits for WhatsApp's pair rate: their new replies queue behind without
    waking a drain (which would only re-scan the waiting queues), and the waiting message's own
    attempt sends them after it, in order."""
    from django.utils import timezone

    from messaging import inbound as inbound_worker
    from messaging.outbound import message_send
    from tests.factories import make_contact

    settings.FLUXO_INBOUND_SHARDS = settings.FLUXO_OUTBOUND_SHARDS = 1
    kicks: list[str] = []
    monkeypatch.setattr("core.kick.kick", lambda name, *args, **kwargs: (
        kicks.append(name), (False, 0) if kwargs.get("with_backlog") else False)[1])
    _flow()
    now = int(time.time())
    phones = ["5511987100001", "5511987100002"]
    held = []
    for phone in phones:
        contact = make_contact(phone="+" + phone, channel=cloud_channel)
        held.append(Message.objects.create(
            direction="out", kind="text", content={"text": {"body": "antes"}}, contact=contact, channel=cloud_channel,
            status="queued", next_attempt_at=timezone.now() + timezone.timedelta(seconds=5)))
    for phone in phones:
        _store(cloud_channel, phone, f"wamid.held.{phone}", "meu pedido", now)
    kicks.clear()
    inbound_worker.deliveries_drain(shard=0)
    assert "outbound" not in kicks  # both queues are held: no drain to wake
    for message in held:  # the slot comes: the held message's own attempt, then its chain
        Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        settings.WHATSAPP_RECIPIENT_INTERVAL = 0
        message_send(message_id=message.pk)
    bodies = [body["text"]["body"] for body in fake_graph.sent]
    assert bodies == ["antes", f"Seu pedido está a caminho (wamid.held.{phones[0]})",
                      "antes", f"Seu pedido está a caminho (wamid.held.{phones[1]})"]


@pytest.mark.django_db(transaction=True)
def test_a_few_busy_senders_report_their_backlog_though_no_batch_is_full(cloud_channel, settings, monkeypatch):
    """Backpressure: one delivery per sender per batch, so two senders with a queue each never fill a
    batch; the drain still reports what waits, and the web's next kick reads it (and slows its answer)."""
    import redis

    from messaging import inbound as inbound_worker
    from messaging.ingest import backpressure_delay, webhook_receive

    settings.FLUXO_INBOUND_SHARDS = 1
    settings.FLUXO_BACKPRESSURE_START = 1
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("fluxo:backlog:inbound")
    monkeypatch.setattr(inbound_worker, "_backlog_reported_at", 0.0)
    _flow()
    now = int(time.time())
    for index in range(3):
        for phone in ("5511987200001", "5511987200002"):
            _store(cloud_channel, phone, f"wamid.busy.{phone}.{index}", "meu pedido", now + index)

    assert inbound_worker.deliveries_drain(shard=0) == 6
    assert int(client.get("fluxo:backlog:inbound")) == 4  # asked after the first batch (2 of 6 taken)
    body, signature = _webhook_from(cloud_channel, "5511987200003", "wamid.busy.next", "oi", now)
    delivery = webhook_receive(body=body, signature=signature)
    assert delivery.backlog == 4 and backpressure_delay(delivery.backlog) > 0
