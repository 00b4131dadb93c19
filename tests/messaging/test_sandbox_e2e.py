"""End to end: the sandbox phone and a signed Cloud API webhook both run published flows, through
the same stored-delivery path and the real Celery task code (eager), with real commits."""

from __future__ import annotations

import copy
import json
import time

import pytest

from flows.models import FlowRun, InboundEvent
from messaging.models import Message, SandboxChannel, WebhookDelivery
from tests.factories import chain, edge, make_flow, make_user, node
from tests.messaging.conftest import post_webhook, webhook_examples

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(db):
    from messaging import demo

    demo.seed()
    return SandboxChannel.objects.get(name="Sandbox")


def test_demo_seed_is_idempotent(demo):
    from messaging import demo as module
    from messaging.models import Contact, MessageTemplate

    counts = (SandboxChannel.objects.count(), MessageTemplate.objects.count(), Contact.objects.count())
    module.seed()
    assert (SandboxChannel.objects.count(), MessageTemplate.objects.count(), Contact.objects.count()) == counts
    names = set(MessageTemplate.objects.filter(status="APPROVED", language="pt_BR").values_list("name", flat=True))
    assert {"followup_no_answer", "followup_answered", "appointment_reminder"} <= names
    assert MessageTemplate.objects.get(name="appointment_reminder").parameter_count == 2


def test_sandbox_page_needs_login_and_lists_contacts(client, demo):
    assert client.get("/sandbox/").status_code == 302
    client.force_login(make_user("op", role="editor"))
    page = client.get("/sandbox/").content.decode()
    assert "Maria Silva" in page and "sandbox.js" in page


def test_sandbox_conversation_runs_a_flow_with_buttons(client, demo, eager_celery):
    """Type a keyword, see the buttons Fluxo sent, tap one: the reply resumes the flow."""
    make_flow(definition_with_buttons(), name="Botões")
    client.force_login(make_user("op", role="editor"))
    contact = demo.contacts.get(name="Maria Silva")

    response = client.post("/sandbox/api/send/", json.dumps({"contact": contact.pk, "text": "PLANOS"}),
                           content_type="application/json")
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get(pk=response.json()["delivery"])
    assert delivery.source == "sandbox" and delivery.state == "processed"
    event = InboundEvent.objects.get(kind="message", contact=contact)
    assert event.payload["text"] == "PLANOS" and event.payload["conversation_started"] is True

    chat = client.get("/sandbox/api/messages/", {"contact": contact.pk}).json()["messages"]
    assert [m["direction"] for m in chat] == ["in", "out"]
    question = chat[1]
    assert question["text"] == "Qual plano?" and [b["id"] for b in question["buttons"]] == ["basic", "pro"]
    assert question["status"] == "delivered"

    client.post("/sandbox/api/send/", json.dumps({"contact": contact.pk, "reply_kind": "button", "reply_id": "pro",
                                                  "reply_title": "Pro", "context": question["wamid"]}),
                content_type="application/json")
    reply = InboundEvent.objects.get(kind="interactive_reply", contact=contact)
    assert reply.payload["reply_id"] == "pro" and reply.payload["context"]["id"] == question["wamid"]
    chat = client.get("/sandbox/api/messages/", {"contact": contact.pk, "after": question["id"]}).json()["messages"]
    assert [m["text"] for m in chat] == ["Pro", "Você escolheu Pro"]
    assert FlowRun.objects.get(contact=contact).status == "completed"


def test_sandbox_list_rows_and_template_quick_replies(client, demo, eager_celery):
    from messaging.services import message_queue_outbound

    client.force_login(make_user("op", role="editor"))
    contact = demo.contacts.get(name="João Souza")
    message_queue_outbound(contact=contact, conversation=None, kind="template", idempotency_key="t1", content={
        "template": {"name": "appointment_reminder", "language": {"code": "pt_BR"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "João"}, {"type": "text", "text": "10/12 14h"}]}]}})
    bubble = client.get("/sandbox/api/messages/", {"contact": contact.pk}).json()["messages"][0]
    assert bubble["text"] == "Olá João, lembrete da sua consulta em 10/12 14h."
    assert [b["title"] for b in bubble["buttons"]] == ["Confirmo", "Preciso remarcar"]
    client.post("/sandbox/api/send/", json.dumps({"contact": contact.pk, "reply_kind": "quick_reply",
                                                  "reply_id": "Confirmo", "reply_title": "Confirmo"}),
                content_type="application/json")
    client.post("/sandbox/api/send/", json.dumps({"contact": contact.pk, "reply_kind": "list",
                                                  "reply_id": "row-2", "reply_title": "Terça"}),
                content_type="application/json")
    payloads = [e.payload for e in InboundEvent.objects.filter(kind="interactive_reply").order_by("id")]
    assert [(p["type"], p["reply_id"], p["reply_kind"]) for p in payloads] == [
        ("button", "Confirmo", "quick_reply"), ("interactive", "row-2", "list")]


def test_sandbox_rejects_empty_text_and_other_channels(client, demo, cloud_channel):
    from tests.factories import make_contact

    client.force_login(make_user("op", role="editor"))
    contact = demo.contacts.first()
    assert client.post("/sandbox/api/send/", json.dumps({"contact": contact.pk, "text": "  "}),
                       content_type="application/json").status_code == 400
    real = make_contact(phone="+5511987600000", channel=cloud_channel)
    assert client.post("/sandbox/api/send/", json.dumps({"contact": real.pk, "text": "oi"}),
                       content_type="application/json").status_code == 404
    created = client.post("/sandbox/api/contacts/", json.dumps({"phone": "+55 21 98888-7777", "name": "Bia"}),
                          content_type="application/json")
    assert created.status_code == 201 and created.json()["phone"] == "+5521988887777"


