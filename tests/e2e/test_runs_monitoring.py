"""End to end in the browser: demo flows run through the sandbox phone, one flow fails against a
failing local company API; the failure is found from the dashboard, opened on the canvas, its
error read; the flow is fixed and published, the run retried and completed; per-node counts on
the canvas match the runs."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from flows.models import Flow, FlowRun, RunStep
from tests.e2e.conftest import shot
from tests.e2e.helpers import login, select_node, wait_saved
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


class CompanyApi(BaseHTTPRequestHandler):
    """The company's order API: /broken/... answers 500, /orders/... the order's status."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.startswith("/orders/"):
            body, status = json.dumps({"status": "enviado"}).encode(), 200
        else:
            body, status = b'{"error": "database down"}', 500
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def company_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), CompanyApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def monitored_env(monkeypatch):
    """For the app's processes: a roll-up every 2 s, and the local company API allowed."""
    monkeypatch.setenv("FLUXO_STATS_INTERVAL", "2")
    monkeypatch.setenv("FLUXO_HTTP_ALLOWLIST", "127.0.0.1")


def _order_flow(api_url: str) -> Flow:
    from flows.demo import demo_definition, demo_node
    from flows.services import flow_create, flow_publish

    definition = demo_definition(
        [
            demo_node("pedido", "trigger", 40, 160, event="message", match="keyword", keywords=["ENCOMENDA"]),
            demo_node("erp_pedido", "http_request", 320, 160, method="GET", url=f"{api_url}/broken/123", retries=0,
                      timeout_seconds=5, response_mapping=[{"variable": "status", "path": "$.status"}]),
            demo_node("responde", "send_message", 620, 160, text="Seu pedido está: {{vars.status}}"),
        ],
        [("pedido", "next", "erp_pedido"), ("erp_pedido", "success", "responde")],
    )
    flow = flow_create(name="Consulta de pedido", description="Consulta o ERP", definition=definition)
    flow_publish(flow=flow, revision_number=1, comment="primeira versão")
    return flow


def _say(page, contact: str, text: str) -> None:
    page.click(f".contact:has-text('{contact}')")
    page.fill("#composer input[name=text]", text)
    page.click("#composer button[type=submit]")
    expect(page.locator(".bubble.in .text", has_text=text).first).to_be_visible(timeout=20_000)


