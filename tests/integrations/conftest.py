"""Fixtures for the integrations tests: real HTTP servers on 127.0.0.1 (port 0, one thread each),
runs over real model rows, and a name resolver the SSRF tests inject through settings.

Servers:
* ``company_api`` — a shop/ERP API: orders, 4xx, 5xx-then-success, slow, oversized, redirects, echo.
* ``openai_fake`` — ``POST /v1/chat/completions`` checking the bearer key; modes ok/fail/slow/bad.
* ``webhook_receiver`` — verifies each delivery's signature; can fail on purpose.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from flows.engine.context import StepContext
from flows.engine.runtime import DefaultRuntime
from flows.models import FlowRun
from integrations.webhooks import signing

OPENAI_KEY = "sk-test-abcdef0123456789"
ERP_TOKEN = "erp-token-s3cr3t-0123456789"

# --- an injectable resolver (FLUXO_HTTP_RESOLVER = "tests.integrations.conftest.fake_resolve") -------

FAKE_DNS: dict[str, list[str]] = {}


def fake_resolve(host: str, port: int) -> list[str]:
    """Resolve from FAKE_DNS (what a hostile DNS server could answer), else refuse."""
    if host in FAKE_DNS:
        return list(FAKE_DNS[host])
    raise OSError(f"fake DNS: no record for {host}")


@pytest.fixture
def fake_dns(settings) -> Iterator[dict[str, list[str]]]:
    settings.FLUXO_HTTP_RESOLVER = "tests.integrations.conftest.fake_resolve"
    FAKE_DNS.clear()
    yield FAKE_DNS
    FAKE_DNS.clear()


@pytest.fixture(autouse=True)
def fast_backoff(settings):
    settings.FLUXO_HTTP_BACKOFF_BASE = 0.01
    settings.FLUXO_HTTP_ALLOWLIST = []
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def fresh_compiled_graphs():
    """The engine caches compiled revisions by primary key; SQLite reuses the keys of rolled-back
    test rows, so start each test with an empty cache (harmless on PostgreSQL)."""
    from flows.engine import graph

    graph._cache.clear()


@pytest.fixture
def allow_local(settings):
    """The tests' servers listen on 127.0.0.1, which the guard refuses unless allow-listed."""
    settings.FLUXO_HTTP_ALLOWLIST = ["127.0.0.1"]


@pytest.fixture
def eager_celery():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


# --- servers ------------------------------------------------------------------------------------


