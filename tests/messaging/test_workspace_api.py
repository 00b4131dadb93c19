"""The workspace's messaging API: connect and check a channel, its health, templates sync,
contacts (search, edit, opt-out by hand, consent history), CSV import and export."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from messaging.contacts import contact_import_run
from messaging.models import ConsentEvent, Contact, ContactImport, Tag, WebhookDelivery, WhatsAppCloudChannel
from messaging.services import channel_pause, contact_consent_set
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


def client_for(role: str, name: str | None = None) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user(name or role, role=role))
    return client


@pytest.fixture
def admin():
    return client_for("admin")


# --- Channels -----------------------------------------------------------------------------------


def test_the_token_check_asks_the_graph_api_about_the_number(admin, fake_graph):
    good = admin.post("/api/channels/check/", {"phone_number_id": fake_graph.phone_number_id,
                                               "access_token": fake_graph.token,
                                               "graph_api_base_url": fake_graph.base_url}, format="json")
    assert good.status_code == 200, good.content
    assert good.json()["ok"] is True
    assert good.json()["info"]["verified_name"] == "Loja Exemplo"
    assert good.json()["info"]["quality_rating"] == "GREEN"
    request = fake_graph.requests[-1]
    assert request.method == "GET" and request.path == f"/v23.0/{fake_graph.phone_number_id}"
    assert "quality_rating" in request.query["fields"][0]

    wrong = admin.post("/api/channels/check/", {"phone_number_id": fake_graph.phone_number_id,
                                                "access_token": "EAAG-wrong", "graph_api_base_url": fake_graph.base_url},
                       format="json").json()
    assert wrong["ok"] is False and wrong["code"] == "190" and "token" in wrong["error"]
    other = admin.post("/api/channels/check/", {"phone_number_id": "999999999", "access_token": fake_graph.token,
                                                "graph_api_base_url": fake_graph.base_url}, format="json").json()
    assert other["ok"] is False and other["code"] == "100"
    assert admin.post("/api/channels/check/", {"phone_number_id": "abc", "access_token": "x"},
                      format="json").status_code == 400


def test_channel_health_shows_the_callback_url_webhooks_quality_and_pause(admin, cloud_channel, fake_graph):
    health = admin.get(f"/api/channels/{cloud_channel.pk}/health/").json()
    assert health["callback_url"] == "http://testserver/webhooks/whatsapp/"
    assert "verify-me-please" not in str(health) and "verify_token" not in health  # write-only
    assert health["verify_token_set"] is True and health["verify_token_masked"].startswith("••••")
    assert fake_graph.token not in str(health) and "meta-app-secret" not in str(health)
    assert health["webhooks"]["count"] == 0 and health["quality_rating"] == ""

    checked = admin.post(f"/api/channels/{cloud_channel.pk}/check/").json()
    assert checked["ok"] and checked["channel"]["quality_rating"] == "GREEN"
    assert checked["channel"]["messaging_limit_tier"] == "TIER_1K" and checked["channel"]["checked_at"]

    WebhookDelivery.objects.create(channel=cloud_channel, body="{}", state="processed")
    channel_pause(channel=cloud_channel, code="190", reason="the access token expired")
    health = admin.get(f"/api/channels/{cloud_channel.pk}/health/").json()
    assert health["webhooks"]["count"] == 1 and health["webhooks"]["last_received_at"]
    assert health["paused"] and "190" in health["pause_reason"] and health["alerts"][0]["code"] == "190"

    resumed = admin.post(f"/api/channels/{cloud_channel.pk}/resume/").json()
    assert resumed["channel"]["paused"] is False and resumed["channel"]["alerts"] == []


def test_settings_keep_secrets_when_left_blank_and_never_show_them(admin, cloud_channel):
    response = admin.patch(f"/api/channels/{cloud_channel.pk}/health/",
                           {"name": "Loja Centro", "access_token": "", "app_secret": "novo-segredo-123"}, format="json")
    assert response.status_code == 200
    channel = WhatsAppCloudChannel.objects.get(pk=cloud_channel.pk)
    assert channel.name == "Loja Centro" and channel.access_token == cloud_channel.access_token
    assert channel.app_secret == "novo-segredo-123" and "novo-segredo-123" not in response.content.decode()


def test_only_admins_see_or_change_channels(cloud_channel):
    editor = client_for("editor")
    for url in ("/api/channels/", f"/api/channels/{cloud_channel.pk}/health/", "/api/channels/connect-info/"):
        assert editor.get(url).status_code == 403, url
    assert editor.post(f"/api/channels/{cloud_channel.pk}/resume/").status_code == 403
    assert editor.post("/api/channels/check/", {}, format="json").status_code == 403


def test_template_sync_now_fetches_from_meta(cloud_channel, fake_graph):
    fake_graph.templates = [{"id": "1", "name": "pedido_enviado", "language": "pt_BR", "status": "APPROVED",
                             "category": "UTILITY", "components": [{"type": "BODY", "text": "Olá {{1}}!"}]}]
    assert client_for("viewer").post("/api/templates/sync/").status_code == 403
    result = client_for("editor").post("/api/templates/sync/").json()
    assert result["channels"] == [{"channel": "Loja", "ok": True, "created": 1, "updated": 0, "disabled": 0}]
    listed = client_for("viewer", "vera").get("/api/templates/").json()
    assert listed[0]["name"] == "pedido_enviado" and listed[0]["synced_at"]


# --- Contacts -----------------------------------------------------------------------------------


def test_contacts_are_searched_by_phone_name_tag_attribute_and_consent(channel):
    ana = make_contact(phone="+5511987650001", name="Ana Souza", channel=channel, attributes={"cidade": "Campinas"})
    bia = make_contact(phone="+5521987650002", name="Bia Lima", channel=channel, attributes={"cidade": "Rio"})
    ana.tags.add(Tag.objects.create(name="vip"))
    contact_consent_set(contact=bia, categories=["marketing"], state="opted_in", source="test")
    viewer = client_for("viewer")

    def phones(query: str) -> list[str]:
        response = viewer.get(f"/api/contacts/?{query}")
        assert response.status_code == 200
        return [c["phone"] for c in response.json()]

    assert phones("q=souza") == [ana.phone]
    assert phones("q=2198765") == [bia.phone]
    assert phones("tag=vip") == [ana.phone]
    assert phones("attribute=cidade=rio") == [bia.phone]
    assert phones("consent=opted_in") == [bia.phone]
    assert phones("consent=unknown") == [ana.phone]
    response = viewer.get("/api/contacts/?limit=1")
    assert len(response.json()) == 1 and response["X-Total-Count"] == "2"


def test_contact_page_edits_and_hand_opt_out_with_history(channel):
    contact = make_contact(phone="+5511987650003", channel=channel)
    editor = client_for("editor", "edu")
    viewer = client_for("viewer")
    assert viewer.patch(f"/api/contacts/{contact.pk}/", {"name": "X"}, format="json").status_code == 403
    response = editor.patch(f"/api/contacts/{contact.pk}/", {"name": "Maria S.", "attributes": {"plano": "ouro"},
                                                             "tags": ["vip", "sp"]}, format="json")
    assert response.status_code == 200
    assert response.json()["tags"] == ["sp", "vip"] and response.json()["attributes"] == {"plano": "ouro"}
    bad = editor.patch(f"/api/contacts/{contact.pk}/", {"attributes": {"com espaço": 1}}, format="json")
    assert bad.status_code == 400 and "attributes" in bad.json()["error"]["details"]

    assert viewer.post(f"/api/contacts/{contact.pk}/opt-out/", {"categories": ["marketing"]},
                       format="json").status_code == 403
    out = editor.post(f"/api/contacts/{contact.pk}/opt-out/", {"categories": ["marketing"],
                                                               "note": "pediu por telefone"}, format="json").json()
    assert out["consent"]["marketing"]["state"] == "opted_out"
    assert out["consent_history"][0]["source"] == "by hand (edu)"
    assert out["consent_history"][0]["actor"] == "edu" and out["consent_history"][0]["note"] == "pediu por telefone"


def test_consent_history_links_the_inbound_message_that_carried_it(channel):
    from messaging.services import message_record_inbound

    contact = make_contact(phone="+5511987650004", channel=channel)
    message, _ = message_record_inbound(contact=contact, channel=channel, kind="text",
                                        content={"type": "text", "text": {"body": "SAIR"}},
                                        provider_message_id="wamid.sair.1")
    contact_consent_set(contact=contact, categories=["marketing", "utility"], state="opted_out",
                        source="keyword SAIR", message_wamid="wamid.sair.1")
    history = client_for("viewer").get(f"/api/contacts/{contact.pk}/").json()["consent_history"]
    assert {h["category"] for h in history} == {"marketing", "utility"}
    assert history[0]["message"]["id"] == message.pk and history[0]["message"]["text"] == "SAIR"
    # No change, no new history row.
    contact_consent_set(contact=contact, categories=["marketing"], state="opted_out", source="keyword PARAR")
    assert ConsentEvent.objects.filter(contact=contact).count() == 2


CSV = """Telefone;Nome;Cidade;Aceita marketing;Tags
(11) 98765-1001;Ana;Campinas;sim;vip,sp
+55 21 98765-1002;Bruno;Rio;não;
12345;Carla;Recife;sim;
11 98765-1004;Davi;Santos;talvez;
(11) 98765-1001;Ana de novo;Campinas;sim;
"""


def _upload(client, content: str = CSV, filename: str = "clientes.csv"):
    return client.post("/api/contacts/imports/", {"content": content, "filename": filename}, format="json")


MAPPING = {"mapping": {"phone": "Telefone", "name": "Nome", "consent": "Aceita marketing", "tags": "Tags",
                       "attributes": ["Cidade"]}, "default_region": "BR"}


def test_import_upload_suggests_a_mapping_and_the_dry_run_reports_bad_rows(channel):
    editor = client_for("editor")
    assert client_for("viewer").post("/api/contacts/imports/", {"content": CSV}, format="json").status_code == 403
    uploaded = _upload(editor).json()
    assert uploaded["columns"] == ["Telefone", "Nome", "Cidade", "Aceita marketing", "Tags"]
    assert uploaded["row_count"] == 5
    assert uploaded["suggested_mapping"]["phone"] == "Telefone" and uploaded["suggested_mapping"]["name"] == "Nome"
    dry = editor.post(f"/api/contacts/imports/{uploaded['id']}/dry-run/", MAPPING, format="json").json()
    assert dry["valid"] == 2 and dry["invalid"] == 3 and dry["create"] == 2
    reasons = {row["line"]: row["code"] for row in dry["bad_rows"]}
    assert reasons == {4: "phone_invalid", 5: "consent_unreadable", 6: "duplicate"}
    assert Contact.objects.count() == 0  # a dry run writes nothing

    # Bad rows refuse the run unless the person chooses to skip them.
    refused = editor.post(f"/api/contacts/imports/{uploaded['id']}/run/", MAPPING, format="json")
    assert refused.status_code == 400 and "3 linha(s)" in refused.json()["error"]["details"]["file"][0]
    missing = editor.post(f"/api/contacts/imports/{uploaded['id']}/dry-run/",
                          {"mapping": {"phone": "Celular"}}, format="json")
    assert missing.status_code == 400 and "Celular" in str(missing.json())


def test_import_runs_in_one_transaction_with_consent_history(channel, django_capture_on_commit_callbacks):
    editor = client_for("editor", "edna")
    uploaded = _upload(editor).json()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = editor.post(f"/api/contacts/imports/{uploaded['id']}/run/", {**MAPPING, "skip_invalid": True},
                             format="json")
    assert queued.status_code == 202 and queued.json()["status"] == "queued" and len(callbacks) == 1
    done = contact_import_run(import_id=uploaded["id"])
    assert (done.status, done.created, done.skipped) == ("done", 2, 3)
    ana = Contact.objects.get(phone="+5511987651001")
    assert ana.name == "Ana" and ana.attributes == {"cidade": "Campinas"}
    assert sorted(ana.tags.values_list("name", flat=True)) == ["sp", "vip"]
    assert ana.consent_state("marketing") == "opted_in"
    assert Contact.objects.get(phone="+5521987651002").consent_state("marketing") == "opted_out"
    event = ConsentEvent.objects.get(contact=ana)
    assert event.contact_import_id == done.pk and event.actor.username == "edna" and event.note == "line 2"
    state = editor.get(f"/api/contacts/imports/{done.pk}/").json()
    assert state["progress"] == {"processed": 5, "total": 5} and state["status"] == "done"
    again = editor.post(f"/api/contacts/imports/{done.pk}/run/", {**MAPPING, "skip_invalid": True}, format="json")
    assert again.status_code == 400


def test_a_failing_import_leaves_nothing_behind(channel, monkeypatch):
    editor = client_for("editor")
    rows = "telefone;nome\n" + "".join(f"11 9{index:04d}-{index:04d};Cliente {index}\n" for index in range(1200))
    uploaded = _upload(editor, rows).json()
    mapping = {"mapping": {"phone": "telefone", "name": "nome"}}
    assert editor.post(f"/api/contacts/imports/{uploaded['id']}/run/", mapping, format="json").status_code == 202
    original = Contact.objects.bulk_create
    chunks = []

    def bulk_create(objs, *args, **kwargs):
        chunks.append(len(objs))
        if len(chunks) == 3:  # two chunks of 500 are written, the third breaks
            raise RuntimeError("disk full")
        return original(objs, *args, **kwargs)

    monkeypatch.setattr(Contact.objects, "bulk_create", bulk_create)
    with pytest.raises(RuntimeError):
        contact_import_run(import_id=uploaded["id"])
    failed = ContactImport.objects.get(pk=uploaded["id"])
    assert chunks == [500, 500, 200]
    assert failed.status == "failed" and "disk full" in failed.error
    assert Contact.objects.count() == 0  # the first two chunks were rolled back with the third


def test_import_of_ten_thousand_rows_reports_progress(channel):
    from django.core.cache import cache

    from messaging.contacts import progress_key

    editor = client_for("editor")
    rows = "phone,name\n" + "".join(f"+55 11 9{index:04d}-{index % 10000:04d},C{index}\n" for index in range(10_000))
    uploaded = _upload(editor, rows, "grande.csv").json()
    assert uploaded["row_count"] == 10_000
    mapping = {"mapping": {"phone": "phone", "name": "name"}}
    assert editor.post(f"/api/contacts/imports/{uploaded['id']}/dry-run/", mapping, format="json").json()["valid"] \
        == 10_000
    editor.post(f"/api/contacts/imports/{uploaded['id']}/run/", mapping, format="json")
    seen = []
    original = cache.set

    def spy(key, value, *args, **kwargs):
        if key == progress_key(uploaded["id"]):
            seen.append(value)
        return original(key, value, *args, **kwargs)

    cache.set = spy
    try:
        contact_import_run(import_id=uploaded["id"])
    finally:
        cache.set = original
    assert Contact.objects.count() == 10_000
    assert seen[:3] == [500, 1000, 1500] and seen[-1] == 10_000 and len(seen) >= 20


def test_export_writes_the_filtered_contacts_as_csv(channel):
    ana = make_contact(phone="+5511987650011", name="=HYPERLINK(\"x\")", channel=channel,
                       attributes={"cidade": "Campinas"})
    ana.tags.add(Tag.objects.create(name="vip"))
    make_contact(phone="+5511987650012", name="Bia", channel=channel)
    response = client_for("viewer").get("/api/contacts/export/?tag=vip")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["phone", "name", "tags"] and rows[0][-1] == "cidade"
    assert len(rows) == 2 and rows[1][0] == ana.phone and rows[1][1].startswith("'=") and rows[1][-1] == "Campinas"
