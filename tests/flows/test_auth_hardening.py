"""Sign-in hardening: the session login needs the CSRF token (no login CSRF from another site), and
login and token endpoints are throttled per client IP and per username (429 in the error shape)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "s3nha-forte-123"


def test_a_cross_site_login_without_the_csrf_token_is_refused():
    make_user("ana", password=PASSWORD)
    browser = APIClient(enforce_csrf_checks=True)
    response = browser.post("/api/auth/login/", {"username": "ana", "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert browser.get("/api/auth/session/").json()["authenticated"] is False


def test_the_editor_login_sends_the_cookie_token_and_signs_in():
    """What frontend/src/api/client.ts does: GET the session (sets csrftoken), POST with X-CSRFToken."""
    make_user("ana", password=PASSWORD)
    browser = APIClient(enforce_csrf_checks=True)
    browser.get("/api/auth/session/")
    token = browser.cookies["csrftoken"].value
    response = browser.post("/api/auth/login/", {"username": "ana", "password": PASSWORD}, format="json",
                            HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert browser.get("/api/flows/").status_code == 200


def test_the_token_endpoint_needs_no_csrf_token():
    """Outside systems exchange a password for a token; no session is opened, so there is no login CSRF."""
    make_user("bot", password=PASSWORD)
    client = APIClient(enforce_csrf_checks=True)
    assert client.post("/api/auth/token/", {"username": "bot", "password": PASSWORD}, format="json").status_code == 200


def _attempt(client, path: str, username: str, ip: str):
    return client.post(path, {"username": username, "password": "errada"}, format="json", REMOTE_ADDR=ip)


def test_guessing_one_account_from_many_addresses_is_throttled_per_username():
    make_user("ana", password=PASSWORD)
    client = APIClient()
    for index in range(10):
        path = "/api/auth/login/" if index % 2 else "/api/auth/token/"  # one budget for both endpoints
        assert _attempt(client, path, "ana" if index % 3 else " ANA ", f"10.0.0.{index}").status_code == 400
    refused = client.post("/api/auth/login/", {"username": "ana", "password": "errada"}, format="json",
                          REMOTE_ADDR="10.0.1.1", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 429
    body = refused.json()["error"]
    assert body["code"] == "throttled" and body["message"].startswith("Too many sign-in attempts")
    assert body["retry_after"] > 0 and int(refused["Retry-After"]) > 0
    # Even the right password waits: the budget is the account's, whoever tries.
    right = client.post("/api/auth/token/", {"username": "ana", "password": PASSWORD}, format="json",
                        REMOTE_ADDR="10.0.2.2", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert right.status_code == 429 and "Muitas tentativas" in right.json()["error"]["message"]
    # Another account is not affected.
    make_user("bia", password=PASSWORD)
    assert client.post("/api/auth/token/", {"username": "bia", "password": PASSWORD}, format="json",
                       REMOTE_ADDR="10.0.3.3").status_code == 200


def test_guessing_many_accounts_from_one_address_is_throttled_per_ip():
    client = APIClient()
    for index in range(30):
        assert _attempt(client, "/api/auth/login/", f"user{index}", "192.0.2.7").status_code == 400
    assert _attempt(client, "/api/auth/token/", "someone-else", "192.0.2.7").status_code == 429
    assert _attempt(client, "/api/auth/token/", "someone-else", "192.0.2.8").status_code == 400
