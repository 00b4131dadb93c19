"""Template sync with paging against the fake Graph API, and the messaging REST API."""

from __future__ import annotations

import pytest

from messaging.models import Channel, MessageTemplate, WhatsAppCloudChannel
from messaging.services import templates_sync, templates_sync_all
from tests.factories import make_contact, make_template, make_user

pytestmark = pytest.mark.django_db


def graph_template(i: int, *, status="APPROVED", category="UTILITY", language="pt_BR"):
    return {"id": str(1000 + i), "name": f"tpl_{i:03d}", "language": language, "status": status,
            "category": category, "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Aviso"},
                {"type": "BODY", "text": "Olá {{1}}, pedido {{2}} " + ("e {{3}}" if i % 2 else ""),
                 "example": {"body_text": [["Ana", "1", "x"]]}},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Ok"}]}]}


def test_sync_follows_every_page(cloud_channel, fake_graph):
    fake_graph.templates = [graph_template(i) for i in range(230)]
    fake_graph.templates.append(graph_template(999, status="REJECTED", category="MARKETING", language="en_US"))
    counts = templates_sync(channel=cloud_channel)
    assert counts == {"created": 231, "updated": 0, "disabled": 0}
    pages = [r for r in fake_graph.requests if r.path.endswith("/message_templates")]
    assert len(pages) == 3 and all(r.headers["Authorization"] == f"Bearer {fake_graph.token}" for r in pages)
    assert pages[1].query["after"] == ["100"]
    template = MessageTemplate.objects.get(channel=cloud_channel, name="tpl_001", language="pt_BR")
    assert (template.status, template.category, template.parameter_count, template.provider_template_id) == \
        ("APPROVED", "UTILITY", 3, "1001")
    assert MessageTemplate.objects.get(name="tpl_002").parameter_count == 2
    assert template.body_text.startswith("Olá {{1}}") and template.components[2]["type"] == "BUTTONS"
    rejected = MessageTemplate.objects.get(name="tpl_999")
    assert (rejected.status, rejected.category, rejected.language) == ("REJECTED", "MARKETING", "en_US")


def test_sync_again_updates_by_name_and_language_and_disables_the_gone(cloud_channel, fake_graph):
    fake_graph.templates = [graph_template(i) for i in range(3)]
    templates_sync(channel=cloud_channel)
    fake_graph.templates = [graph_template(0, status="PAUSED"), graph_template(1)]
    assert templates_sync(channel=cloud_channel) == {"created": 0, "updated": 2, "disabled": 1}
    assert MessageTemplate.objects.get(name="tpl_000").status == "PAUSED"
    assert MessageTemplate.objects.get(name="tpl_002").status == "DISABLED"
    assert MessageTemplate.objects.count() == 3


def test_periodic_sync_takes_a_lock_and_pauses_on_bad_token(cloud_channel, fake_graph):
    fake_graph.templates = [graph_template(1)]
    assert templates_sync_all() == {"channels": 1, "errors": 0}
    assert templates_sync_all() == {}  # another scheduler holds the lock
    from django.core.cache import cache

    cache.delete("fluxo:lock:templates-sync")
    fake_graph.fail(190)
    assert templates_sync_all() == {"channels": 0, "errors": 1}
    assert Channel.objects.get(pk=cloud_channel.pk).is_paused


def test_admin_action_syncs(admin_client, cloud_channel, fake_graph):
    fake_graph.templates = [graph_template(i) for i in range(2)]
    response = admin_client.post("/admin/messaging/channel/", {"action": "sync_templates",
                                                               "_selected_action": [cloud_channel.pk]})
    assert response.status_code == 302
    assert MessageTemplate.objects.filter(channel=cloud_channel).count() == 2


# --- API --------------------------------------------------------------------------------------


@pytest.fixture
def admin_api(db):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(make_user("root", role="admin"))
    return client


CLOUD = {"kind": "whatsapp_cloud", "name": "Loja", "phone_number_id": "111222333", "waba_id": "444",
         "display_phone_number": "+55 11 4000-0000", "access_token": "EAAG-very-secret-token-xyz",
         "app_secret": "app-secret-abcdef-123", "verify_token": "verify-123",
         "graph_api_base_url": "http://127.0.0.1:9/"}


