"""/api/docs/ works without internet: Swagger UI's files come from Fluxo's own static files
(drf-spectacular-sidecar), never from a CDN."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_the_docs_page_loads_every_asset_from_fluxo(client):
    make_user("vera", role="viewer")
    client.login(username="vera", password="s3nha-forte-123")
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in url for url in assets), assets
    for url in assets:
        assert url.startswith("/"), f"{url} is not served by Fluxo"
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html
