"""Run-time messages (end reasons, step errors, refused sends) are stored in the installation's
language, FLUXO_RUN_LANGUAGE (default pt-BR), whatever language the caller has active: a worker
and a web request write the same text. Node types and ports are named by their labels."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from flows.models import FlowRun
from tests.factories import chain, definition, edge, make_contact, make_flow, make_template, make_user, node
from tests.flows.helpers import inbound


class _Broken(BaseHTTPRequestHandler):
    """A company API that answers 500 to everything."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = b'{"error": "boom"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def broken_api(settings):
    """A real local server answering 500, reachable by flows (127.0.0.1 allow-listed)."""
    settings.FLUXO_HTTP_ALLOWLIST = ["127.0.0.1"]
    settings.FLUXO_HTTP_BACKOFF_BASE = 0.01
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _erp_flow(url: str):
    return make_flow(definition(
        [node("t", "trigger", event="message", match="any"),
         node("erp_pedido", "http_request", method="GET", url=url + "/broken/123", retries=0),
         node("ok", "end")],
        [edge("t", "erp_pedido"), edge("erp_pedido", "ok", "success")],
    ))


def _last_run(contact) -> FlowRun:
    return FlowRun.objects.filter(contact=contact).latest("id")


@pytest.mark.django_db
def test_a_failing_http_request_stores_a_pt_br_end_reason_by_default(broken_api, channel):
    _erp_flow(broken_api)
    contact = make_contact(channel=channel)
    with translation.override("en"):  # an English web request (or any caller) does not decide
        inbound(contact, "oi")
    run = _last_run(contact)
    assert run.status == FlowRun.Status.FAILED
    assert run.end_reason == (f"o bloco 'erp_pedido' (Requisição HTTP) falhou e a saída 'Falha' não leva a lugar "
                              f"nenhum: {broken_api}/broken/123 respondeu 500 (após 1 tentativa)")
    step = run.steps.get(node_id="erp_pedido", outcome="error")
    assert step.output["code"] == "http_status"  # codes never change with the language
    assert step.error == f"{broken_api}/broken/123 respondeu 500 (após 1 tentativa)"


@pytest.mark.django_db
def test_fluxo_run_language_en_stores_english(broken_api, channel, settings):
    settings.FLUXO_RUN_LANGUAGE = "en"
    _erp_flow(broken_api)
    contact = make_contact(channel=channel)
    with translation.override("pt-br"):
        inbound(contact, "oi")
    run = _last_run(contact)
    assert run.end_reason == (f"node 'erp_pedido' (HTTP request) failed and its 'Failure' port leads nowhere: "
                              f"{broken_api}/broken/123 answered 500 (after 1 attempt)")
    assert run.steps.get(node_id="erp_pedido", outcome="error").output["code"] == "http_status"


@pytest.mark.django_db
def test_the_plural_follows_the_number_of_attempts(broken_api, channel):
    make_flow(definition(
        [node("t", "trigger", event="message", match="any"),
         node("erp", "http_request", method="GET", url=broken_api + "/broken/1", retries=2),
         node("ko", "end", status="failed", reason="erp fora")],
        [edge("t", "erp"), edge("erp", "ko", "failure")],
    ))
    contact = make_contact(channel=channel)
    inbound(contact, "oi")
    run = _last_run(contact)
    assert run.context["vars"]["last_error"] == f"{broken_api}/broken/1 respondeu 500 (após 3 tentativas)"


@pytest.mark.django_db
def test_a_refused_send_to_an_opted_out_contact_gives_a_pt_br_reason(channel):
    make_template("promo", body="Oferta da semana!", category="MARKETING")
    make_flow(definition(
        [node("t", "trigger", event="message", match="any"),
         node("s", "send_template", template="promo", language="pt_BR"), node("ok", "end")],
        [edge("t", "s"), edge("s", "ok")],
    ))
    contact = make_contact(channel=channel)
    contact.consent = {"marketing": {"state": "opted_out", "at": "2026-11-02T00:00:00Z", "source": "test"}}
    contact.save()
    with translation.override("en"):
        inbound(contact, "oi")
    run = _last_run(contact)
    step = run.steps.get(node_id="s")
    assert step.output["code"] == "opted_out"
    assert step.error == ("este contato recusou mensagens de marketing; nunca envie templates de marketing "
                          "para ele")
    assert run.end_reason == ("o bloco 's' (Enviar template) falhou e a saída 'Falha' não leva a lugar nenhum: "
                              "este contato recusou mensagens de marketing; nunca envie templates de marketing "
                              "para ele")


@pytest.mark.django_db
def test_the_run_view_api_returns_the_stored_language_whatever_the_readers(broken_api, channel):
    _erp_flow(broken_api)
    contact = make_contact(channel=channel)
    inbound(contact, "oi")
    run = _last_run(contact)
    api = APIClient()
    api.force_authenticate(make_user("vera", role="viewer"))
    for language in ("en", "pt-BR"):
        body = api.get(f"/api/runs/{run.pk}/", HTTP_ACCEPT_LANGUAGE=language).json()
        assert body["end_reason"].startswith("o bloco 'erp_pedido' (Requisição HTTP) falhou")
        assert body["end_reason"].endswith("respondeu 500 (após 1 tentativa)")
        listed = api.get("/api/runs/", HTTP_ACCEPT_LANGUAGE=language).json()
        assert [r["end_reason"] for r in listed["results"] if r["id"] == run.pk] == [run.end_reason]


@pytest.mark.django_db
def test_engine_caps_and_operator_actions_speak_the_run_language(channel, settings):
    from flows.run_actions import run_action_request

    settings.FLUXO_MAX_STEPS_PER_EVENT = 5
    make_flow(chain(node("t", "trigger", event="message", match="keyword", keywords=["longo"]),
                    *[node(f"n{i}", "set_variable", assignments=[{"target": f"vars.v{i}", "value": str(i)}])
                      for i in range(8)]))
    contact = make_contact(channel=channel)
    inbound(contact, "longo")
    looped = _last_run(contact)
    assert looped.end_reason == "interrompido após 5 passos em um só evento: o fluxo fica em loop sem esperar"

    make_flow(definition([node("t2", "trigger", event="message", match="keyword", keywords=["espera"]),
                          node("w", "wait_for_reply", timeout={"value": 1, "unit": "hours"})], [edge("t2", "w")]), name="Espera")
    other = make_contact(channel=channel)
    inbound(other, "espera")
    waiting = _last_run(other)
    assert waiting.status == FlowRun.Status.WAITING
    with translation.override("en"):  # the operator's web request is in English
        run_action_request(run=waiting, action="cancel", user=make_user("ana"))
    from flows.services import contact_events_process

    contact_events_process(contact_id=other.pk)
    waiting.refresh_from_db()
    assert waiting.status == FlowRun.Status.CANCELLED and waiting.end_reason == "cancelada por ana"