def test_admin_creates_a_cloud_channel_and_secrets_never_come_back(admin_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_api.post("/api/channels/", CLOUD, format="json")
    assert response.status_code == 201, response.content
    assert len(callbacks) == 1  # its templates are synced right away
    body = response.content.decode()
    for secret in ("EAAG-very-secret-token-xyz", "app-secret-abcdef-123", "verify-123"):
        assert secret not in body
    data = response.json()
    assert data["kind"] == "whatsapp_cloud" and data["access_token_set"] and data["app_secret_set"]
    assert data["access_token_masked"].endswith("-xyz")
    channel = WhatsAppCloudChannel.objects.get()
    assert channel.access_token == CLOUD["access_token"] and channel.graph_api_base_url == "http://127.0.0.1:9/"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, app_secret FROM messaging_whatsappcloudchannel")
        stored = cursor.fetchone()
    assert all(value.startswith("fernet:") and "secret" not in value for value in stored)  # encrypted at rest
    listing = admin_api.get("/api/channels/").content.decode()
    assert "EAAG-very-secret-token-xyz" not in listing and "Loja" in listing
    detail = admin_api.get(f"/api/channels/{channel.pk}/").json()
    assert detail["phone_number_id"] == "111222333"


def test_sandbox_channel_and_validation(admin_api):
    assert admin_api.post("/api/channels/", {"kind": "sandbox", "name": "Teste"}, format="json").status_code == 201
    response = admin_api.post("/api/channels/", {"kind": "whatsapp_cloud", "name": "X"}, format="json")
    assert response.status_code == 400 and "phone_number_id" in response.json()["error"]["details"]
    assert admin_api.post("/api/channels/", {"kind": "telegram", "name": "X"}, format="json").status_code == 400
    admin_api.post("/api/channels/", CLOUD, format="json")
    assert admin_api.post("/api/channels/", CLOUD, format="json").status_code == 400  # same phone number id


def test_editors_cannot_create_channels(api):
    assert api.post("/api/channels/", CLOUD, format="json").status_code == 403
    assert api.get("/api/channels/").status_code == 403  # only admins see channels


def test_anonymous_gets_nothing(client, db):
    assert client.get("/api/channels/").status_code in (401, 403)
    assert client.get("/api/templates/").status_code in (401, 403)


def test_template_picker(api, channel):
    make_template("lembrete", body="Olá {{1}}, em {{2}}")
    make_template("rascunho", status="PENDING")
    make_template("promo", category="MARKETING", channel=channel)
    data = api.get("/api/templates/", {"status": "APPROVED"}).json()
    assert [t["name"] for t in data] == ["lembrete", "promo"]
    first = data[0]
    assert set(first) >= {"id", "name", "language", "category", "status", "parameter_count", "body_text",
                          "components"}
    assert first["parameter_count"] == 2 and first["body_text"] == "Olá {{1}}, em {{2}}"


def test_contacts_and_messages(api, channel):
    contact = make_contact(channel=channel, name="Maria Silva")
    other = make_contact(channel=channel, name="João")
    from messaging.models import Message

    Message.objects.create(direction="in", kind="text", content={}, contact=contact, channel=channel, status="received")
    Message.objects.create(direction="in", kind="text", content={}, contact=other, channel=channel, status="received")
    contacts = api.get("/api/contacts/", {"q": "maria"}).json()
    assert [c["id"] for c in contacts] == [contact.pk] and contacts[0]["in_service_window"] is True
    assert api.get(f"/api/contacts/{contact.pk}/").json()["phone"] == contact.phone
    messages = api.get("/api/messages/", {"contact": contact.pk}).json()
    assert [m["contact"] for m in messages] == [contact.pk]
    junk = api.get("/api/messages/", {"contact": "abc"})  # a filter that is not an id: 400, not an empty list
    assert junk.status_code == 400 and "contact" in junk.json()["error"]["details"]


def test_admin_secrets_are_write_only(admin_client, cloud_channel):
    url = f"/admin/messaging/whatsappcloudchannel/{cloud_channel.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert cloud_channel.access_token not in page and cloud_channel.app_secret not in page
    assert "••••" in page  # masked status of the stored secrets
    form = {"name": "Loja 2", "is_active": "on", "phone_number_id": cloud_channel.phone_number_id,
            "waba_id": cloud_channel.waba_id, "display_phone_number": "", "access_token": "", "app_secret": "",
            "verify_token": "v", "graph_api_base_url": cloud_channel.graph_api_base_url,
            "graph_api_version": "v23.0", "messages_per_second": "80",
            "alerts-TOTAL_FORMS": "0", "alerts-INITIAL_FORMS": "0", "alerts-MIN_NUM_FORMS": "0",
            "alerts-MAX_NUM_FORMS": "1000"}
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    channel = WhatsAppCloudChannel.objects.get(pk=cloud_channel.pk)
    assert channel.name == "Loja 2" and channel.access_token == cloud_channel.access_token  # blank kept it
    admin_client.post(url, {**form, "access_token": "EAAG-rotated-token-999"})
    assert WhatsAppCloudChannel.objects.get(pk=cloud_channel.pk).access_token == "EAAG-rotated-token-999"
