"""Property-based: hostile JSON and query strings never give a 5xx (issue 9, point 1).

The public endpoints (``/api/auth/token/``, ``/api/auth/login/``, ``/api/events/`` with an API key)
and a few authenticated ones get bodies of any shape — wrong types, NUL, lone surrogates, huge
numbers, deep nesting, bytes that are not JSON — and list endpoints get junk filter values. Every
answer is below 500, and every 4xx carries the error shape of ``core/errors.py``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from integrations.events.services import api_integration_create
from tests.factories import chain, make_flow, make_user, node
from tests.strategies import hostile_bodies, json_values, maybe, nasty_text, query_values

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

login_bodies = hostile_bodies(valid=st.fixed_dictionaries({"username": maybe(st.just("ana")),
                                                           "password": maybe(st.just("s3nha-forte-123"))}))
event_bodies = hostile_bodies(valid=st.fixed_dictionaries({
    "event": maybe(st.just("order.created")),
    "contact": maybe(st.fixed_dictionaries({"phone": maybe(st.just("+5511987654321")), "name": maybe(nasty_text)})),
    "data": maybe(json_values()), "channel": maybe(st.one_of(st.none(), st.integers()))}))


def _answered(response) -> int:
    """The answer is not a server error; a refusal carries the error shape."""
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if 400 <= response.status_code < 500 and response["Content-Type"].startswith("application/json"):
        error = response.json()["error"]
        assert {"code", "message", "details"} <= set(error), error
    return response.status_code


def _post(client, url: str, body: bytes, method: str = "post"):
    return getattr(client, method)(url, data=body, content_type="application/json")


@pytest.fixture
def ana(db):
    return make_user("ana")


@pytest.fixture
def shop(db):
    _integration, key = api_integration_create(name="Loja virtual")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def admin_api(db):
    client = APIClient()
    client.force_authenticate(make_user("root", role="admin"))
    return client


@FUZZ
@given(body=login_bodies)
def test_token_and_login_never_fail_on_a_hostile_body(ana, body):
    for url in ("/api/auth/token/", "/api/auth/login/"):
        assert _answered(_post(APIClient(), url, body)) in {200, 400, 401, 403, 415, 429}


@FUZZ
@given(body=event_bodies)
def test_events_never_fail_on_a_hostile_body(shop, channel, body):
    assert _answered(_post(shop, "/api/events/", body)) in {200, 202, 400, 409, 413}


@FUZZ
@given(body=hostile_bodies())
def test_an_anonymous_caller_never_gets_a_server_error(db, body):
    for url in ("/api/events/", "/api/flows/", "/api/auth/session/"):
        _answered(_post(APIClient(), url, body))
    _answered(_post(APIClient(), "/api/auth/session/", body, method="patch"))


@FUZZ
@given(body=hostile_bodies(valid=st.fixed_dictionaries({"name": maybe(nasty_text), "definition": maybe(json_values()),
                                                         "payload": maybe(json_values()),
                                                         "base_revision": maybe(st.integers())})))
def test_flow_endpoints_never_fail_on_a_hostile_body(api, channel, body):
    flow = make_flow(chain(node("t", "trigger", event="keyword", keywords=["OI"]), node("m", "send_text", text="oi")))
    for url in ("/api/flows/", f"/api/flows/{flow.pk}/validate/", f"/api/flows/{flow.pk}/test-runs/",
                f"/api/flows/{flow.pk}/revisions/", "/api/flows/import/", "/api/test-contacts/"):
        _answered(_post(api, url, body))
    _answered(_post(api, f"/api/flows/{flow.pk}/", body, method="patch"))


@FUZZ
@given(body=hostile_bodies(valid=st.fixed_dictionaries({"name": maybe(nasty_text), "kind": maybe(st.just("bearer")),
                                                         "secret": maybe(nasty_text),
                                                         "allowed_hosts": maybe(json_values())})))
def test_admin_endpoints_never_fail_on_a_hostile_body(admin_api, body):
    for url in ("/api/credentials/", "/api/users/", "/api/alert-settings/", "/api/teams/", "/api/runs/bulk/"):
        _answered(_post(admin_api, url, body))
    _answered(_post(admin_api, "/api/alert-settings/", body, method="patch"))


LISTS = {
    "/api/contacts/": ["q", "channel", "tag", "consent", "consent_category", "attribute", "limit", "offset",
                       "include_tests"],
    "/api/messages/": ["contact", "direction"],
    "/api/templates/": ["status", "language", "channel", "category"],
    "/api/flows/": ["search", "status"],
    "/api/runs/": ["flow", "status", "since", "until", "contact", "has_error", "q", "tests", "page_size", "cursor"],
    "/api/webhooks/deliveries/": ["subscription", "status"],
    "/api/holidays/": ["country", "subdivision", "year"],
    "/api/dashboard/": ["period", "since", "until", "flow"],
    "/api/alerts/": ["flow", "state", "kind"],
}


@FUZZ
@given(url=st.sampled_from(sorted(LISTS)), data=st.data())
def test_list_filters_never_fail_on_junk(admin_api, url, data):
    params = data.draw(st.dictionaries(st.sampled_from(LISTS[url]), query_values, min_size=1, max_size=3))
    status = _answered(admin_api.get(url, params))
    assert status in {200, 400, 404}, status
