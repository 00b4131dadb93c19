"""The sandbox phone in a real browser (headless Chromium) against a live Fluxo: uvicorn, a Celery
worker and beat on the test database. A person types a keyword, sees the buttons Fluxo sent, taps
one and gets the flow's answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import browser_page, live_app  # noqa: F401  (the browser fixtures)
from tests.e2e.helpers import login
from tests.factories import make_flow, make_user
from tests.messaging.test_sandbox_e2e import definition_with_buttons

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def test_play_the_customer_on_the_sandbox_phone(browser_page):  # noqa: F811 (the fixture imported above)
    from messaging import demo

    page = browser_page
    demo.seed()
    make_flow(definition_with_buttons(), name="Botões")
    make_user("ana", role="editor")

    login(page, "ana")  # the app's login page; the session then opens the sandbox page
    page.goto(page.base_url + "/sandbox/")
    page.click(".contact:has-text('Maria Silva')")
    page.fill("#composer input[name=text]", "planos")
    page.click("#composer button[type=submit]")

    expect(page.locator(".bubble.in .text").first).to_have_text("planos", timeout=20_000)
    question = page.locator(".bubble.out", has_text="Qual plano?")
    expect(question).to_be_visible(timeout=30_000)
    question.locator("button", has_text="Pro").click()
    expect(page.locator(".bubble.out .text", has_text="Você escolheu Pro")).to_be_visible(timeout=30_000)
    assert page.js_errors == []