def definition_with_buttons():
    nodes = [
        node("t", "trigger", event="message", match="keyword", keywords=["PLANOS"]),
        node("ask", "send_message", text="Qual plano?", buttons=[{"id": "basic", "title": "Básico"},
                                                               {"id": "pro", "title": "Pro"}]),
        node("wait", "wait_for_reply", timeout={"value": 1, "unit": "hours"}, save_as="plano"),
        node("done", "send_message", text="Você escolheu {{vars.plano}}"),
    ]
    defn = chain(*nodes[:3])
    defn["nodes"].append(nodes[3])
    defn["edges"].append(edge("wait", "done", "reply"))
    return defn


def test_signed_webhook_end_to_end_reply_reaches_the_graph_api(client, cloud_channel, fake_graph, eager_celery):
    """Meta → signed POST → stored → worker task → event → published flow → reply → fake Graph API."""
    make_flow(chain(node("t", "trigger", event="message", match="keyword", keywords=["oi"]),
                    node("hello", "send_message", text="Olá {{trigger.contact_name}}! Recebemos: {{trigger.text}}")),
              name="Boas-vindas")
    payload = copy.deepcopy(webhook_examples()["Text Message"])
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["text"]["body"] = "Oi"
    message["timestamp"] = str(int(time.time()))  # the example's 2025 date is outside the 24-hour window
    response = post_webhook(client, payload)
    assert response.status_code == 200

    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "processed" and delivery.channel_id == cloud_channel.pk
    event = InboundEvent.objects.get(kind="message")
    assert event.state == "done", event.error
    run = FlowRun.objects.get()
    assert run.status == "completed" and run.trigger_event_id == event.pk, (run.end_reason, list(run.steps.values_list("node_id", "error")))
    outbound = Message.objects.get(direction="out")
    assert outbound.status == "sent" and outbound.provider_message_id.startswith("wamid.fake.")
    messages = [b for b in fake_graph.sent if b.get("status") != "read"]
    assert len(messages) == 1
    body = messages[0]
    assert body["to"] == "+16505551234" and body["type"] == "text"
    # The flow handled the customer's message: marked read (blue ticks), after commit.
    assert [b["message_id"] for b in fake_graph.sent if b.get("status") == "read"] == [event.payload["message_id"]]
    assert body["text"]["body"] == "Olá Sheena Nelson! Recebemos: Oi"

    # Meta reports the status: the message moves forward.
    status = {"object": "whatsapp_business_account", "entry": [{"id": cloud_channel.waba_id, "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
            "display_phone_number": "15550783881", "phone_number_id": cloud_channel.phone_number_id},
            "statuses": [{"id": outbound.provider_message_id, "status": "read", "timestamp": "1750000100",
                          "recipient_id": "16505551234"}]}}]}]}
    assert post_webhook(client, status).status_code == 200
    outbound.refresh_from_db()
    assert outbound.status == "read"


def test_signed_webhook_runs_the_demo_support_flow_and_the_reply_reaches_meta(client, cloud_channel, fake_graph,
                                                                              eager_celery):
    """The demo's support triage flow answers a billing question sent through a real, signed webhook."""
    from flows import demo as flows_demo
    from messaging import demo as messaging_demo

    messaging_demo.seed()
    flows_demo.seed()
    payload = copy.deepcopy(webhook_examples()["Text Message"])
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(id="wamid.demo.1", timestamp=str(int(time.time())))
    message["text"]["body"] = "Preciso da segunda via do boleto"
    assert post_webhook(client, payload).status_code == 200
    run = FlowRun.objects.get(flow__name="Triagem de suporte")
    assert run.status == "completed", run.end_reason
    assert [body["text"]["body"] for body in fake_graph.sent if body.get("type") == "text"] == [
        "Para 2ª via de boleto ou dúvidas de pagamento, acesse https://fluxo.example/financeiro."]
    # The flow handled the message: it was marked read too (after commit, from the calls queue).
    assert {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.demo.1"} in fake_graph.sent


def test_a_user_without_a_role_sees_no_sandbox(client, demo):
    """Like the API: signed in but no role (viewer, editor, admin) is a 403, on the page, its JSON and its
    writes (the websocket refuses them too: test_sandbox_socket)."""
    contact = demo.contacts.first()
    assert client.get("/sandbox/").status_code == 302  # anonymous: to the sign-in page
    client.force_login(make_user("nobody", role=None))
    page = client.get("/sandbox/")
    assert page.status_code == 403 and contact.phone not in page.content.decode()
    chat = client.get("/sandbox/api/messages/", {"contact": contact.pk})
    assert chat.status_code == 403 and contact.phone not in chat.content.decode()
    assert client.post("/sandbox/api/send/", json.dumps({"contact": contact.pk, "text": "oi"}),
                       content_type="application/json").status_code == 403
    assert client.post("/sandbox/api/contacts/", json.dumps({"phone": "+5511988887777"}),
                       content_type="application/json").status_code == 403
    client.force_login(make_user("vi", role="viewer"))
    assert client.get("/sandbox/").status_code == 200


def test_viewers_can_watch_but_not_play(client, demo):
    client.force_login(make_user("vi", role="viewer"))
    contact = demo.contacts.first()
    assert client.get("/sandbox/api/messages/", {"contact": contact.pk}).status_code == 200
    assert client.post("/sandbox/api/send/", json.dumps({"contact": contact.pk, "text": "oi"}),
                       content_type="application/json").status_code == 403
    assert not WebhookDelivery.objects.exists()
