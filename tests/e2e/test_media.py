"""Media in the browser, in pt-BR: on the sandbox phone the person sends a photo to the demo flow
"Fatura em PDF", which answers with the invoice PDF; both files show in the sandbox and in the
editor's test chat."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, shot
from tests.e2e.helpers import login
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

@pytest.fixture
def photo(browser_page):
    """A real JPEG, drawn and encoded by the browser itself (a photo of an electricity bill, say)."""
    import base64

    ARTIFACTS.mkdir(exist_ok=True)
    data_url = browser_page.evaluate("""() => {
        const canvas = document.createElement("canvas");
        canvas.width = 320; canvas.height = 200;
        const ctx = canvas.getContext("2d");
        ctx.fillStyle = "#f5f0e1"; ctx.fillRect(0, 0, 320, 200);
        ctx.fillStyle = "#c0392b"; ctx.font = "28px sans-serif"; ctx.fillText("Conta de luz", 60, 110);
        return canvas.toDataURL("image/jpeg", 0.9);
    }""")
    path = ARTIFACTS / "foto-cliente.jpg"
    path.write_bytes(base64.b64decode(data_url.split(",", 1)[1]))
    return path


def _seed():
    from flows import demo as flows_demo
    from integrations import demo as integrations_demo
    from messaging import demo as messaging_demo

    messaging_demo.seed()
    integrations_demo.seed()
    flows_demo.seed()


def test_a_photo_in_the_sandbox_gets_the_invoice_pdf(browser_page, photo):
    page = browser_page
    _seed()
    make_user("ana", role="editor")
    login(page, "ana")
    page.goto(page.base_url + "/sandbox/")
    expect(page.locator("html")).to_have_attribute("lang", "pt-br")
    page.click(".contact:has-text('Maria Silva')")
    page.fill("#composer input[name=text]", "minha conta de luz")
    page.set_input_files("#attach", str(photo))

    sent = page.locator(".bubble.in .media-image img")
    expect(sent).to_be_visible(timeout=20_000)
    expect(page.locator(".bubble.in .text", has_text="minha conta de luz")).to_be_visible()
    expect(page.locator(".bubble.out .text", has_text="Recebemos sua foto, Maria!")).to_be_visible(timeout=30_000)
    invoice = page.locator(".bubble.out .media-document a.document")
    expect(invoice).to_contain_text("fatura.pdf", timeout=30_000)
    assert page.evaluate("(img) => img.naturalWidth", sent.element_handle()) > 0  # the photo really loaded
    shot(page, "media-01-sandbox-photo-and-invoice")
    href = invoice.get_attribute("href")
    response = page.request.get(page.base_url + href)
    assert response.status == 200 and response.body().startswith(b"%PDF-")
    assert page.js_errors == []


def test_the_test_chat_shows_the_photo_and_the_pdf(browser_page, photo):
    from flows.models import Flow

    page = browser_page
    _seed()
    make_user("ana", role="editor")
    flow = Flow.objects.get(name="Fatura em PDF")
    login(page, "ana")
    page.locator("[data-testid=flow-row]", has_text="Fatura em PDF").locator("[data-testid=list-test-run]").click()
    page.wait_for_url(re.compile(rf"/flows/{flow.pk}\?test$"))
    run_panel = page.locator("[data-testid=test-run-panel]")
    run_panel.locator("[data-testid=test-start]").click()
    run_panel.locator("[data-testid=chat-input]").fill("segue a foto")
    run_panel.locator("[data-testid=chat-file]").set_input_files(str(photo))

    image = run_panel.locator("[data-testid=bubble-in] [data-testid=chat-image]")
    expect(image).to_be_visible(timeout=20_000)
    expect(run_panel.locator("[data-testid=bubble-in]", has_text="segue a foto")).to_be_visible()
    expect(run_panel.locator("[data-testid=bubble-out]", has_text="Recebemos sua foto")).to_be_visible(timeout=30_000)
    document = run_panel.locator("[data-testid=bubble-out] [data-testid=chat-document]")
    expect(document).to_contain_text("fatura.pdf", timeout=30_000)
    expect(run_panel.locator("[data-testid=bubble-out][data-kind=document]", has_text="Sua fatura")).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) > 0
    shot(page, "media-02-test-chat-photo-and-invoice")
    assert page.js_errors == []


def test_the_media_library_page_uploads_and_lists(browser_page, photo):
    page = browser_page
    make_user("ana", role="editor")
    login(page, "ana")
    page.goto(page.base_url + "/media")
    expect(page.locator("[data-testid=media-page] h1")).to_have_text("Mídia", timeout=20_000)
    page.set_input_files("[data-testid=media-upload]", str(photo))
    card = page.locator("[data-testid=media-card]", has_text="foto-cliente.jpg")
    expect(card).to_be_visible(timeout=20_000)
    expect(card).to_contain_text("Imagem")
    shot(page, "media-03-library")
    assert page.js_errors == []
