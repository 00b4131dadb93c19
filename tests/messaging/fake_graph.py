"""A fake Meta Graph API: a real HTTP server on 127.0.0.1 in a thread.

Serves ``POST /{version}/{phone_number_id}/messages``, ``GET /{version}/{waba_id}/message_templates``
(paged with ``limit``/``after`` like Graph) and ``GET /{version}/{phone_number_id}`` (the number's
name, quality rating and messaging limit, as the channel's token check reads them), checks the
bearer token, records every request, and can be told to fail the next calls with a Graph error
code, a 5xx, or a slow answer.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

ERROR_STATUS = {190: 401, 4: 400, 80007: 400, 130429: 400, 131056: 400, 131047: 400, 132001: 404,
                132000: 400, 131026: 400, 131050: 400, 368: 403, 131031: 403, 130497: 403, 131016: 503}


@dataclass
class Failure:
    code: int | None = None  # a Graph error code, or None with http_status for a bare 5xx
    http_status: int | None = None
    delay: float = 0.0  # seconds to wait before answering (slow responses, timeouts)
    times: int = 1


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGraph:
    token: str = "EAAG-fake-token-123456"
    version: str = "v23.0"
    phone_number_id: str = "106540352242922"
    waba_id: str = "419561257915477"
    templates: list[dict[str, Any]] = field(default_factory=list)
    display_phone_number: str = "+55 11 4000-1234"
    verified_name: str = "Loja Exemplo"
    quality_rating: str = "GREEN"
    messaging_limit_tier: str = "TIER_1K"
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    delay: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- control ---
    def fail(self, code: int | None = None, *, http_status: int | None = None, delay: float = 0.0,
             times: int = 1) -> None:
        with self._lock:
            self.failures.append(Failure(code=code, http_status=http_status, delay=delay, times=times))

    def _next_failure(self) -> Failure | None:
        with self._lock:
            if not self.failures:
                return None
            failure = self.failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self.failures.pop(0)
            return failure

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Bodies of the messages POSTed (read receipts included)."""
        return [r.body for r in self.requests if r.method == "POST" and r.path.endswith("/messages")]

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGraph:
        graph = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without this, Nagle + delayed ACK add ~40 ms
            # to every keep-alive request (an artefact of the fake, not of the client).
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                with graph._lock:
                    graph.requests.append(Recorded(method, url.path, parse_qs(url.query), dict(self.headers), body))
                if graph.delay:
                    time.sleep(graph.delay)
                if self.headers.get("Authorization") != f"Bearer {graph.token}":
                    return self._answer(401, _error(190, "Invalid OAuth access token."))
                failure = graph._next_failure()
                if failure is not None:
                    if failure.delay:
                        time.sleep(failure.delay)
                    if failure.code is not None:
                        return self._answer(failure.http_status or ERROR_STATUS.get(failure.code, 400),
                                            _error(failure.code, f"fake error {failure.code}"))
                    if failure.http_status:
                        return self._answer(failure.http_status, {"message": "upstream trouble"})
                parts = url.path.strip("/").split("/")
                if method == "GET" and len(parts) == 2 and parts[0] == graph.version:
                    if parts[1] != graph.phone_number_id:
                        return self._answer(400, _error(100, f"Unsupported get request. Object with ID "
                                                             f"'{parts[1]}' does not exist"))
                    return self._answer(200, {
                        "id": graph.phone_number_id, "display_phone_number": graph.display_phone_number,
                        "verified_name": graph.verified_name, "quality_rating": graph.quality_rating,
                        "messaging_limit_tier": graph.messaging_limit_tier, "throughput": {"level": "STANDARD"},
                        "name_status": "APPROVED", "code_verification_status": "VERIFIED"})
                if len(parts) != 3 or parts[0] != graph.version:
                    return self._answer(404, _error(100, "Unknown path"))
                _, node, edge = parts
                if method == "POST" and edge == "messages" and node == graph.phone_number_id:
                    if body and body.get("status") == "read":
                        return self._answer(200, {"success": True})
                    to = str((body or {}).get("to", ""))
                    return self._answer(200, {"messaging_product": "whatsapp",
                                              "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                                              "messages": [{"id": f"wamid.fake.{uuid.uuid4().hex}"}]})
                if method == "GET" and edge == "message_templates" and node == graph.waba_id:
                    query = parse_qs(url.query)
                    limit = int((query.get("limit") or ["25"])[0])
                    start = int((query.get("after") or ["0"])[0])
                    page = graph.templates[start:start + limit]
                    paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + len(page))}}
                    if start + limit < len(graph.templates):
                        paging["next"] = (f"{graph.base_url}/{graph.version}/{graph.waba_id}/message_templates"
                                          f"?limit={limit}&after={start + limit}")
                    return self._answer(200, {"data": page, "paging": paging})
                return self._answer(404, _error(100, "Unsupported request"))

            def do_POST(self):
                self._handle("POST")

            def do_GET(self):
                self._handle("GET")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGraph:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code,
                      "error_data": {"messaging_product": "whatsapp", "details": message},
                      "fbtrace_id": "AbCdEf"}}
