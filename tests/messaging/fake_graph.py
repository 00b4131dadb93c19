"""A fake Meta Graph API: a real HTTP server on 127.0.0.1 in a thread.

Serves ``POST /{version}/{phone_number_id}/messages``, ``GET /{version}/{waba_id}/message_templates``
(paged with ``limit``/``after`` like Graph) and ``GET /{version}/{phone_number_id}`` (the number's
name, quality rating and messaging limit, as the channel's token check reads them), checks the
bearer token, records every request, and can be told to fail the next calls with a Graph error
code, a 5xx, or a slow answer.

Media (Meta's ``Media`` endpoints): ``POST /{version}/{phone_number_id}/media`` (multipart upload,
answers ``{"id"}``), ``GET /{version}/{media_id}`` (url, mime_type, sha256, file_size; an unknown or
expired id answers Graph's error 100), the download URL it hands out (``GET /media-download/{id}``,
Bearer token required: 401 otherwise, like lookaside.fbsbx.com) and ``DELETE /{version}/{media_id}``.
``add_media()`` stores a file as if a customer had sent it; ``expire()`` makes an id unknown.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
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
class StoredMedia:
    content: bytes
    mime_type: str
    filename: str = ""
    expired: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def parse_multipart(content_type: str, raw: bytes) -> dict[str, tuple[str, str, bytes]]:
    """A multipart/form-data body as ``{field: (filename, content type, bytes)}``."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[str(name)] = (part.get_filename() or "", part.get_content_type(), part.get_payload(decode=True) or b"")
    return fields


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
    media: dict[str, StoredMedia] = field(default_factory=dict)
    declared_sizes: dict[str, int] = field(default_factory=dict)  # media id -> file_size to announce (lies)

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

    def add_media(self, content: bytes, mime_type: str, *, filename: str = "", media_id: str | None = None) -> str:
        """Store a file as Meta would for a customer's message; returns its media id."""
        media_id = media_id or str(int(uuid.uuid4().int % 10**15))
        with self._lock:
            self.media[media_id] = StoredMedia(content=content, mime_type=mime_type, filename=filename)
        return media_id

    def expire(self, media_id: str) -> None:
        with self._lock:
            self.media[media_id].expired = True

    @property
    def uploads(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/media")]

    @property
    def downloads(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("/media-download/")]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Bodies of the messages POSTed, read receipts (``status: read``) left out."""
        return [body for body in self.sent if (body or {}).get("status") != "read"]

    @property
    def receipts(self) -> list[dict[str, Any]]:
        return [body for body in self.sent if (body or {}).get("status") == "read"]

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

            def _binary(self, status: int, content: bytes, mime_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", mime_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def _handle(self, method: str) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = self.headers.get("Content-Type") or ""
                if content_type.startswith("multipart/form-data"):
                    body: Any = parse_multipart(content_type, raw)
                else:
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
                if len(parts) == 2 and parts[0] == "media-download" and method == "GET":
                    stored = graph.media.get(parts[1])
                    if stored is None or stored.expired:
                        return self._answer(404, _error(100, "media URL expired"))
                    return self._binary(200, stored.content, stored.mime_type)
                if method == "POST" and len(parts) == 3 and parts[0] == graph.version and parts[2] == "media":
                    if parts[1] != graph.phone_number_id:
                        return self._answer(400, _error(100, "Unknown phone number id"))
                    fields = body if isinstance(body, dict) else {}
                    if "file" not in fields or fields.get("messaging_product", ("", "", b""))[2] != b"whatsapp":
                        return self._answer(400, _error(100, "(#100) The parameter file is required."))
                    filename, mime, content = fields["file"]
                    declared = fields.get("type", ("", "", b""))[2].decode() or mime
                    media_id = graph.add_media(content, declared, filename=filename)
                    return self._answer(200, {"id": media_id})
                if len(parts) == 2 and parts[0] == graph.version and parts[1] in graph.media:
                    stored = graph.media[parts[1]]
                    if stored.expired:
                        return self._answer(404, _error(100, f"Unsupported get request. Object with ID "
                                                             f"'{parts[1]}' does not exist"))
                    if method == "DELETE":
                        stored.expired = True
                        return self._answer(200, {"success": True})
                    if method == "GET":
                        size = graph.declared_sizes.get(parts[1], len(stored.content))
                        return self._answer(200, {
                            "messaging_product": "whatsapp", "id": parts[1], "mime_type": stored.mime_type,
                            "sha256": stored.sha256, "file_size": str(size),
                            "url": f"{graph.base_url}/media-download/{parts[1]}?ext=1&hash=x"})
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

            def do_DELETE(self):
                self._handle("DELETE")

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