class Server:
    def __init__(self, handler_cls: type[BaseHTTPRequestHandler]):
        self.requests: list[dict[str, Any]] = []
        self.state: dict[str, Any] = {}
        self.lock = threading.Lock()
        handler = type("BoundHandler", (handler_cls,), {"server_ref": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def hits(self, path_prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].startswith(path_prefix)]


class BaseHandler(BaseHTTPRequestHandler):
    server_ref: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _record(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        entry = {"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                 "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        with self.server_ref.lock:
            self.server_ref.requests.append(entry)
        return entry

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class CompanyApiHandler(BaseHandler):
    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def _handle(self):
        request = self._record()
        path, state = request["path"], self.server_ref.state
        if path.startswith("/orders/"):
            order_id = path.rsplit("/", 1)[-1]
            if order_id == "404":
                return self.send_json(404, {"error": "order not found"})
            return self.send_json(200, {"id": order_id, "status": "shipped", "items": [{"sku": "A1", "qty": 2},
                                                                                     {"sku": "B7", "qty": 1}],
                                        "customer": {"tier": "premium", "name": "Maria"}})
        if path == "/flaky":
            with self.server_ref.lock:
                state["flaky"] = state.get("flaky", 0) + 1
                count = state["flaky"]
            if count <= state.get("fail_times", 2):
                return self.send_json(503, {"error": "try again"})
            return self.send_json(200, {"ok": True, "attempt": count})
        if path == "/always-500":
            return self.send_json(500, {"error": "boom"})
        if path == "/slow":
            time.sleep(float(state.get("delay", 1.5)))
            return self.send_json(200, {"ok": True})
        if path == "/big":
            blob = b"x" * int(state.get("big_size", 2 * 1024 * 1024))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            if not state.get("hide_length"):
                self.send_header("Content-Length", str(len(blob)))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(blob)
            return None
        if path == "/redirect":
            self.send_response(302)
            self.send_header("Location", request["query"]["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path == "/echo":
            body = request["body"].decode()
            return self.send_json(200, {"method": request["method"], "headers": request["headers"],
                                        "query": request["query"], "body": body})
        return self.send_json(404, {"error": "no such path"})


class OpenAIFakeHandler(BaseHandler):
    def do_POST(self):
        request = self._record()
        state = self.server_ref.state
        if request["path"] != "/v1/chat/completions":
            return self.send_json(404, {"error": "not found"})
        if request["headers"].get("authorization") != f"Bearer {OPENAI_KEY}":
            return self.send_json(401, {"error": {"message": "Incorrect API key provided"}})
        mode = state.get("mode", "ok")
        if mode == "fail":
            return self.send_json(500, {"error": {"message": "internal"}})
        if mode == "slow":
            time.sleep(float(state.get("delay", 1.5)))
        if mode == "bad":
            return self.send_json(200, {"unexpected": True})
        payload = json.loads(request["body"])
        last = payload["messages"][-1]["content"]
        return self.send_json(200, {
            "id": "chatcmpl-1", "object": "chat.completion", "model": payload["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"Resposta para: {last}"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42},
        })


class WebhookReceiverHandler(BaseHandler):
    def do_POST(self):
        request = self._record()
        state = self.server_ref.state
        header = request["headers"].get(signing.SIGNATURE_HEADER.lower(), "")
        request["verified"] = bool(state.get("secret")) and signing.verify(state["secret"], header, request["body"])
        if state.get("delay"):
            time.sleep(float(state["delay"]))
        if state.get("fail"):
            return self.send_json(500, {"error": "receiver down on purpose"})
        if not request["verified"]:
            return self.send_json(401, {"error": "bad signature"})
        return self.send_json(200, {"received": True})


def _server(handler) -> Iterator[Server]:
    server = Server(handler)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def company_api() -> Iterator[Server]:
    yield from _server(CompanyApiHandler)


@pytest.fixture
def openai_fake() -> Iterator[Server]:
    yield from _server(OpenAIFakeHandler)


@pytest.fixture
def webhook_receiver() -> Iterator[Server]:
    yield from _server(WebhookReceiverHandler)


# --- runs and step contexts over real rows --------------------------------------------------------


@pytest.fixture
def flow_run(db):
    """A run of a one-node published flow for a contact in the service window."""
    from tests.factories import chain, make_contact, make_flow, node

    contact = make_contact(name="Maria Silva", attributes={"tier": "premium"})
    flow = make_flow(chain(node("t", "trigger", event="message", match="any")))
    return FlowRun.objects.create(flow=flow, revision=flow.published_revision, contact=contact,
                                  context={"trigger": {"text": "oi", "order_id": "123"}, "vars": {}})


def step_context(run: FlowRun, node_type: str, config: dict[str, Any], *, runtime=None, seq: int = 1) -> StepContext:
    return StepContext(run=run, node={"id": f"n-{node_type}", "type": node_type, "config": config},
                       runtime=runtime or DefaultRuntime(), step_seq=seq)


def execute(run: FlowRun, node_type: str, config: dict[str, Any], **kwargs):
    """Run one node type's execute() the way the interpreter does (config validated by its schema)."""
    import jsonschema

    from flows.nodes import registry
    from tests.calls import execute_with_call

    kind = registry.get(node_type)
    jsonschema.validate(config, kind.config_schema)
    return execute_with_call(kind, step_context(run, node_type, config, **kwargs))


def run_flow(definition: dict[str, Any], contact, *, trigger: dict[str, Any] | None = None) -> FlowRun:
    """Publish ``definition`` and run it through the real interpreter from its trigger ``t``."""
    from flows.engine.interpreter import Interpreter
    from flows.validation import definition_validate
    from tests.factories import make_flow

    result = definition_validate(definition)
    assert result.valid, [i.as_dict() for i in result.issues]
    from tests.calls import calls_settle

    flow = make_flow(definition)
    run = Interpreter().run_start(flow=flow, revision=flow.published_revision, contact=contact, trigger_node_id="t",
                                  trigger_payload=trigger or {"text": "oi"})
    calls_settle()  # outside calls are made by the calls worker: here, at once
    run.refresh_from_db()
    return run
