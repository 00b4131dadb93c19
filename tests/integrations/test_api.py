"""The integrations REST API: roles, the shared error shape, and secrets never in answers."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from integrations.models import Credential, WebhookDelivery, WebhookSubscription
from integrations.webhooks.services import webhook_event_fanout
from tests.factories import make_user

SECRET = "tok_live_0123456789abcdefXYZ"


@pytest.fixture
def admin_api(db):
    client = APIClient()
    client.force_authenticate(make_user("root", role="admin"))
    return client


def test_admin_creates_a_credential_and_never_sees_the_secret_again(admin_api):
    created = admin_api.post("/api/credentials/", {"name": "erp-api", "kind": "header", "secret": SECRET,
                                                   "header_name": "X-Api-Key"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["secret_masked"] == "••••fXYZ"
    listed = admin_api.get("/api/credentials/")
    detail = admin_api.get(f"/api/credentials/{created.json()['id']}/")
    for response in (created, listed, detail):
        assert SECRET not in json.dumps(response.json(), ensure_ascii=False)
    assert Credential.objects.get(name="erp-api").secret == SECRET


def test_updating_without_a_secret_keeps_it(admin_api):
    created = admin_api.post("/api/credentials/", {"name": "crm", "kind": "bearer", "secret": SECRET}, format="json")
    response = admin_api.patch(f"/api/credentials/{created.json()['id']}/", {"description": "CRM"}, format="json")
    assert response.status_code == 200
    assert Credential.objects.get(name="crm").secret == SECRET


def test_editors_read_credential_names_but_cannot_write(api):
    Credential.objects.create(name="erp", kind="bearer", secret=SECRET)
    listed = api.get("/api/credentials/")
    assert listed.status_code == 200 and listed.json()[0]["name"] == "erp"
    assert SECRET not in json.dumps(listed.json())
    refused = api.post("/api/credentials/", {"name": "x", "kind": "bearer", "secret": "abcdefgh123"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_credential_needs_a_secret(admin_api):
    response = admin_api.post("/api/credentials/", {"name": "empty", "kind": "bearer"}, format="json")
    assert response.status_code == 400 and "secret" in response.json()["error"]["details"]


def test_webhook_subscription_secret_is_shown_once(admin_api):
    created = admin_api.post("/api/webhooks/subscriptions/", {
        "name": "crm", "url": "https://crm.example.com/hooks", "event_types": ["conversation.closed", "run.failed"],
    }, format="json")
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and WebhookSubscription.objects.get().secret == secret
    detail = admin_api.get(f"/api/webhooks/subscriptions/{created.json()['id']}/")
    assert "secret" not in detail.json() and secret not in json.dumps(admin_api.get("/api/webhooks/subscriptions/").json())


def test_webhook_subscription_rejects_unknown_event_types(admin_api):
    response = admin_api.post("/api/webhooks/subscriptions/", {"name": "x", "url": "https://x.example.com",
                                                               "event_types": ["order.exploded"]}, format="json")
    assert response.status_code == 400 and "event_types" in response.json()["error"]["details"]


def test_webhooks_are_admin_only(api):
    assert api.get("/api/webhooks/subscriptions/").status_code == 403
    assert api.get("/api/webhooks/deliveries/").status_code == 403


def test_delivery_log_and_manual_redelivery(admin_api):
    subscription = WebhookSubscription.objects.create(name="crm", url="https://crm.example.com/h", event_types=["*"],
                                                      secret="whsec_abcdefgh")
    [delivery] = webhook_event_fanout(event_type="run.failed", data={"run_id": 3})
    log = admin_api.get(f"/api/webhooks/deliveries/?subscription={subscription.pk}")
    assert log.status_code == 200 and log.json()[0]["event_type"] == "run.failed"
    again = admin_api.post(f"/api/webhooks/deliveries/{delivery.pk}/redeliver/")
    assert again.status_code == 202
    copy = WebhookDelivery.objects.get(pk=again.json()["id"])
    assert copy.event_id == delivery.event_id and copy.redelivery_of == delivery


def test_api_integration_key_is_shown_once(admin_api):
    created = admin_api.post("/api/api-integrations/", {"name": "Loja"}, format="json")
    assert created.status_code == 201
    key = created.json()["api_key"]
    assert key.startswith("flx_")
    assert key not in json.dumps(admin_api.get("/api/api-integrations/").json())
    events = APIClient()
    events.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    ok = events.post("/api/events/", {"event": "lead.created", "contact": {"phone": "+5511912345678"}}, format="json")
    assert ok.status_code == 202
    rotated = admin_api.post(f"/api/api-integrations/{created.json()['id']}/rotate-key/")
    assert rotated.json()["api_key"] != key
    assert events.post("/api/events/", {"event": "x", "contact": {"phone": "+5511912345678"}},
                       format="json").status_code == 401


def test_assistant_ask_endpoint(api):
    from integrations.demo import seed

    seed()
    assistant = api.get("/api/assistants/").json()[0]
    answer = api.post(f"/api/assistants/{assistant['id']}/ask/", {"text": "quais as formas de pagamento?"}, format="json")
    assert answer.status_code == 200 and "Pix" in answer.json()["text"]
    unsure = api.post(f"/api/assistants/{assistant['id']}/ask/", {"text": "qual a capital da Mongólia"}, format="json")
    assert unsure.status_code == 422 and unsure.json()["error"]["code"] == "ai_low_confidence"


def test_node_types_lists_the_integration_nodes_in_both_languages(api):
    listed = {t["key"]: t for t in api.get("/api/node-types/").json()}
    for key in ("http_request", "route_to_team", "set_conversation_state", "notify"):
        node_type = listed[key]
        assert node_type["label"]["pt-BR"] and node_type["label"]["en"]
        assert node_type["description"]["pt-BR"] and node_type["config_schema"]["type"] == "object"
        assert "failure" in [p["key"] for p in node_type["ports"]]
    assert [p["key"] for p in listed["http_request"]["ports"]] == ["success", "failure"]


def test_openapi_schema_builds(admin_api):
    response = admin_api.get("/api/schema/")
    assert response.status_code == 200 and b"/api/events/" in response.content


@pytest.mark.parametrize(("payload", "field"), [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"business_hours": {"mon": [["18:00", "09:00"]]}}, "business_hours"),
    ({"business_hours": {"funday": [["09:00", "18:00"]]}}, "business_hours"),
    ({"business_hours": {"mon": [["9h", "18h"]]}}, "business_hours"),
    ({"holidays": ["25/12/2026"]}, "holidays"),
])
def test_team_business_hours_are_validated(admin_api, payload, field):
    response = admin_api.post("/api/teams/", {"name": "Suporte", **payload}, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["details"]


def test_team_with_valid_hours(admin_api):
    response = admin_api.post("/api/teams/", {"name": "Suporte", "timezone": "America/Manaus", "holidays": ["2026-12-25"],
                                              "business_hours": {"mon": [["08:00", "12:00"], ["13:00", "17:00"]]}},
                              format="json")
    assert response.status_code == 201, response.json()
