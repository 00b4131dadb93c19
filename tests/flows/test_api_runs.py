"""Runs, dashboard and alerts API: filters, cursor pages, run detail, actions by role, errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from flows import stats
from flows.engine.interpreter import Interpreter
from flows.models import Alert, FlowRevision, FlowRun, RunAction
from flows.services import contact_events_process
from tests.factories import chain, make_contact, make_flow, make_user, node
from tests.flows.helpers import inbound
from tests.flows.test_run_actions import flaky  # noqa: F401  (fixture)

START = node("t", "trigger", event="message", match="keyword", keywords=["start"])


def client_for(role: str, name: str | None = None) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user(name or role, role=role))
    return client


@pytest.fixture
def viewer(db):
    return client_for("viewer")


@pytest.fixture
def failing(flaky, channel):  # noqa: F811
    """A flow whose step 'x' fails, run by two contacts (Rita and Caio) plus a test run."""
    flow = make_flow(chain(START, node("x", "test_flaky", fail=True)), name="Pedidos")
    rita = make_contact(channel=channel, name="Rita Souza", phone="+5511988887777")
    caio = make_contact(channel=channel, name="Caio Lima", phone="+5521977776666")
    inbound(rita, "start")
    inbound(caio, "start")
    tester = make_contact(channel=channel, name="Teste", is_test=True)
    Interpreter().run_start(flow=flow, revision=flow.published_revision, contact=tester, trigger_node_id="t",
                            is_test=True, trigger_payload={})
    return flow


def test_runs_list_newest_first_with_filters(api, failing, channel):
    other = make_flow(chain(node("t", "trigger", event="message", match="keyword", keywords=["oi"]),
                            node("m", "send_message", text="olá")), name="Boas-vindas")
    inbound(make_contact(channel=channel, name="Bia"), "oi")
    body = api.get("/api/runs/").json()
    assert [r["flow"]["name"] for r in body["results"]] == ["Boas-vindas", "Pedidos", "Pedidos"]
    assert body["results"][0]["contact"]["name"] == "Bia" and body["results"][0]["revision"] == 1
    assert "next" in body and "count" not in body  # cursor pages: no COUNT over a million runs

    def ids(query):
        response = api.get(f"/api/runs/?{query}")
        assert response.status_code == 200, response.json()
        return [(r["contact"]["name"], r["status"]) for r in response.json()["results"]]

    assert ids(f"flow={failing.pk}") == [("Caio Lima", "failed"), ("Rita Souza", "failed")]
    assert ids(f"flow={other.pk}&status=completed") == [("Bia", "completed")]
    assert ids("status=failed,completed") == [("Bia", "completed"), ("Caio Lima", "failed"), ("Rita Souza", "failed")]
    assert ids("contact=8888") == [("Rita Souza", "failed")]
    assert ids("contact=caio") == [("Caio Lima", "failed")]
    assert ids("has_error=true") == [("Caio Lima", "failed"), ("Rita Souza", "failed")]
    assert ids("q=answered 500") == [("Caio Lima", "failed"), ("Rita Souza", "failed")]
    assert ids("q=nada disso") == []
    assert ids("tests=true") == [("Teste", "failed")]
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert ids(f"since={future.replace('+', '%2B')}") == []


def test_runs_list_pages_with_a_cursor(api, channel):
    flow = make_flow(chain(START, node("m", "send_message", text="oi")))
    for _ in range(5):
        inbound(make_contact(channel=channel), "start")
    first = api.get("/api/runs/?page_size=2").json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    seen = [r["id"] for page in (first, second, third) for r in page["results"]]
    assert seen == sorted(flow.runs.values_list("id", flat=True), reverse=True) and third["next"] is None


def test_bad_filters_are_a_400_in_the_error_shape(api):
    for query, field in (("status=dormindo", "status"), ("since=ontem", "since"), ("flow=abc", "flow"),
                         ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "until")):
        response = api.get(f"/api/runs/?{query}")
        assert response.status_code == 400, query
        error = response.json()["error"]
        assert error["code"] == "validation_error" and field in error["details"], (query, error)
    assert api.get("/api/runs/999999/").status_code == 404
    assert api.get("/api/runs/abc/").status_code == 404


def test_run_detail_has_steps_messages_event_and_revision(api, channel):
    flow = make_flow(chain(START, node("m", "send_message", text="Olá, {{contact.name}}")))
    inbound(make_contact(channel=channel, name="Rita"), "start agora")
    run = flow.runs.get()
    detail = api.get(f"/api/runs/{run.pk}/").json()
    assert [s["node_id"] for s in detail["steps"]] == ["t", "m"]
    assert detail["revision"]["revision"] == 1 and detail["revision"]["definition"]["nodes"][1]["id"] == "m"
    assert detail["trigger_event"]["kind"] == "message" and detail["trigger_event"]["payload"]["text"] == "start agora"
    assert detail["trigger"]["text"] == "start agora"
    assert detail["messages"][0]["content"]["rendered_text"] == "Olá, Rita" and detail["messages"][0]["status"] == "queued"
    assert detail["flow"] == {"id": flow.pk, "name": flow.name, "published_revision": 1}


def test_actions_by_role_and_audit(failing, viewer):
    run = failing.runs.filter(is_test=False).first()
    assert viewer.post(f"/api/runs/{run.pk}/retry/", {}, format="json").status_code == 403
    editor = client_for("editor", "edu")
    refused = editor.post(f"/api/runs/{run.pk}/cancel/", {}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_applicable"
    failing.published_revision = FlowRevision.objects.create(
        flow=failing, revision=2, spec_version=1, definition=chain(START, node("x", "test_flaky", fail=False)))
    failing.save(update_fields=["published_revision"])
    accepted = editor.post(f"/api/runs/{run.pk}/retry/", {"use_published": True}, format="json")
    assert accepted.status_code == 202 and accepted.json()["requested_by"] == "edu"
    contact_events_process(contact_id=run.contact_id)
    detail = editor.get(f"/api/runs/{run.pk}/").json()
    assert detail["status"] == "completed"
    assert detail["actions"][0]["action"] == "retry" and detail["actions"][0]["state"] == "done"
    assert detail["actions"][0]["requested_by"] == "edu" and detail["actions"][0]["applied_at"]


def test_bulk_needs_an_admin_and_reports_progress(failing, django_capture_on_commit_callbacks):
    editor = client_for("editor", "edu")
    body = {"action": "restart", "filters": {"flow": failing.pk, "status": "failed"}}
    assert editor.post("/api/runs/bulk/", body, format="json").status_code == 403
    admin = client_for("admin", "adm")
    preview = admin.post("/api/runs/bulk/", {**body, "dry_run": True}, format="json")
    assert preview.status_code == 200 and preview.json() == {"action": "restart", "total": 2}
    assert not RunAction.objects.exists()  # counting to confirm records nothing
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin.post("/api/runs/bulk/", body, format="json")
    assert response.status_code == 202 and response.json()["total"] == 2  # the test run is never selected
    assert callbacks  # the recording task is queued after commit
    from flows.run_actions import run_action_batch_record

    run_action_batch_record(batch_id=response.json()["id"])
    progress = admin.get(f"/api/runs/batches/{response.json()['id']}/").json()
    assert progress["recorded"] == 2 and progress["states"] == {"pending": 2} and progress["finished_at"]
    assert RunAction.objects.filter(requested_by__username="adm").count() == 2
    bad = admin.post("/api/runs/bulk/", {"action": "explode", "filters": {}}, format="json")
    assert bad.status_code == 400 and "action" in bad.json()["error"]["details"]
    bad = admin.post("/api/runs/bulk/", {"action": "cancel", "filters": {"status": "nope"}}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()["error"]["details"]


def test_dashboard_and_path_counts_api(api, failing):
    stats.stats_rollup()
    data = api.get("/api/dashboard/").json()
    assert data["runs"]["started"] == 2 and data["runs"]["failed"] == 2
    assert data["flows"][0]["name"] == "Pedidos" and data["flows"][0]["runs.failed"] == 2
    one = api.get(f"/api/dashboard/?flow={failing.pk}").json()
    assert one["flow_id"] == failing.pk and one["runs"]["failed"] == 2
    counts = api.get(f"/api/flows/{failing.pk}/path-counts/").json()
    assert counts["nodes"]["x"]["entered"] == 2 and counts["nodes"]["x"]["ended"] == {"failed": 2}
    bad = api.get("/api/dashboard/?since=2026-01-01T00:00:00Z&until=2025-01-01T00:00:00Z")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    assert api.get("/api/dashboard/?flow=999999").status_code == 404
    assert api.get("/api/flows/999999/path-counts/").status_code == 404


def test_alerts_bell_and_settings(api, viewer, failing):
    from flows.alerts import alert_settings_global, alerts_evaluate

    assert alerts_evaluate()["opened"] == 0  # 2 runs ended: fewer than the 5 a rate needs by default
    alert_settings_global().__class__.objects.update(failure_min_runs=2)
    assert alerts_evaluate()["opened"] == 1  # 2 of 2 failed in 5 minutes: over the default 20 %
    bell = viewer.get("/api/alerts/").json()
    assert bell["unread"] == 1 and bell["alerts"][0]["kind"] == "failure_rate"
    assert "Pedidos" in bell["alerts"][0]["title"]["pt-BR"] and bell["alerts"][0]["link"].startswith("/runs?")
    assert viewer.post("/api/alerts/read/", {}, format="json").json() == {"marked": 1}
    assert viewer.get("/api/alerts/").json()["unread"] == 0
    assert api.get("/api/alerts/").json()["unread"] == 1  # read state is per person
    assert viewer.patch("/api/alert-settings/", {"graph_error_threshold": 5}, format="json").status_code == 403
    admin = client_for("admin", "adm")
    changed = admin.patch("/api/alert-settings/", {"graph_error_threshold": 5}, format="json")
    assert changed.status_code == 200 and changed.json()["graph_error_threshold"] == 5
    flow_settings = api.get(f"/api/flows/{failing.pk}/alert-settings/").json()
    assert flow_settings["inherited"] is True
    saved = api.patch(f"/api/flows/{failing.pk}/alert-settings/", {"failure_rate_threshold": 1.0}, format="json")
    assert saved.status_code == 200 and saved.json()["inherited"] is False
    assert alerts_evaluate()["resolved"] == 1  # 100 % is not above a 100 % threshold
    assert Alert.objects.get().resolved_at is not None
    bad = api.patch(f"/api/flows/{failing.pk}/alert-settings/", {"notify_channel": "slack"}, format="json")
    assert bad.status_code == 400 and "notify_credential" in bad.json()["error"]["details"]
    bad = api.patch(f"/api/flows/{failing.pk}/alert-settings/", {"failure_rate_threshold": 3}, format="json")
    assert bad.status_code == 400


def test_runs_are_not_counted_twice_by_the_list(api, failing):
    assert FlowRun.objects.filter(flow=failing).count() == 3
    assert len(api.get(f"/api/runs/?flow={failing.pk}").json()["results"]) == 2
