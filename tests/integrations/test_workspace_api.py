"""The workspace's integrations and people API: key calls and revoke, holidays for teams, team
members, knowledge import, users with roles."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

from integrations.models import Assistant, KnowledgeEntry, Team
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def client_for(role: str, name: str | None = None) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user(name or role, role=role))
    return client


def test_a_key_shows_its_last_calls_and_can_be_revoked_and_rotated(channel):
    admin = client_for("admin")
    created = admin.post("/api/api-integrations/", {"name": "PABX"}, format="json").json()
    key = created["api_key"]
    outside = APIClient()
    accepted = outside.post("/api/events/", {"event": "call.finished", "contact": {"phone": "+5511987654321"},
                                             "data": {"call_result": "no_answer"}},
                            format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert accepted.status_code == 202
    calls = admin.get(f"/api/api-integrations/{created['id']}/calls/").json()
    assert calls["calls"][0]["event"] == "call.finished" and calls["calls"][0]["contact"] == "+5511987654321"
    assert calls["integration"]["last_used_at"]

    assert client_for("editor").get(f"/api/api-integrations/{created['id']}/calls/").status_code == 403
    revoked = admin.post(f"/api/api-integrations/{created['id']}/revoke/").json()
    assert revoked["is_active"] is False
    again = outside.post("/api/events/", {"event": "x", "contact": {"phone": "+5511987654321"}}, format="json",
                         HTTP_AUTHORIZATION=f"Bearer {key}")
    assert again.status_code in (401, 403)
    rotated = admin.post(f"/api/api-integrations/{created['id']}/rotate-key/").json()
    assert rotated["is_active"] is True and rotated["api_key"] != key
    assert outside.post("/api/events/", {"event": "x", "contact": {"phone": "+5511987654321"}}, format="json",
                        HTTP_AUTHORIZATION=f"Bearer {rotated['api_key']}").status_code == 202


def test_brazilian_national_and_state_holidays_in_both_languages():
    viewer = client_for("viewer")
    sp = viewer.get("/api/holidays/?country=BR&subdivision=SP&year=2026").json()
    names = {day["date"]: day["name"] for day in sp["holidays"]}
    assert names["2026-04-21"] == "Tiradentes" and names["2026-07-09"] == "Revolução Constitucionalista"
    assert "SP" in sp["subdivisions"] and "RJ" in sp["subdivisions"]
    national = {d["date"] for d in viewer.get("/api/holidays/?country=BR&year=2026").json()["holidays"]}
    assert "2026-07-09" not in national and "2026-12-25" in national
    english = viewer.get("/api/holidays/?country=BR&year=2026", HTTP_X_FLUXO_LANGUAGE="en").json()
    assert {d["date"]: d["name"] for d in english["holidays"]}["2026-12-25"] == "Christmas Day"
    assert viewer.get("/api/holidays/?country=BR&subdivision=XX").status_code == 400
    assert viewer.get("/api/holidays/?country=ZZ").status_code == 400


def test_a_team_with_a_state_calendar_is_closed_on_its_holidays():
    admin = client_for("admin")
    member = make_user("atendente", role="viewer", first_name="Ana")
    response = admin.post("/api/teams/", {
        "name": "Suporte SP", "timezone": "America/Sao_Paulo", "business_hours": {"thu": [["09:00", "18:00"]]},
        "holiday_country": "BR", "holiday_subdivision": "sp", "members": [member.pk], "holidays": ["2026-12-24"],
    }, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["member_names"] == ["Ana"] and response.json()["holiday_subdivision"] == "SP"
    team = Team.objects.get(name="Suporte SP")
    tz = ZoneInfo("America/Sao_Paulo")
    assert team.is_open(datetime(2026, 7, 2, 10, tzinfo=tz))  # an ordinary Thursday
    assert not team.is_open(datetime(2026, 7, 9, 10, tzinfo=tz))  # Revolução Constitucionalista (SP only)
    assert "2026-12-24" in team.all_holidays([2026]) and "2026-12-25" in team.all_holidays([2026])
    bad = admin.post("/api/teams/", {"name": "X", "holiday_country": "BR", "holiday_subdivision": "ZZ"}, format="json")
    assert bad.status_code == 400 and "holiday_subdivision" in bad.json()["error"]["details"]
    assert client_for("viewer", "v2").get("/api/teams/people/").json()[0]["username"]


def test_knowledge_entries_edit_and_import_from_csv():
    editor = client_for("editor")
    assistant = Assistant.objects.create(name="FAQ")
    entry = editor.post(f"/api/assistants/{assistant.pk}/knowledge/",
                        {"question": "Prazo?", "answer": "5 dias"}, format="json").json()
    assert editor.patch(f"/api/knowledge-entries/{entry['id']}/", {"answer": "3 dias úteis"},
                        format="json").json()["answer"] == "3 dias úteis"
    csv_text = "pergunta;resposta;palavras_chave\nQual o horário?;Das 9h às 18h;horario,abre\nTem frete grátis?;Acima de R$ 200;frete\n"
    imported = editor.post(f"/api/assistants/{assistant.pk}/knowledge/import/", {"content": csv_text}, format="json")
    assert imported.status_code == 201 and imported.json() == {"created": 2}
    assert KnowledgeEntry.objects.filter(assistant=assistant).count() == 3
    broken = editor.post(f"/api/assistants/{assistant.pk}/knowledge/import/",
                         {"content": "pergunta;resposta\nSó pergunta;\n"}, format="json")
    assert broken.status_code == 400 and "line 2" in str(broken.json())
    assert KnowledgeEntry.objects.filter(assistant=assistant).count() == 3
    answer = editor.post(f"/api/assistants/{assistant.pk}/ask/", {"text": "qual o horário de atendimento?"},
                         format="json").json()
    assert "9h" in answer["text"] and answer["confidence"] > 0.5
    assert client_for("viewer").delete(f"/api/knowledge-entries/{entry['id']}/").status_code == 403
    assert editor.delete(f"/api/knowledge-entries/{entry['id']}/").status_code == 204


def test_admins_create_and_invite_users_with_roles():
    admin_user = make_user("root", role="admin")
    admin = APIClient()
    admin.force_authenticate(admin_user)
    created = admin.post("/api/users/", {"username": "bia", "first_name": "Bia", "role": "editor",
                                         "password": "s3nha-forte-456"}, format="json")
    assert created.status_code == 201 and created.json()["role"] == "editor"
    assert APIClient().post("/api/auth/login/", {"username": "bia", "password": "s3nha-forte-456"},
                            format="json").json()["user"]["roles"] == ["editor", "viewer"]
    weak = admin.post("/api/users/", {"username": "c", "role": "viewer", "password": "123"}, format="json")
    assert weak.status_code == 400 and "password" in weak.json()["error"]["details"]

    with pytest.MonkeyPatch.context():
        from django.test.utils import override_settings

        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            from django.test import TestCase

            with TestCase.captureOnCommitCallbacks(execute=True):
                invited = admin.post("/api/users/", {"username": "caio", "email": "caio@example.com",
                                                     "role": "viewer", "invite": True}, format="json").json()
            assert invited["has_password"] is False and "/accounts/reset/" in invited["invite_link"]
            assert mail.outbox and invited["invite_link"] in mail.outbox[0].body
    page = APIClient().get(invited["invite_link"].replace("http://testserver", ""), follow=True)
    assert page.status_code == 200 and b"password" in page.content.lower()

    bia = get_user_model().objects.get(username="bia")
    assert admin.patch(f"/api/users/{bia.pk}/", {"role": "admin"}, format="json").json()["role"] == "admin"
    own = admin.patch(f"/api/users/{admin_user.pk}/", {"role": "viewer"}, format="json")
    assert own.status_code == 400
    assert client_for("editor").get("/api/users/").status_code == 403
