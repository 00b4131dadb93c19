"""Browser tests: headless system Chromium (Playwright) against a live Fluxo.

The app runs as it does in production: uvicorn (HTTP + websockets), a Celery worker and beat, as
separate processes on pytest-django's test database (PostgreSQL) and Redis, so the browser, the
engine and the test share one committed state (hence ``transactional_db``).

Outside CI, the tests skip when PostgreSQL, Redis, Chromium or the frontend build is missing;
under ``CI=true`` the same conditions fail, so the browser tests always run there.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.workers import ROOT, Proc, process_env, purge_queue, start_beat, start_worker

CHROMIUM = os.environ.get("FLUXO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"
MANIFEST = ROOT / "static" / "build" / ".vite" / "manifest.json"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing() -> str | None:
    if not settings.FLUXO_TEST_HAS_POSTGRES or not settings.FLUXO_TEST_HAS_REDIS:
        return "the browser tests need PostgreSQL and Redis (worker processes share the test database)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (make chromium installs it)"
    if not MANIFEST.exists():
        return "the frontend is not built (make frontend, or cd frontend && npm ci && npm run build)"
    return None


@pytest.fixture(scope="session", autouse=True)
def _browser_prerequisites(request):
    if not any("browser" in item.keywords for item in request.session.items):
        return
    reason = _missing()
    if reason and IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)


def _require_prerequisites():
    reason = _missing()
    if reason:
        if IN_CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, proc: Proc, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise AssertionError(f"the web server exited:\n{proc.output()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the web server did not answer {url} in {timeout}s:\n{proc.output()}")


# The children use the test settings so that users created here (fast MD5 password hashes) can log in.
CHILD_ENV = {"DJANGO_SETTINGS_MODULE": "config.test_settings", "FLUXO_TIMER_INTERVAL": "0.5"}


@pytest.fixture
def live_app(transactional_db):
    """uvicorn + Celery worker + beat on the test database; yields the base URL."""
    _require_prerequisites()
    port = _free_port()
    web = Proc("web", [str(Path(os.sys.executable).parent / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1",
                       "--port", str(port), "--no-access-log"], process_env(**CHILD_ENV))
    worker = start_worker("e2e", **CHILD_ENV)
    beat = start_beat(**CHILD_ENV)
    procs = [web, worker, beat]
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/login", web)
        yield base
    finally:
        for proc in procs:
            proc.stop()
        # Tasks left in the shared queue must not reach the workers of later tests.
        purge_queue()


@pytest.fixture
def browser_page(live_app, request, monkeypatch):
    """A Chromium page on the live app; a screenshot of the last state is kept if the test fails."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are
    # still plain synchronous code, which Django would otherwise refuse.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 950}, locale="pt-BR")
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.base_url = live_app  # type: ignore[attr-defined]
        page.js_errors = errors  # type: ignore[attr-defined]
        yield page
        if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"), full_page=True)
        browser.close()
        # The test's ORM calls ran while Playwright's loop was running, which gives them their own
        # connection; close it here so the test database can be dropped at the end of the session.
        from django.db import connections

        connections.close_all()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
