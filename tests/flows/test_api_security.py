"""Every API route is behind authentication and roles: walk the URL conf, call each route."""

from __future__ import annotations

import re

import pytest
from django.urls import get_resolver
from rest_framework.test import APIClient

from tests.factories import make_user

pytestmark = pytest.mark.django_db

# Routes that answer without a signed-in user on purpose, with the reason.
PUBLIC = {
    "api/auth/session/": "tells the browser whether it is signed in",
    "api/auth/login/": "signs in",
    "api/auth/logout/": "signs out",
    "api/auth/token/": "exchanges a password for an API token",
}
# Routes with their own authentication (an integration's API key, a demo credential).
OWN_AUTH = {"api/events/", "api/events/<int:event_id>/", "api/demo/orders/<str:order_id>/"}
# Writes a viewer may make (none but their own session).
VIEWER_WRITES = {"api/auth/session/", "api/auth/login/", "api/auth/logout/", "api/auth/token/",
                 "api/alerts/read/"}  # marking one's own alerts read


def _routes():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    return sorted({r for r in walk(get_resolver().url_patterns) if r.startswith("api/")})


def _path(route: str) -> str:
    path = route.replace("^", "").replace("$", "")
    path = re.sub(r"\(\?P<[^>]+>[^)]*\)", "1", path)
    path = re.sub(r"<[^>]+>", "1", path)
    return "/" + path


ROUTES = _routes()


def test_the_walk_finds_the_api():
    assert len(ROUTES) > 40 and "api/^flows/$" in ROUTES and "api/^channels/$" in ROUTES


@pytest.mark.parametrize("route", [r for r in ROUTES if r not in PUBLIC])
def test_anonymous_callers_are_refused_everywhere(route):
    client = APIClient(enforce_csrf_checks=True)
    for method in ("get", "post", "patch", "delete"):
        response = getattr(client, method)(_path(route), {}, format="json")
        assert response.status_code in (401, 403, 405), (method, route, response.status_code)
        if response.status_code in (401, 403) and route not in OWN_AUTH and not route.startswith("api/schema") \
                and not route.startswith("api/docs"):
            assert "error" in response.json(), (method, route)


@pytest.mark.parametrize("route", [r for r in ROUTES if r not in VIEWER_WRITES | OWN_AUTH])
def test_viewers_cannot_write_anywhere(route):
    client = APIClient()
    client.force_authenticate(make_user("olivia", role="viewer"))
    for method in ("post", "patch", "put", "delete"):
        response = getattr(client, method)(_path(route), {}, format="json")
        assert response.status_code in (403, 404, 405), (method, route, response.status_code)


def test_token_endpoint_gives_a_token_that_authenticates_api_calls():
    make_user("bot", role="editor", password="s3nha-forte-123")
    client = APIClient()
    assert client.post("/api/auth/token/", {"username": "bot", "password": "errada"}, format="json").status_code == 400
    response = client.post("/api/auth/token/", {"username": "bot", "password": "s3nha-forte-123"}, format="json")
    assert response.status_code == 200 and response.json()["roles"] == ["editor", "viewer"]
    token = response.json()["token"]
    api = APIClient()
    assert api.get("/api/flows/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/flows/").status_code == 200
    assert api.post("/api/flows/", {"name": "Via token"}, format="json").status_code == 201


def test_openapi_schema_needs_a_login():
    client = APIClient()
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_authenticate(make_user("vera", role="viewer"))
    assert client.get("/api/schema/").status_code == 200


# Routes only admins may even read: channels, API keys, credentials' writes aside, webhooks, people.
ADMIN_ONLY = [
    "/api/channels/", "/api/channels/1/", "/api/channels/connect-info/", "/api/channels/1/health/",
    "/api/api-integrations/", "/api/api-integrations/1/", "/api/api-integrations/1/calls/",
    "/api/webhooks/subscriptions/", "/api/webhooks/deliveries/", "/api/users/", "/api/users/1/",
]
ADMIN_ONLY_WRITES = [
    "/api/channels/check/", "/api/channels/1/check/", "/api/channels/1/resume/", "/api/api-integrations/1/revoke/",
    "/api/api-integrations/1/rotate-key/", "/api/credentials/", "/api/users/", "/api/teams/",
]


def test_the_admin_only_list_names_real_routes():
    from django.urls import Resolver404, resolve

    for url in ADMIN_ONLY + ADMIN_ONLY_WRITES:
        try:
            resolve(url)
        except Resolver404:
            pytest.fail(f"{url} is not a route")


@pytest.mark.parametrize("url", ADMIN_ONLY)
def test_editors_cannot_see_admin_pages_data(url):
    client = APIClient()
    client.force_authenticate(make_user("edith", role="editor"))
    response = client.get(url)
    assert response.status_code == 403, (url, response.status_code)
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("url", ADMIN_ONLY_WRITES)
def test_editors_cannot_make_admin_changes(url):
    client = APIClient()
    client.force_authenticate(make_user("edith", role="editor"))
    assert client.post(url, {}, format="json").status_code == 403, url
