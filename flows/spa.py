"""Serves the single-page app shell (login, flow list, editor) with the Vite build's entry files.

The Vite build writes ``static/build/.vite/manifest.json``; the entry's JS and CSS file names
are content-hashed, so the manifest is the only way to know them. It is re-read when it changes
on disk, which keeps ``npm run build`` during development working without a restart.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.csrf import ensure_csrf_cookie

ENTRY = "src/main.tsx"
# First path segments the app routes in the browser (frontend/src/routes.tsx registers the pages;
# tests/e2e/test_spa_shell.py checks that every one of its routes is served here).
SPA_PREFIXES = ("login", "flows", "runs", "dashboard", "contacts", "templates", "segments", "campaigns", "media",
                "channels", "integrations", "teams", "assistants", "settings")
BUILD_PREFIX = "build/"
_cache: dict[str, object] = {"mtime": None, "assets": None}


def manifest_path() -> Path:
    return Path(settings.BASE_DIR) / "static" / "build" / ".vite" / "manifest.json"


def entry_assets() -> dict[str, list[str]] | None:
    """URLs of the entry script and stylesheets, or None when the frontend is not built."""
    path = manifest_path()
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    if _cache["mtime"] != mtime:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        entry = manifest.get(ENTRY) or next((item for item in manifest.values() if item.get("isEntry")), None)
        assets = None
        if entry:
            assets = {
                "scripts": [static(BUILD_PREFIX + entry["file"])],
                "styles": [static(BUILD_PREFIX + css) for css in entry.get("css", [])],
            }
        _cache.update(mtime=mtime, assets=assets)
    return _cache["assets"]  # type: ignore[return-value]


@ensure_csrf_cookie
def spa_view(request, *args, **kwargs):
    """Every client-side route renders the same shell; the app routes in the browser."""
    assets = entry_assets()
    status = 200 if assets else 503
    return render(request, "flows/spa.html", {"assets": assets}, status=status)