def _reload_until(page, locator, text: str, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(locator).to_contain_text(text, timeout=3_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def _toggle_counts_until(page, node_id: str, text: str, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    badge = page.locator(f"[data-testid=counts-{node_id}]")
    while True:
        page.click("[data-testid=toggle-counts]")
        if page.locator("[data-testid=toggle-counts][aria-pressed=true]").count() == 0:
            page.click("[data-testid=toggle-counts]")
        try:
            expect(badge).to_contain_text(text, timeout=3_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def test_find_a_failure_fix_the_flow_and_retry_the_run(monitored_env, company_api, browser_page):
    from flows import demo as flows_demo
    from integrations import demo as integrations_demo
    from messaging import demo as messaging_demo

    page = browser_page
    messaging_demo.seed()
    integrations_demo.seed()
    flows_demo.seed()
    flow = _order_flow(company_api)
    make_user("ana", role="admin", first_name="Ana")

    # The customers, played on the sandbox phone: two demo flows answer, the order lookup fails.
    login(page, "ana")
    page.goto(page.base_url + "/sandbox/")
    _say(page, "Maria Silva", "QUERO")
    question = page.locator(".bubble.out", has_text="qual o tamanho da sua empresa")
    expect(question).to_be_visible(timeout=30_000)
    question.locator("button", has_text="Mais de 100").click()
    expect(page.locator(".bubble.out .text", has_text="Um consultor vai falar")).to_be_visible(timeout=30_000)
    _say(page, "João Souza", "boleto")
    expect(page.locator(".bubble.out .text", has_text="2ª via de boleto")).to_be_visible(timeout=30_000)
    _say(page, "Ana Lima", "ENCOMENDA")
    deadline = time.monotonic() + 30
    while not FlowRun.objects.filter(flow=flow, status=FlowRun.Status.FAILED).exists():
        assert time.monotonic() < deadline, ("the order lookup did not fail",
                                             list(FlowRun.objects.values_list("flow__name", "status", "end_reason")))
        time.sleep(0.3)
    failed = FlowRun.objects.get(flow=flow)

    # The dashboard shows the failure (from the roll-up) and its reason.
    page.goto(page.base_url + "/dashboard")
    _reload_until(page, page.locator("[data-testid=card-failed]"), "1")
    expect(page.locator("[data-testid=card-completed]")).to_contain_text("2")
    reasons = page.locator("[data-testid=dash-reasons]")
    expect(reasons).to_contain_text("erp_pedido")
    expect(reasons).to_contain_text("respondeu 500 (após")
    expect(page.locator("[data-testid=dash-http]")).to_contain_text("127.0.0.1")
    shot(page, "runs-01-dashboard")

    # From the reason to the failed runs, then the run itself.
    reasons.locator("[data-testid=reason-runs]").first.click()
    page.wait_for_url(re.compile(r"/runs\?"))
    rows = page.locator("[data-testid=run-row]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ana Lima")
    expect(rows.first.locator("[data-testid=run-status]")).to_have_attribute("data-status", "failed")
    shot(page, "runs-02-failed-runs")
    rows.first.click()
    page.wait_for_url(re.compile(rf"/runs/{failed.pk}$"))

    # On the canvas at its revision: the failed node marked; its step tells what went wrong.
    expect(page.locator("[data-testid=run-status]")).to_have_attribute("data-status", "failed")
    expect(page.locator("[data-testid=overlay-erp_pedido] .step-badge.outcome-error")).to_be_visible()
    page.locator("[data-testid=node-erp_pedido] header").click()
    error = page.locator("[data-testid=step-error]")
    expect(error).to_contain_text("respondeu 500")
    expect(page.locator("[data-testid=step-input]")).to_contain_text("/broken/123")
    expect(page.locator("[data-testid=run-end-reason]")).to_contain_text("erp_pedido")
    page.click("[data-testid=tab-event]")
    expect(page.locator("[data-testid=run-event]")).to_contain_text("ENCOMENDA")
    page.click("[data-testid=tab-steps]")
    shot(page, "runs-03-run-on-canvas")

    # Fix the flow in the editor: the right URL, published.
    page.locator(".run-header a", has_text="Consulta de pedido").click()
    page.wait_for_url(re.compile(rf"/flows/{flow.pk}$"))
    select_node(page, "erp_pedido")
    url = page.locator("[data-testid=side-panel] [data-testid=field-url]")
    url.fill(f"{company_api}/orders/123")
    wait_saved(page)
    page.click("[data-testid=publish]")
    page.fill("[data-testid=publish-comment]", "corrige a URL do ERP")
    page.click("[data-testid=publish-confirm]")
    expect(page.locator("[data-testid=notice]")).to_be_visible(timeout=15_000)

    # Path counts before the retry: one run entered the lookup and failed there.
    _toggle_counts_until(page, "erp_pedido", "1 falhou aqui")
    expect(page.locator("[data-testid=counts-pedido]")).to_contain_text("1 entrou")
    shot(page, "runs-04-path-counts-before")

    # Retry the run on the published fix: it completes and answers the customer.
    page.goto(page.base_url + f"/runs/{failed.pk}")
    expect(page.locator("[data-testid=use-published]")).to_be_checked()
    page.click("[data-testid=run-retry]")
    expect(page.locator("[data-testid=run-status]")).to_have_attribute("data-status", "completed", timeout=30_000)
    page.click("[data-testid=tab-messages]")
    expect(page.locator("[data-testid=run-messages]")).to_contain_text("Seu pedido está: enviado")
    page.click("[data-testid=tab-actions]")
    expect(page.locator("[data-testid=run-actions-log]")).to_contain_text("ana")
    shot(page, "runs-05-retried")
    failed.refresh_from_db()
    assert failed.status == FlowRun.Status.COMPLETED and failed.revision.revision == 2

    # The counts on the canvas match the runs' steps.
    page.goto(page.base_url + f"/flows/{flow.pk}")
    page.locator("[data-testid=toggle-counts]").wait_for()
    # Entries of the node (the call going out; its answer is a second step of the same visit).
    entered = RunStep.objects.filter(run__flow=flow, node_id="erp_pedido", input__has_key="config").count()
    assert entered == 2
    _toggle_counts_until(page, "erp_pedido", f"{entered} entraram")
    expect(page.locator("[data-testid=port-count-erp_pedido-success]")).to_have_text("1")
    expect(page.locator("[data-testid=counts-responde]")).to_contain_text("1 entrou")
    expect(page.locator("[data-testid=counts-responde]")).to_contain_text("1 terminou aqui")
    expect(page.locator("[data-testid=counts-pedido]")).to_contain_text("1 entrou")
    shot(page, "runs-06-path-counts-after")
    assert page.js_errors == []
