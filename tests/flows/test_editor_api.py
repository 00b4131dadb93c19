"""The API behind the editor's second pass: autosave sessions, revision history with diffs,
publish confirmation, test contacts and localized 4xx answers."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from flows.models import Flow
from tests.factories import chain, make_channel, make_flow, make_user, node

pytestmark = pytest.mark.django_db

T = node("t", "trigger", event="message", match="any")
CALL = node("t", "trigger", event="external", event_name="call.finished")


@pytest.fixture
def ana():
    return make_user("ana", role="editor")


@pytest.fixture
def client(ana):
    api = APIClient()
    api.force_authenticate(ana)
    return api


def _save(client, flow_id, definition, base, saves, session="tab-1", **extra):
    return client.post(f"/api/flows/{flow_id}/revisions/", {"definition": definition, "base_revision": base,
                                                           "base_saves": saves, "session": session, **extra},
                       format="json")


def test_autosaves_coalesce_and_the_history_shows_diffs_and_the_publish_comment(client, ana):
    flow_id = client.post("/api/flows/", {"name": "Pós-ligação"}, format="json").json()["id"]
    first = _save(client, flow_id, chain(T, node("m", "send_message", text="Oi")), 1, None).json()
    second = _save(client, flow_id, chain(T, node("m", "send_message", text="Olá")), first["revision"],
                   first["saves"]).json()
    assert (first["revision"], second["revision"], second["saves"]) == (2, 2, 2)
    # Another tab of the same user is told apart by its session.
    stale = _save(client, flow_id, chain(T), 2, 1, session="tab-2")
    assert stale.status_code == 409
    body = stale.json()["error"]
    assert body["session"] == "tab-1" and body["author_id"] == ana.pk and body["current_saves"] == 2
    published = client.post(f"/api/flows/{flow_id}/publish/", {"revision": 2, "comment": "Primeira versão"},
                            format="json")
    assert published.status_code == 200, published.content
    history = client.get(f"/api/flows/{flow_id}/revisions/").json()
    assert history[0]["revision"] == 2 and history[0]["sealed"] is True
    assert history[0]["publications"][0]["comment"] == "Primeira versão"
    # Revision 1 is the new flow's lone "trigger"; revision 2 has "t" and "m".
    assert history[0]["diff"] == {"added": 2, "removed": 1, "changed": 0, "moved": 0, "connections": 1}
    detail = client.get(f"/api/flows/{flow_id}/revisions/2/?compare=1").json()
    assert detail["compared_with"] == 1 and sorted(a["id"] for a in detail["diff_full"]["added"]) == ["m", "t"]


def test_publish_answers_409_with_warnings_and_conflicts_to_confirm(client):
    other = make_flow(chain(CALL, node("x", "end")), name="Antigo")
    flow_id = client.post("/api/flows/", {"name": "Novo", "definition": chain(
        CALL, node("d", "delay", mode="duration", duration={"value": 25, "unit": "hours"}),
        node("m", "send_message", text="Oi"))}, format="json").json()["id"]
    checked = client.post(f"/api/flows/{flow_id}/validate/",
                          {"definition": Flow.objects.get(pk=flow_id).latest_revision.definition}, format="json").json()
    assert checked["valid"] is True and {w["code"] for w in checked["warnings"]} == {"policy_window_delay",
                                                                                    "policy_same_event"}
    assert checked["conflicts"][0]["flow_id"] == other.pk
    refused = client.post(f"/api/flows/{flow_id}/publish/", {"revision": 1, "comment": "x"}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "confirmation_required"
    assert refused.json()["error"]["conflicts"][0]["flow_name"] == "Antigo"
    done = client.post(f"/api/flows/{flow_id}/publish/", {"revision": 1, "comment": "x", "accept_warnings": True,
                                                          "decisions": {str(other.pk): "allow"}}, format="json")
    assert done.status_code == 200
    other.refresh_from_db()
    assert other.status == Flow.Status.ACTIVE  # "allow": both keep running


def test_test_contacts_are_listed_created_and_chosen_for_a_run(client):
    make_channel()
    created = client.post("/api/test-contacts/", {"name": "Cliente VIP", "attributes": {"plano": "ouro"},
                                                  "opted_in": True}, format="json")
    assert created.status_code == 201
    contact = created.json()
    assert contact["opted_in"] is True and contact["attributes"] == {"plano": "ouro"}
    changed = client.patch(f"/api/test-contacts/{contact['id']}/", {"opted_in": False}, format="json").json()
    assert changed["opted_in"] is False
    assert [c["id"] for c in client.get("/api/test-contacts/").json()] == [contact["id"]]
    flow_id = client.post("/api/flows/", {"name": "F", "definition": chain(T, node("w", "wait_for_reply"))},
                          format="json").json()["id"]
    run = client.post(f"/api/flows/{flow_id}/test-runs/", {"contact_id": contact["id"]}, format="json")
    assert run.status_code == 201 and run.json()["contact"]["id"] == contact["id"]
    bad = client.post("/api/test-contacts/", {"phone": "12"}, format="json")
    assert bad.status_code == 400 and "phone" in bad.json()["error"]["details"]
    assert bad.json()["error"]["messages"]["pt-BR"].startswith("Telefone inválido")


def test_a_too_long_flow_name_is_a_400_in_the_users_language(client):
    response = client.patch(f"/api/flows/{make_flow(chain(T)).pk}/", {"name": "x" * 250}, format="json",
                            HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert response.status_code == 400
    assert "200" in response.json()["error"]["details"]["name"][0]
    assert "caracteres" in response.json()["error"]["details"]["name"][0]
