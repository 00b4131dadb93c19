"""The flows REST API through DRF's APIClient: auth, roles, flows, revisions, publishing, test runs, session."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from flows.models import Flow, FlowRun, UserPreference
from flows.nodes import registry
from flows.services import contact_events_process
from tests.factories import chain, definition, edge, make_flow, make_template, make_user, node

T = node("t", "trigger", event="message", match="any")


def _valid_definition(text="Olá {{contact.first_name}}"):
    return chain(T, node("m", "send_message", text=text))


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "details"} <= set(body["error"])
    return body["error"]


@pytest.fixture
def flow(api):
    response = api.post("/api/flows/", {"name": "Boas-vindas", "description": "Primeiro contato"}, format="json")
    assert response.status_code == 201, response.content
    return Flow.objects.get(pk=response.json()["id"])


# --- Auth and roles -----------------------------------------------------------------------------------


def test_login_is_required(db):
    response = APIClient().get("/api/flows/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert "WWW-Authenticate" in response.headers
    assert APIClient().get("/api/node-types/").status_code == 401
    assert APIClient().post("/api/flows/", {"name": "x"}, format="json").status_code == 401


def test_a_user_without_a_role_is_refused(db):
    nobody = client_for(make_user("nobody", role=None))
    response = nobody.get("/api/flows/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "permission_denied"
    assert error["message"] == "Your role does not allow this action."
    # pt-BR is the default language when the caller names none.
    assert error_of(nobody.get("/api/flows/"))["message"] == "Seu papel não permite esta ação."


def test_a_viewer_reads_but_does_not_write(flow):
    viewer = client_for(make_user("vera", role="viewer"))
    assert viewer.get("/api/flows/").status_code == 200
    assert viewer.get(f"/api/flows/{flow.pk}/").status_code == 200
    assert viewer.get(f"/api/flows/{flow.pk}/revisions/").status_code == 200
    assert viewer.get("/api/node-types/").status_code == 200
    for response in [
        viewer.post("/api/flows/", {"name": "x"}, format="json"),
        viewer.patch(f"/api/flows/{flow.pk}/", {"name": "y"}, format="json"),
        viewer.post(f"/api/flows/{flow.pk}/revisions/", {"definition": _valid_definition(), "base_revision": 1},
                    format="json"),
        viewer.post(f"/api/flows/{flow.pk}/publish/", {"revision": 1}, format="json"),
        viewer.post(f"/api/flows/{flow.pk}/archive/"),
    ]:
        assert response.status_code == 403
        assert error_of(response)["code"] == "permission_denied"
    flow.refresh_from_db()
    assert flow.name == "Boas-vindas" and flow.status == Flow.Status.DRAFT


def test_an_editor_and_an_admin_write(db):
    assert client_for(make_user("edu", role="editor")).post("/api/flows/", {"name": "a"}, format="json").status_code == 201
    assert client_for(make_user("adm", role="admin")).post("/api/flows/", {"name": "b"}, format="json").status_code == 201
    superuser = make_user("root", role=None, is_superuser=True, is_staff=True)
    assert client_for(superuser).post("/api/flows/", {"name": "c"}, format="json").status_code == 201


def test_token_authentication(db):
    from rest_framework.authtoken.models import Token

    user = make_user("bot", role="viewer")
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/flows/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert client.get("/api/flows/").status_code == 401


# --- Node types ---------------------------------------------------------------------------------------


def test_node_types_lists_every_registered_type(api):
    response = api.get("/api/node-types/")
    assert response.status_code == 200
    types = response.json()
    assert sorted(t["key"] for t in types) == sorted(t.key for t in registry.all_types())
    assert {"trigger", "delay", "branch", "send_template", "send_message", "wait_for_reply", "ai_reply",
            "set_variable", "end", "subflow"} <= {t["key"] for t in types}
    for item in types:
        assert item["label"]["pt-BR"] and item["label"]["en"], item["key"]
        assert set(item["description"]) == {"pt-BR", "en"}
        assert item["config_schema"]["type"] == "object"
        assert item["category"] and item["icon"]
        for port in item["ports"]:
            assert port["key"] and port["label"]["pt-BR"] and port["label"]["en"]
    by_key = {t["key"]: t for t in types}
    assert by_key["trigger"]["label"] == {"pt-BR": "Gatilho", "en": "Trigger"}
    assert by_key["trigger"]["is_trigger"] is True
    assert by_key["wait_for_reply"]["can_pause"] is True
    assert [p["key"] for p in by_key["wait_for_reply"]["ports"]] == ["reply", "timeout"]
    assert by_key["branch"]["dynamic_ports"]["from"] == "conditions"


# --- Flows ------------------------------------------------------------------------------------------------


def test_create_flow_with_the_default_definition(api, editor):
    response = api.post("/api/flows/", {"name": "Novo"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Novo" and body["status"] == "draft" and body["published_revision"] is None
    assert body["latest_revision"] == 1
    assert body["draft"]["revision"] == 1 and body["draft"]["author"] == editor.username
    assert body["draft"]["definition"]["nodes"][0]["type"] == "trigger"
    assert body["run_counts"] == {"active": 0, "waiting": 0, "completed": 0, "failed": 0, "total": 0}


def test_create_flow_with_a_definition(api):
    response = api.post("/api/flows/", {"name": "Com def", "definition": _valid_definition()}, format="json")
    assert response.status_code == 201
    assert response.json()["draft"]["definition"]["nodes"][1]["id"] == "m"


def test_create_flow_with_a_broken_definition(api):
    response = api.post("/api/flows/", {"name": "Ruim", "definition": {"spec_version": 1, "nodes": "x", "edges": []}},
                        format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_definition" and "nodes" in error["message"]
    assert not Flow.objects.filter(name="Ruim").exists()


def test_create_flow_needs_a_name(api):
    response = api.post("/api/flows/", {"description": "sem nome"}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error" and "name" in error["details"]


def test_list_search_and_retrieve(api, flow):
    make_flow(_valid_definition(), name="Lembrete de consulta")
    names = [f["name"] for f in api.get("/api/flows/").json()]
    assert names == ["Boas-vindas", "Lembrete de consulta"]
    assert [f["name"] for f in api.get("/api/flows/?search=lembrete").json()] == ["Lembrete de consulta"]
    assert [f["name"] for f in api.get("/api/flows/?search=primeiro").json()] == ["Boas-vindas"]
    detail = api.get(f"/api/flows/{flow.pk}/").json()
    assert detail["id"] == flow.pk and detail["description"] == "Primeiro contato"
    missing = api.get("/api/flows/999999/")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


def test_run_counts_in_the_list(api, contact):
    published = make_flow(chain(T, node("w", "wait_for_reply")), name="Contado")
    from tests.flows.helpers import inbound

    inbound(contact, "oi")
    row = next(f for f in api.get("/api/flows/").json() if f["id"] == published.pk)
    assert row["run_counts"]["waiting"] == 1 and row["run_counts"]["total"] == 1


def test_partial_update(api, flow):
    response = api.patch(f"/api/flows/{flow.pk}/", {"name": "Renomeado", "status": "active"}, format="json")
    assert response.status_code == 200
    flow.refresh_from_db()
    assert flow.name == "Renomeado"
    assert flow.status == Flow.Status.DRAFT  # status is read-only here: publish sets it


def test_archive_and_unarchive(api, flow):
    response = api.post(f"/api/flows/{flow.pk}/archive/")
    assert response.status_code == 200 and response.json()["status"] == "archived"
    assert flow.pk not in [f["id"] for f in api.get("/api/flows/").json()]
    assert flow.pk in [f["id"] for f in api.get("/api/flows/?status=archived").json()]
    response = api.post(f"/api/flows/{flow.pk}/unarchive/")
    assert response.json()["status"] == "draft"  # never published: back to draft, not active

    api.post(f"/api/flows/{flow.pk}/revisions/", {"definition": _valid_definition(), "base_revision": 1},
             format="json")
    api.post(f"/api/flows/{flow.pk}/publish/", {"revision": 2}, format="json")
    api.post(f"/api/flows/{flow.pk}/archive/")
    assert api.post(f"/api/flows/{flow.pk}/unarchive/").json()["status"] == "active"


def test_duplicate(api, flow):
    api.post(f"/api/flows/{flow.pk}/revisions/", {"definition": _valid_definition("cópia fiel"), "base_revision": 1},
             format="json")
    response = api.post(f"/api/flows/{flow.pk}/duplicate/")
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != flow.pk and body["name"] == "Boas-vindas (cópia)" and body["status"] == "draft"
    assert body["latest_revision"] == 1
    assert body["draft"]["definition"]["nodes"][1]["config"]["text"] == "cópia fiel"


# --- Revisions --------------------------------------------------------------------------------------------


def test_save_revisions_and_refuse_a_stale_one(api, flow, editor):
    url = f"/api/flows/{flow.pk}/revisions/"
    response = api.post(url, {"definition": _valid_definition("v2"), "base_revision": 1, "comment": "texto"},
                        format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["revision"] == 2 and body["comment"] == "texto" and body["author"] == editor.username
    assert body["definition"]["nodes"][1]["config"]["text"] == "v2"

    other = client_for(make_user("bia", role="editor"))
    stale = other.post(url, {"definition": _valid_definition("v2 da bia"), "base_revision": 1}, format="json")
    assert stale.status_code == 409
    error = error_of(stale)
    assert error["code"] == "stale_revision"
    assert error["current_revision"] == 2 and error["author"] == editor.username and error["saved_at"]
    assert flow.revisions.count() == 2  # nothing overwritten

    listing = api.get(url).json()
    assert [r["revision"] for r in listing] == [2, 1]
    assert "definition" not in listing[0]
    detail = api.get(f"{url}1/").json()
    assert detail["revision"] == 1 and detail["definition"]["nodes"][0]["id"] == "trigger"
    assert api.get(f"{url}9/").status_code == 404


def test_save_a_revision_with_a_broken_definition(api, flow):
    response = api.post(f"/api/flows/{flow.pk}/revisions/", {"definition": {"spec_version": 1, "edges": []},
                                                              "base_revision": 1}, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_definition"


def test_a_draft_may_be_semantically_incomplete(api, flow):
    incomplete = chain(T, node("m", "send_message", text="{{vars.nope}}"))
    response = api.post(f"/api/flows/{flow.pk}/revisions/", {"definition": incomplete, "base_revision": 1},
                        format="json")
    assert response.status_code == 201


def test_save_migrates_a_v0_definition(api, flow):
    v0 = {"nodes": [{"id": "t", "type": "trigger", "position": {"x": 1, "y": 2}, "config": {"event": "message"}}],
          "edges": []}
    response = api.post(f"/api/flows/{flow.pk}/revisions/", {"definition": v0, "base_revision": 1}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["spec_version"] == 1
    assert body["definition"]["ui"]["nodes"]["t"]["position"] == {"x": 1, "y": 2}


def test_restore_a_revision(api, flow):
    url = f"/api/flows/{flow.pk}/revisions/"
    api.post(url, {"definition": _valid_definition("v2"), "base_revision": 1}, format="json")
    response = api.post(f"{url}1/restore/", {"base_revision": 2}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["revision"] == 3 and "restored from revision 1" in body["comment"]
    assert body["definition"] == flow.revisions.get(revision=1).definition

    stale = api.post(f"{url}2/restore/", {"base_revision": 2}, format="json")
    assert stale.status_code == 409 and error_of(stale)["current_revision"] == 3
    assert api.post(f"{url}42/restore/", {"base_revision": 3}, format="json").status_code == 404


# --- Validate and publish -------------------------------------------------------------------------------


def test_validate_returns_errors_and_scope(api, flow):
    bad = definition([T, node("m", "send_message", text="{{vars.order_id}}"), node("x", "end")], [edge("t", "m")])
    response = api.post(f"/api/flows/{flow.pk}/validate/", {"definition": bad}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert sorted((e["code"], e["node_id"]) for e in body["errors"]) == [("unknown_variable", "m"),
                                                                        ("unreachable", "x")]
    unknown = next(e for e in body["errors"] if e["code"] == "unknown_variable")
    assert unknown["field"] == "text" and unknown["message"]["pt-BR"] and unknown["message"]["en"]
    assert "contact.name" in body["scope"]["m"]

    good = api.post(f"/api/flows/{flow.pk}/validate/", {"definition": _valid_definition()}, format="json").json()
    assert good["valid"] is True and good["errors"] == [] and good["warnings"] == [] and good["conflicts"] == []
    assert set(good["scope"]) == {"t", "m"}
    assert good["variables"]["trigger.text"]["label"]["pt-BR"] == "Texto da mensagem"  # for autocomplete


def test_validate_needs_a_definition(api, flow):
    response = api.post(f"/api/flows/{flow.pk}/validate/", {}, format="json")
    assert response.status_code == 400 and "definition" in error_of(response)["details"]


def test_publish_an_invalid_revision_is_refused(api, flow):
    api.post(f"/api/flows/{flow.pk}/revisions/",
             {"definition": chain(T, node("m", "send_message", text="{{ vars.x }}")), "base_revision": 1},
             format="json")
    response = api.post(f"/api/flows/{flow.pk}/publish/", {"revision": 2}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_flow"
    assert [(e["code"], e["node_id"], e["field"]) for e in error["errors"]] == [("unknown_variable", "m", "text")]
    flow.refresh_from_db()
    assert flow.status == Flow.Status.DRAFT and flow.published_revision is None


def test_publish_a_valid_revision(api, flow, editor):
    api.post(f"/api/flows/{flow.pk}/revisions/", {"definition": _valid_definition(), "base_revision": 1},
             format="json")
    response = api.post(f"/api/flows/{flow.pk}/publish/", {"revision": 2, "comment": "primeira versão"},
                        format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "active" and body["published_revision"] == 2 and body["published_at"]
    flow.refresh_from_db()
    assert flow.published_revision.revision == 2
    publication = flow.publications.get()
    assert publication.published_by == editor and publication.comment == "primeira versão"
    revisions = api.get(f"/api/flows/{flow.pk}/revisions/").json()
    assert [(r["revision"], r["is_published"]) for r in revisions] == [(2, True), (1, False)]


def test_publish_a_missing_revision(api, flow):
    response = api.post(f"/api/flows/{flow.pk}/publish/", {"revision": 7}, format="json")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_published_flow_runs_on_inbound_messages(api, flow, contact):
    from tests.flows.helpers import inbound

    api.post(f"/api/flows/{flow.pk}/revisions/", {"definition": _valid_definition(), "base_revision": 1},
             format="json")
    api.post(f"/api/flows/{flow.pk}/publish/", {"revision": 2}, format="json")
    inbound(contact, "oi")
    run = flow.runs.get()
    assert run.status == FlowRun.Status.COMPLETED and run.revision.revision == 2
    runs = api.get(f"/api/runs/?flow={flow.pk}").json()["results"]
    assert [r["id"] for r in runs] == [run.pk] and runs[0]["revision"] == 2
    detail = api.get(f"/api/runs/{run.pk}/").json()
    assert [s["node_id"] for s in detail["steps"]] == ["t", "m"]


# --- Export / import ------------------------------------------------------------------------------------


def test_export_import_round_trip(api, flow):
    api.post(f"/api/flows/{flow.pk}/revisions/", {"definition": _valid_definition("exportado"), "base_revision": 1},
             format="json")
    exported = api.get(f"/api/flows/{flow.pk}/export/").json()
    assert exported["fluxo_export"] == 1 and exported["name"] == "Boas-vindas"
    assert exported["definition"] == flow.revisions.get(revision=2).definition

    response = api.post("/api/flows/import/", exported, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != flow.pk and body["name"] == "Boas-vindas" and body["description"] == "Primeiro contato"
    assert body["draft"]["revision"] == 1
    assert body["draft"]["definition"] == exported["definition"]


def test_import_a_v0_definition_migrates_it(api):
    v0 = {"nodes": [{"id": "t", "type": "trigger", "position": {"x": 5, "y": 6}, "config": {"event": "message"}},
                    {"id": "e", "type": "end", "position": {"x": 50, "y": 6}, "data": {"reason": "fim"}}],
          "edges": [{"source": "t", "sourceHandle": "next", "target": "e"}]}
    response = api.post("/api/flows/import/", {"name": "Protótipo", "definition": v0}, format="json")
    assert response.status_code == 201
    imported = response.json()["draft"]
    assert imported["spec_version"] == 1
    assert imported["definition"]["edges"][0]["source_port"] == "next"
    assert imported["definition"]["nodes"][1] == {"id": "e", "type": "end", "config": {"reason": "fim"}}
    assert imported["definition"]["ui"]["nodes"]["e"]["position"] == {"x": 50, "y": 6}


def test_import_refuses_what_is_not_an_export(api):
    response = api.post("/api/flows/import/", {"name": "x"}, format="json")
    assert response.status_code == 400 and "definition" in error_of(response)["details"]
    response = api.post("/api/flows/import/", {"name": "x", "definition": {"spec_version": 9, "nodes": [],
                                                                            "edges": []}}, format="json")
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_definition"


# --- Test runs ------------------------------------------------------------------------------------------


def _draft_with_delay(api, flow):
    # A test contact has not written yet (no 24-hour window): the flow opens with a template.
    make_template("boas_vindas", body="Olá {{1}}")
    defn = chain(T, node("hi", "send_template", template="boas_vindas", language="pt_BR",
                         parameters={"body": ["{{trigger.name|default('cliente')}}"]}),
                 node("d", "delay", mode="duration", duration={"value": 2, "unit": "days"}),
                 node("bye", "end", reason="Dois dias depois"))
    response = api.post(f"/api/flows/{flow.pk}/revisions/", {"definition": defn, "base_revision": 1}, format="json")
    assert response.status_code == 201


def test_test_run_with_a_payload_runs_at_once(api, flow):
    _draft_with_delay(api, flow)
    response = api.post(f"/api/flows/{flow.pk}/test-runs/", {"payload": {"name": "Rita"}}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["revision"] == 2 and body["status"] == "open"
    assert body["contact"]["phone"].startswith("+55") and body["ws_url"] == f"/ws/test-runs/{body['id']}/"
    snapshot = api.get(f"/api/test-runs/{body['id']}/").json()
    assert snapshot["run"]["status"] == "waiting", snapshot
    assert snapshot["run"]["wait_kind"] == "delay"
    assert "_visits" not in snapshot["run"]["context"]
    assert [m["content"]["rendered_text"] for m in snapshot["messages"]] == ["Olá Rita"]
    assert snapshot["messages"][0]["kind"] == "template" and snapshot["messages"][0]["status"] == "queued"
    assert [s["node_id"] for s in snapshot["steps"]] == ["t", "hi", "d"]

    fired = api.post(f"/api/test-runs/{body['id']}/fast-forward/")
    assert fired.status_code == 202 and fired.json() == {"fired": True}
    from flows.models import TestRun

    contact_events_process(contact_id=TestRun.objects.get(pk=body["id"]).contact_id)
    snapshot = api.get(f"/api/test-runs/{body['id']}/").json()
    assert snapshot["run"]["status"] == "completed" and snapshot["run"]["end_reason"] == "Dois dias depois"
    assert [s["node_id"] for s in snapshot["steps"]] == ["t", "hi", "d", "d", "bye"]

    again = api.post(f"/api/test-runs/{body['id']}/fast-forward/")
    assert again.status_code == 409 and error_of(again)["code"] == "nothing_to_fast_forward"
    assert not Flow.objects.get(pk=flow.pk).runs.filter(is_test=False).exists()


def test_test_run_started_by_an_inbound_text(api, flow):
    _draft_with_delay(api, flow)
    test = api.post(f"/api/flows/{flow.pk}/test-runs/", {}, format="json").json()
    snapshot = api.get(f"/api/test-runs/{test['id']}/").json()
    assert snapshot["run"] is None and snapshot["messages"] == [] and snapshot["steps"] == []

    response = api.post(f"/api/test-runs/{test['id']}/inbound/", {"text": "oi"}, format="json")
    assert response.status_code == 202 and response.json()["event_id"]
    from flows.models import TestRun

    contact_events_process(contact_id=TestRun.objects.get(pk=test["id"]).contact_id)
    snapshot = api.get(f"/api/test-runs/{test['id']}/").json()
    assert snapshot["run"]["status"] == "waiting"
    assert [(m["direction"], m["kind"]) for m in snapshot["messages"]] == [("in", "text"), ("out", "template")]
    assert snapshot["messages"][0]["content"]["text"]["body"] == "oi"
    assert snapshot["messages"][1]["content"]["rendered_text"] == "Olá cliente"
    assert snapshot["steps"][0]["node_type"] == "trigger"

    stopped = api.post(f"/api/test-runs/{test['id']}/stop/")
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    snapshot = api.get(f"/api/test-runs/{test['id']}/").json()
    assert snapshot["status"] == "stopped" and snapshot["run"]["status"] == "cancelled"
    refused = api.post(f"/api/test-runs/{test['id']}/inbound/", {"text": "oi"}, format="json")
    assert refused.status_code == 409 and error_of(refused)["code"] == "test_run_stopped"


def test_test_run_inbound_needs_text_or_reply(api, flow):
    test = api.post(f"/api/flows/{flow.pk}/test-runs/", {}, format="json").json()
    response = api.post(f"/api/test-runs/{test['id']}/inbound/", {}, format="json")
    assert response.status_code == 400 and "text" in error_of(response)["details"]


def test_test_run_of_a_missing_revision(api, flow):
    response = api.post(f"/api/flows/{flow.pk}/test-runs/", {"revision": 5}, format="json")
    assert response.status_code == 404


def test_test_runs_need_the_editor_role(flow):
    viewer = client_for(make_user("vera", role="viewer"))
    assert viewer.post(f"/api/flows/{flow.pk}/test-runs/", {}, format="json").status_code == 403


# --- Session ---------------------------------------------------------------------------------------------


def test_session_login_language_and_logout(db):
    make_user("lia", role="editor", password="s3nha-forte-123", first_name="Lia")
    client = APIClient()
    anonymous = client.get("/api/auth/session/")
    assert anonymous.status_code == 200 and anonymous.json() == {"authenticated": False, "user": None}
    assert "csrftoken" in anonymous.cookies

    wrong = client.post("/api/auth/login/", {"username": "lia", "password": "errada"}, format="json",
                        HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == 400
    error = error_of(wrong)
    assert error["code"] == "invalid_credentials" and error["details"] == {"password": ["Wrong username or password."]}
    missing = client.post("/api/auth/login/", {"username": "lia"}, format="json")
    assert missing.status_code == 400 and "password" in error_of(missing)["details"]

    ok = client.post("/api/auth/login/", {"username": "lia", "password": "s3nha-forte-123"}, format="json")
    assert ok.status_code == 200
    user = ok.json()["user"]
    assert ok.json()["authenticated"] is True
    assert user["username"] == "lia" and user["first_name"] == "Lia" and user["language"] == "pt-BR"
    assert user["roles"] == ["editor", "viewer"]
    assert client.get("/api/flows/").status_code == 200  # the session cookie signs in

    patched = client.patch("/api/auth/session/", {"language": "en"}, format="json")
    assert patched.status_code == 200 and patched.json()["user"]["language"] == "en"
    assert UserPreference.objects.get(user__username="lia").language == "en"
    bad = client.patch("/api/auth/session/", {"language": "fr"}, format="json")
    assert bad.status_code == 400 and "language" in error_of(bad)["details"]

    assert client.post("/api/auth/logout/").status_code == 204
    assert client.get("/api/auth/session/").json()["authenticated"] is False
    assert client.get("/api/flows/").status_code == 401

    again = APIClient()  # a new session reads the stored preference
    again.post("/api/auth/login/", {"username": "lia", "password": "s3nha-forte-123"}, format="json")
    assert again.get("/api/auth/session/").json()["user"]["language"] == "en"


def test_patch_language_needs_a_session(db):
    response = APIClient().patch("/api/auth/session/", {"language": "en"}, format="json")
    assert response.status_code == 401 and error_of(response)["code"] == "not_authenticated"


# --- OpenAPI ---------------------------------------------------------------------------------------------


def test_openapi_schema_and_docs(api):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "openapi" in text and "/api/flows/" in text and "/api/node-types/" in text
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


# --- Malformed ids --------------------------------------------------------------------------------------


def test_malformed_ids_are_404_not_500(api, flow):
    for url in ["/api/flows/abc/", f"/api/flows/{flow.pk}/revisions/abc/", "/api/runs/abc/", "/api/test-runs/abc/"]:
        response = api.get(url)
        assert response.status_code == 404, url
        assert error_of(response)["code"] == "not_found"
    response = api.post(f"/api/flows/{flow.pk}/revisions/abc/restore/", {"base_revision": 1}, format="json")
    assert response.status_code == 404
    response = api.get("/api/runs/?flow=abc")  # a malformed filter is a clear 400, not an empty list
    assert response.status_code == 400 and error_of(response)["code"] == "validation_error"


def test_runs_list_filters(api, contact, editor):
    from flows.testruns import test_run_start
    from tests.flows.helpers import inbound

    waiting = make_flow(chain(T, node("w", "wait_for_reply")), name="espera")
    inbound(contact, "oi")
    draft = make_flow(chain(T, node("e", "end")), name="draft", publish=False)
    test_run_start(flow=draft, payload={}, user=editor)
    run = waiting.runs.get()
    def listed(params=None):
        return api.get("/api/runs/", params or {}).json()["results"]

    assert [r["id"] for r in listed()] == [run.pk]  # test runs are left out
    assert len(listed({"tests": "true"})) == 1  # ... and shown apart
    assert [r["id"] for r in listed({"status": "waiting"})] == [run.pk]
    assert listed({"status": "completed"}) == []
    assert [r["contact"]["phone"] for r in listed({"contact": contact.phone})] == [contact.phone]
    detail = api.get(f"/api/runs/{run.pk}/").json()
    assert detail["status"] == "waiting" and detail["wait_kind"] == "reply" and detail["context"]["trigger"]["text"] == "oi"


# --- The services behind the endpoints ------------------------------------------------------------------


def test_services_stale_revision_and_invalid_flow(editor):
    from flows import services
    from flows.models import FlowRevision

    flow = services.flow_create(name="Serviço", author=editor)
    second = services.flow_revision_save(flow=flow, definition=_valid_definition(), base_revision=1, author=editor)
    assert second.revision == 2
    for base in (1, None, 5):
        with pytest.raises(services.StaleRevision) as info:
            services.flow_revision_save(flow=flow, definition=_valid_definition(), base_revision=base)
        assert info.value.latest.pk == second.pk
    with pytest.raises(services.InvalidDefinition):
        services.flow_revision_save(flow=flow, definition={"spec_version": 1, "nodes": []}, base_revision=2)
    assert flow.revisions.count() == 2

    broken = services.flow_revision_save(flow=flow, definition=chain(node("e", "end")), base_revision=2)
    with pytest.raises(services.InvalidFlow) as info:
        services.flow_publish(flow=flow, revision_number=broken.revision)
    assert [i.code for i in info.value.issues] == ["no_trigger"]
    published = services.flow_publish(flow=flow, revision_number=2, user=editor)
    assert published.status == Flow.Status.ACTIVE and published.published_revision_id == second.pk

    with pytest.raises(ValueError, match="immutable"):
        second.comment = "changed"
        second.save()
    assert FlowRevision.objects.get(pk=second.pk).comment == ""


def test_publishing_an_archived_flow_keeps_it_archived(editor):
    from flows import services

    flow = services.flow_create(name="Arquivado", definition=_valid_definition(), author=editor)
    services.flow_set_status(flow=flow, status=Flow.Status.ARCHIVED)
    flow = services.flow_publish(flow=flow, revision_number=1)
    assert flow.status == Flow.Status.ARCHIVED and flow.published_revision.revision == 1
