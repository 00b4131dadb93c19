"""Bad input is a 400 in the error shape of core/errors.py, never a 5xx (issue 9, point 1 and 6).

Each case below was a 500 in the outside review: JSON the decoder accepts but PostgreSQL refuses
(NUL, lone surrogates, ``1e999``), nesting that blew the decoder's recursion, wrong types the views
trusted, and query filters passed to the ORM unchecked.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.parsers import MAX_JSON_DEPTH, BadJSON, json_depth_check, json_loads_safe
from integrations.events.services import api_integration_create
from tests.factories import chain, make_contact, make_flow, make_user, node

pytestmark = pytest.mark.django_db

DEEP = "[" * 3000 + "]" * 3000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000


def _error(response, status: int = 400) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "details"} <= set(body["error"]), body
    return body["error"]


def _raw(client, url: str, text: str, method: str = "post"):
    return getattr(client, method)(url, data=text.encode("utf-8", "surrogatepass"), content_type="application/json")


@pytest.fixture
def admin_api(db):
    client = APIClient()
    client.force_authenticate(make_user("root", role="admin"))
    return client


@pytest.fixture
def shop(db):
    _integration, key = api_integration_create(name="Loja virtual")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _event(data_text: str) -> str:
    return '{"event": "order.created", "contact": {"phone": "+5511987654321"}, "data": ' + data_text + "}"


# --- The safe loader itself ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    '{"a": "x\\u0000y"}', '{"x\\u0000": 1}', '["\\ud800"]', '{"\\udc00": 1}', "1e999", "-1e999", "[NaN]",
    "[Infinity]", "[-Infinity]", "12345678901234567890123", "[" + "9" * 5000 + "]", DEEP, DEEP_OBJECT, "{", "",
    '{"a": 1,}', "\x00", '"\\ud83d"',
])
def test_the_safe_loader_refuses_what_fluxo_cannot_store(text):
    with pytest.raises(BadJSON):
        json_loads_safe(text)


def test_the_safe_loader_keeps_ordinary_json():
    text = '{"a": [1, 2.5, -3, true, null, "olá 😀 \\ud83d\\ude00", {"b": "[{"}], "n": 9223372036854775807}'
    assert json_loads_safe(text.encode()) == json.loads(text)
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_loads_safe(nested) == json.loads(nested)


def test_brackets_inside_strings_do_not_count_as_nesting():
    json_depth_check(json.dumps({"text": "[" * 5000 + "{" * 5000}))
    with pytest.raises(BadJSON):
        json_depth_check("[" * (MAX_JSON_DEPTH + 1))


def test_non_utf8_bytes_are_refused():
    with pytest.raises(BadJSON):
        json_loads_safe(b'{"a": "\xff"}')


# --- /api/events/ (API key) ---------------------------------------------------------------------


@pytest.mark.parametrize("data", ['{"k": "a\\u0000b"}', '{"k": "\\ud800"}', '{"k": 1e999}', '{"k": ' + DEEP + "}",
                                  '{"\\u0000": 1}', '{"k": NaN}', '{"k": 123456789012345678901234567890}'])
def test_events_with_unstorable_data_are_a_400(shop, data):
    error = _error(_raw(shop, "/api/events/", _event(data)))
    assert error["code"] == "parse_error"


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null", '{"event": 5, "contact": "x"}',
                                  '{"event": "e", "contact": {"phone": "+5511987654321"}, "data": "text"}',
                                  '{"event": "e", "contact": {"phone": "+5511987654321"}, "channel": "abc"}',
                                  '{"event": "e", "contact": {"phone": "+5511987654321"}, "channel": 1e300}',
                                  '{"event": "e", "contact": {"phone": ["+5511987654321"]}}', "{not json"])
def test_events_with_wrong_types_are_a_400(shop, body):
    _error(_raw(shop, "/api/events/", body))


# --- Unauthenticated: login and token ------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/auth/token/", "/api/auth/login/"])
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, '{"username": ' + DEEP + ', "password": "x"}',
                                  '{"username": "a\\u0000", "password": "x"}', '{"username": "\\ud800", "password": "x"}',
                                  '{"username": 1e999, "password": "x"}', '{"username": ["a"], "password": {"x": 1}}',
                                  '"ana"', "[1]", "{"])
def test_login_and_token_refuse_hostile_bodies_with_a_400(db, url, body):
    make_user("ana")
    _error(_raw(APIClient(), url, body))


# --- Flows, test runs ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["x\\u0000y", "\\ud800"])
def test_flow_definitions_with_nul_or_lone_surrogates_are_a_400(api, text):
    defn = chain(node("t", "trigger", event="keyword", keywords=["OI"]), node("m", "send_text", text="@@"))
    body = json.dumps({"name": "Fluxo", "definition": defn}).replace("@@", text)
    _error(_raw(api, "/api/flows/", body))
    flow = make_flow(defn)
    saved = json.dumps({"definition": defn, "base_revision": 1}).replace("@@", text)
    _error(_raw(api, f"/api/flows/{flow.pk}/revisions/", saved))
    _error(_raw(api, f"/api/flows/{flow.pk}/validate/", json.dumps({"definition": defn}).replace("@@", text)))


@pytest.mark.parametrize("name", ["a\\u0000", "\\udfff"])
def test_a_flow_name_with_nul_or_a_lone_surrogate_is_a_400(api, name):
    _error(_raw(api, "/api/flows/", '{"name": "' + name + '"}'))


@pytest.mark.parametrize("payload", ['"text"', "[1, 2]", "42", "true"])
def test_a_test_run_with_a_payload_that_is_not_an_object_is_a_400(api, payload, channel):
    flow = make_flow(chain(node("t", "trigger", event="keyword", keywords=["OI"]), node("m", "send_text", text="oi")))
    error = _error(_raw(api, f"/api/flows/{flow.pk}/test-runs/", '{"payload": ' + payload + "}"))
    assert "payload" in error["details"]


# --- List filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "null", "false", "1.5", "²", "-1", "99999999999999999999999", "%00"])
@pytest.mark.parametrize("url", ["/api/templates/", "/api/contacts/", "/api/messages/"])
def test_a_channel_or_contact_filter_that_is_not_an_id_is_a_400(admin_api, url, value):
    name = "contact" if url == "/api/messages/" else "channel"
    error = _error(admin_api.get(f"{url}?{name}={value}"))
    assert name in error["details"]


@pytest.mark.parametrize("query", ["q=%00", "q=a%00b", "tag=%00", "attribute=%00", "consent=%00",
                                   "limit=abc", "offset=-1", "limit=%00"])
def test_contact_filters_with_nul_or_junk_are_a_400(admin_api, query):
    _error(admin_api.get(f"/api/contacts/?{query}"))


@pytest.mark.parametrize("query", ["search=%00", "status=%00", "status=nonsense"])
def test_flow_filters_with_nul_or_junk_are_a_400(api, query):
    _error(api.get(f"/api/flows/?{query}"))


@pytest.mark.parametrize("query", ["direction=%00", "direction=sideways", "contact=%00"])
def test_message_filters_with_nul_or_junk_are_a_400(admin_api, query):
    _error(admin_api.get(f"/api/messages/?{query}"))


@pytest.mark.parametrize("query", ["status=%00", "language=%00", "category=%00"])
def test_template_filters_with_nul_are_a_400(admin_api, query):
    _error(admin_api.get(f"/api/templates/?{query}"))


@pytest.mark.parametrize("query", ["subscription=abc", "status=%00", "subscription=%00"])
def test_webhook_delivery_filters_with_junk_are_a_400(admin_api, query):
    _error(admin_api.get(f"/api/webhooks/deliveries/?{query}"))


@pytest.mark.parametrize("query", ["status=%00", "flow=abc", "contact=%00", "q=%00", "page_size=abc"])
def test_run_filters_with_nul_or_junk_are_a_400(admin_api, query):
    response = admin_api.get(f"/api/runs/?{query}")
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 200:
        _error(response)


def test_a_revision_compare_that_is_not_a_number_is_a_400(api):
    flow = make_flow(chain(node("t", "trigger", event="keyword", keywords=["OI"])))
    for value in ["²", "abc", "%00"]:
        _error(api.get(f"/api/flows/{flow.pk}/revisions/1/?compare={value}"))


@pytest.mark.parametrize("query", ["year=%00", "country=%00", "subdivision=%00", "year=²"])
def test_holiday_filters_with_junk_are_a_400(api, query):
    _error(api.get(f"/api/holidays/?{query}"))


# --- Credentials ----------------------------------------------------------------------------------


def test_a_credential_without_kind_is_a_400(admin_api):
    error = _error(admin_api.post("/api/credentials/", {"name": "Loja", "secret": "s3cr3t"}, format="json"))
    assert "kind" in error["details"]


@pytest.mark.parametrize("body", ['{"name": "x\\u0000", "kind": "bearer", "secret": "s"}',
                                  '{"name": "Loja", "kind": "bearer", "secret": "\\ud800"}', "[]", '"x"'])
def test_hostile_credential_bodies_are_a_400(admin_api, body):
    _error(_raw(admin_api, "/api/credentials/", body))


# --- Sandbox views (Django, hand-parsed JSON) ------------------------------------------------------


@pytest.fixture
def sandbox_client(db, channel):
    client = Client()
    client.force_login(make_user("play", role="editor"))
    return client


@pytest.mark.parametrize("url", ["/sandbox/api/send/", "/sandbox/api/contacts/"])
@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null", "{", DEEP, '{"contact": "\\u0000"}',
                                  '{"phone": "\\ud800", "name": "x"}', '{"contact": 1e999}', '{"contact": [1]}',
                                  '{"contact": {"a": 1}}', '{"text": "a\\u0000"}'])
def test_sandbox_views_refuse_hostile_json_with_a_400(sandbox_client, url, body, channel):
    contact = make_contact(channel=channel)
    text = body.replace('"text": "a', f'"contact": {contact.pk}, "text": "a')
    response = _raw(sandbox_client, url, text)
    assert response.status_code in {400, 404}, (response.status_code, response.content[:200])
    assert "error" in response.json()


@pytest.mark.parametrize("query", ["after=abc", "after=²", "after=-1", "after=%00", "contact=abc", "contact=%00",
                                   "contact=99999999999999999999999"])
def test_sandbox_messages_with_junk_parameters_are_a_400_or_404(sandbox_client, channel, query):
    contact = make_contact(channel=channel)
    response = sandbox_client.get(f"/sandbox/api/messages/?contact={contact.pk}&{query}")
    assert response.status_code in {400, 404}, (response.status_code, response.content[:200])
