"""``POST /api/events/``: API key per integration, Idempotency-Key, contact by phone, and the payload
as ``{{trigger.*}}`` of the flow whose trigger is the external event (the shop's order confirmation)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from flows.models import FlowRun, InboundEvent
from flows.services import contact_events_process
from integrations.events.services import api_integration_create
from messaging.models import Contact
from tests.factories import chain, make_flow, make_template, node


@pytest.fixture
def shop(db):
    integration, key = api_integration_create(name="Loja virtual")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return integration, key, client


ORDER = {"event": "order.created", "contact": {"phone": "(11) 98765-4321", "name": "Joana Lima"},
         "data": {"order_id": "A-1001", "total": 259.9, "items": [{"sku": "CAM-01", "qty": 1}]}}


def test_event_is_accepted_and_starts_the_confirmation_flow(shop, channel):
    _integration, _key, client = shop
    make_template("pedido_confirmado", body="Olá {{1}}, seu pedido {{2}} foi confirmado!")
    make_flow(chain(
        node("t", "trigger", event="external", event_name="order.created"),
        node("confirm", "send_template", template="pedido_confirmado", language="pt_BR",
             parameters={"body": ["{{contact.first_name}}", "{{trigger.order_id}}"]}),
    ), name="Confirmação de pedido")
    response = client.post("/api/events/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="order-A-1001")
    assert response.status_code == 202, response.json()
    event = InboundEvent.objects.get(pk=response.json()["id"])
    assert response.json() == {"id": event.pk, "status": "accepted", "duplicate": False}
    assert event.kind == "external" and event.dedupe_key == f"api:{shop[0].pk}:order-A-1001"
    assert event.payload == {"event": "order.created", "order_id": "A-1001", "total": 259.9,
                             "items": [{"sku": "CAM-01", "qty": 1}]}
    contact = Contact.objects.get(phone="+5511987654321")
    assert contact.name == "Joana Lima" and event.contact == contact and contact.channel_id == channel.pk

    contact_events_process(contact_id=contact.pk)
    run = FlowRun.objects.get(contact=contact)
    assert run.flow.name == "Confirmação de pedido" and run.context["trigger"]["order_id"] == "A-1001"
    assert run.status == "completed", list(run.steps.values("node_id", "port", "error"))
    message = run.messages.get()
    assert message.kind == "template"
    assert "A-1001" in str(message.content) and "Joana" in str(message.content)


def test_same_idempotency_key_returns_the_same_event(shop):
    client = shop[2]
    first = client.post("/api/events/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("/api/events/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 202 and second.status_code == 200
    assert second.json() == {"id": first.json()["id"], "status": "duplicate", "duplicate": True}
    assert InboundEvent.objects.count() == 1


def test_reusing_an_idempotency_key_for_another_event_is_a_conflict(shop):
    client = shop[2]
    client.post("/api/events/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = {**ORDER, "data": {"order_id": "A-2002"}}
    response = client.post("/api/events/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"


def test_without_idempotency_key_every_call_is_a_new_event(shop):
    client = shop[2]
    assert client.post("/api/events/", ORDER, format="json").status_code == 202
    assert client.post("/api/events/", ORDER, format="json").status_code == 202
    assert InboundEvent.objects.count() == 2


def test_idempotency_keys_are_per_integration(shop):
    _other, other_key = api_integration_create(name="CRM")
    other = APIClient()
    other.credentials(HTTP_X_API_KEY=other_key)
    a = shop[2].post("/api/events/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="same")
    b = other.post("/api/events/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert a.status_code == b.status_code == 202 and a.json()["id"] != b.json()["id"]


@pytest.mark.parametrize("auth", [None, "Bearer flx_deadbeef_wrong", "Bearer nonsense"])
def test_missing_or_wrong_key_is_401(db, auth):
    client = APIClient()
    if auth:
        client.credentials(HTTP_AUTHORIZATION=auth)
    response = client.post("/api/events/", ORDER, format="json")
    assert response.status_code == 401
    assert set(response.json()["error"]) >= {"code", "message", "details"}
    assert InboundEvent.objects.count() == 0


def test_disabled_integration_is_refused(shop):
    integration, _key, client = shop
    integration.is_active = False
    integration.save()
    assert client.post("/api/events/", ORDER, format="json").status_code == 401


def test_a_logged_in_user_session_is_not_an_api_key(db, api):
    assert api.post("/api/events/", ORDER, format="json").status_code in (401, 403)


@pytest.mark.parametrize(("body", "field"), [
    ({**ORDER, "contact": {"phone": "12"}}, "contact.phone"),
    ({**ORDER, "event": "order created!"}, "event"),
    ({**ORDER, "data": {"event": "x"}}, "data"),
    ({"event": "order.created"}, "contact"),
])
def test_invalid_events_answer_the_shared_error_shape(shop, body, field):
    response = shop[2].post("/api/events/", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and field in error["details"]
    assert InboundEvent.objects.count() == 0


def test_api_key_is_stored_hashed(shop):
    integration, key, _client = shop
    integration.refresh_from_db()
    assert key not in integration.key_hash and len(integration.key_hash) == 64
    assert key.startswith(f"flx_{integration.key_prefix}_")


def test_an_integration_can_check_its_event(shop, channel):
    _integration, _key, client = shop
    make_flow(chain(node("t", "trigger", event="external", event_name="order.created"),
                    node("note", "set_variable", assignments=[{"target": "vars.order", "value": "{{trigger.order_id}}"}])),
              name="Pedidos")
    accepted = client.post("/api/events/", ORDER, format="json").json()
    pending = client.get(f"/api/events/{accepted['id']}/")
    assert pending.status_code == 200 and pending.json()["state"] == "pending" and pending.json()["runs"] == []
    contact_events_process(contact_id=InboundEvent.objects.get(pk=accepted["id"]).contact_id)
    done = client.get(f"/api/events/{accepted['id']}/").json()
    assert done["state"] == "done" and done["event"] == "order.created"
    assert [r["flow"] for r in done["runs"]] == ["Pedidos"] and done["runs"][0]["status"] == "completed"
    _other, other_key = api_integration_create(name="Outro sistema")
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {other_key}")
    assert stranger.get(f"/api/events/{accepted['id']}/").status_code == 404  # not its event
