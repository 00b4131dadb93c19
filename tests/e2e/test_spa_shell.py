"""The Django view that serves the single-page app shell (no browser needed)."""

from __future__ import annotations

import json

import pytest

from flows import spa


@pytest.fixture
def manifest(tmp_path, monkeypatch):
    path = tmp_path / "build" / ".vite" / "manifest.json"
    path.parent.mkdir(parents=True)
    monkeypatch.setattr(spa, "manifest_path", lambda: path)
    monkeypatch.setattr(spa, "_cache", {"mtime": None, "assets": None})
    return path


def test_shell_includes_the_entry_files_from_the_manifest_and_sets_the_csrf_cookie(client, manifest):
    manifest.write_text(json.dumps({"src/main.tsx": {"file": "assets/main-abc123.js", "isEntry": True,
                                                     "css": ["assets/main-def456.css"]}}))
    for url in ("/", "/login", "/flows/", "/flows/12"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<script type="module" src="/static/build/assets/main-abc123.js"></script>' in html
        assert '<link rel="stylesheet" href="/static/build/assets/main-def456.css">' in html
        assert '<div id="root"></div>' in html
        assert "csrftoken" in response.cookies


def test_shell_follows_a_rebuild(client, manifest):
    manifest.write_text(json.dumps({"src/main.tsx": {"file": "assets/main-1.js", "isEntry": True}}))
    assert "main-1.js" in client.get("/flows/").content.decode()
    manifest.write_text(json.dumps({"src/main.tsx": {"file": "assets/main-2.js", "isEntry": True}}))
    import os

    os.utime(manifest, (manifest.stat().st_atime, manifest.stat().st_mtime + 5))
    assert "main-2.js" in client.get("/flows/").content.decode()


def test_without_a_build_the_shell_says_how_to_build(client, manifest):
    response = client.get("/flows/")
    assert response.status_code == 503
    assert "make frontend" in response.content.decode()


def test_every_route_of_the_frontend_route_table_is_served(client, manifest):
    """frontend/src/routes.tsx is where pages register; the server must serve each one's URL."""
    import re
    from pathlib import Path

    manifest.write_text(json.dumps({"src/main.tsx": {"file": "assets/main.js", "isEntry": True}}))
    source = (Path(__file__).resolve().parents[2] / "frontend" / "src" / "routes.tsx").read_text(encoding="utf-8")
    paths = re.findall(r'path: "(/[^"]*)"', source)
    assert len(paths) >= 15, paths
    for pattern in paths:
        url = re.sub(r"[#:]\w+", "7", pattern)
        assert client.get(url).status_code == 200, url
        assert client.get(url + "/").status_code == 200, url
    assert client.get("/login/?next=/flows/6").status_code == 200
