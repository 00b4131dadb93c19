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

