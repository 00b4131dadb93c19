"""Media sent from a link that Fluxo fetches (send_media with a URL, "Fluxo baixa o arquivo"): a real
"ERP" HTTP server on 127.0.0.1 serves the invoice, the fake Graph API receives the upload and then
the send by media id. The fetch runs as the ``calls`` task does (``message_media_prepare``),
outside any transaction; the contact's later messages wait behind it and still go, in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from messaging.media import message_media_prepare, messages_preparing_requeue
from messaging.models import MediaFile, MediaUpload, Message
from messaging.outbound import messages_drain, outbound_shard
from messaging.services import message_queue_outbound
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"fatura 123 " * 300 + b"\n%%EOF"
JPEG = b"\xff\xd8\xff\xe0" + b"j" * 800
TOKEN = "erp-s3cr3t-token"


class ErpHandler(BaseHTTPRequestHandler):
    """The company's ERP: ``/fatura/<n>.pdf?token=`` (401 without the token), a slow path, a 503 that
    recovers, an HTML login page, an oversized photo and a PDF served as octet-stream."""

    protocol_version = "HTTP/1.1"
    erp: Erp

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        with self.erp.lock:
            self.erp.requests.append({"path": parts.path, "query": query})
            hits = sum(1 for r in self.erp.requests if r["path"] == parts.path)
        if parts.path.startswith("/fatura/"):
            if query.get("token") != [TOKEN]:
                return self._send(401, b'{"error": "token required"}', "application/json")
            return self._send(200, PDF, "application/pdf")
        if parts.path == "/lenta.pdf":
            time.sleep(self.erp.slow_seconds)
            return self._send(200, PDF, "application/pdf")
        if parts.path == "/instavel.pdf":
            if hits <= 1:
                return self._send(503, b"try again", "text/plain")
            return self._send(200, PDF, "application/pdf")
        if parts.path == "/login":
            return self._send(200, b"<html><body>Entre no ERP</body></html>", "text/html; charset=utf-8")
        if parts.path == "/foto-grande.jpg":
            return self._send(200, b"\xff\xd8" + b"x" * (5 * 1024 * 1024 + 10), "image/jpeg")
        if parts.path == "/foto.jpg":
            return self._send(200, JPEG, "image/jpeg")
        if parts.path == "/download":
            return self._send(200, PDF, "application/octet-stream",
                              {"Content-Disposition": 'attachment; filename="boleto-maio.pdf"'})
        return self._send(404, b"not found", "text/plain")


class Erp:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.slow_seconds = 2.0
        handler = type("BoundErpHandler", (ErpHandler,), {"erp": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def erp(settings) -> Iterator[Erp]:
    settings.FLUXO_HTTP_ALLOWLIST = ["127.0.0.1"]  # the ERP listens on loopback, refused unless allow-listed
    server = Erp()
    yield server
    server.stop()


@pytest.fixture
def customer(cloud_channel):
    return make_contact(phone="+5511987654321", channel=cloud_channel)


@pytest.fixture
def quiet_tasks(monkeypatch) -> list[tuple[str, tuple]]:
    """Celery is not running: record what would be queued (the test then does the worker's part)."""
    queued: list[tuple[str, tuple]] = []
    monkeypatch.setattr("messaging.tasks.message_media_prepare_task.delay", lambda *a: queued.append(("prepare", a)))
    monkeypatch.setattr("messaging.tasks.outbound_drain.delay", lambda *a: queued.append(("drain", a)))
    monkeypatch.setattr("messaging.tasks.outbound_drain.apply_async", lambda *a, **k: queued.append(("drain", a)))
    return queued


def queue(customer, kind: str, content: dict, key: str, capture) -> Message:
    with capture(execute=True):
        return message_queue_outbound(contact=customer, conversation=None, kind=kind, content=content,
                                      idempotency_key=key)


def drain(customer, capture) -> None:
    with capture(execute=True):
        messages_drain(shard=outbound_shard(customer.pk))


def fresh(message: Message) -> Message:
    message.refresh_from_db()
    return message


def prepare(message: Message, capture):
    with capture(execute=True):
        return message_media_prepare(message_id=message.pk)


def test_an_erp_invoice_is_fetched_by_fluxo_uploaded_once_and_sent_by_id(
        customer, erp, fake_graph, quiet_tasks, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    link = f"{erp.url}/fatura/123.pdf?token={TOKEN}"
    message = queue(customer, "document", {"document": {"fluxo_fetch": link, "filename": "fatura-123.pdf",
                                                        "caption": "Sua fatura"}}, "inv-1", capture)
    assert fresh(message).status == Message.Status.PREPARING
    assert ("prepare", (message.pk,)) in quiet_tasks and not fake_graph.uploads
    drain(customer, capture)
    assert not fake_graph.sent  # still preparing: nothing goes yet

    assert prepare(message, capture).status == "ready"
    message = fresh(message)
    media = MediaFile.objects.get(direction=MediaFile.Direction.FETCHED)
    assert message.status == Message.Status.QUEUED
    assert message.content["document"] == {"fluxo_media": media.pk, "filename": "fatura-123.pdf",
                                           "caption": "Sua fatura"}
    assert (media.kind, media.mime_type, media.size, media.filename) == ("document", "application/pdf", len(PDF),
                                                                          "fatura-123.pdf")
    assert erp.requests[-1]["query"]["token"] == [TOKEN]  # the URL's token reached the ERP
    [upload] = fake_graph.uploads  # uploaded by the fetch task, not by the drain
    assert upload.body["file"] == ("fatura-123.pdf", "application/pdf", PDF)

    drain(customer, capture)
    [body] = fake_graph.sent
    provider_id = MediaUpload.objects.get(media=media, channel=customer.channel).provider_media_id
    assert body["type"] == "document"
    assert body["document"] == {"id": provider_id, "filename": "fatura-123.pdf", "caption": "Sua fatura"}
    assert "link" not in body["document"] and fresh(message).status == Message.Status.SENT


def test_the_same_file_from_the_same_link_is_not_uploaded_twice(
        customer, erp, fake_graph, quiet_tasks, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    link = f"{erp.url}/fatura/7.pdf?token={TOKEN}"
    first = queue(customer, "document", {"document": {"fluxo_fetch": link}}, "a", capture)
    prepare(first, capture)
    drain(customer, capture)
    second = queue(customer, "document", {"document": {"fluxo_fetch": link}}, "b", capture)
    prepare(second, capture)
    drain(customer, capture)
    assert len(erp.requests) == 2  # fetched each time (the ERP may have changed it) ...
    assert MediaFile.objects.filter(direction=MediaFile.Direction.FETCHED).count() == 1  # ... same bytes, one file
    assert len(fake_graph.uploads) == 1
    assert fake_graph.sent[0]["document"]["id"] == fake_graph.sent[1]["document"]["id"]
    assert fake_graph.sent[0]["document"]["filename"] == "7.pdf"  # the link's name when the node gives none


def test_an_erp_link_without_its_token_fails_with_the_erps_answer(
        customer, erp, fake_graph, quiet_tasks, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    message = queue(customer, "document", {"document": {"fluxo_fetch": f"{erp.url}/fatura/9.pdf"}}, "k", capture)
    outcome = prepare(message, capture)
    message = fresh(message)
    assert outcome.status == "failed" and message.status == Message.Status.FAILED
    assert message.error_code == "media_link_401" and message.attempts == 1  # a 4xx is not retried
    assert "HTTP 401" in message.error and "não enviada" in message.error  # pt-BR, the installation's language
    assert not fake_graph.uploads and not fake_graph.sent


def test_a_slow_erp_fails_the_message_with_its_reason_and_the_next_message_still_goes_after_it(
        customer, erp, fake_graph, quiet_tasks, django_capture_on_commit_callbacks, settings):
    settings.FLUXO_MEDIA_URL_FETCH_SECONDS = 0.3
    settings.FLUXO_MEDIA_URL_FETCH_ATTEMPTS = 2
    erp.slow_seconds = 1.5
    capture = django_capture_on_commit_callbacks
    invoice = queue(customer, "document", {"document": {"fluxo_fetch": f"{erp.url}/lenta.pdf"}}, "slow", capture)
    text = queue(customer, "text", {"text": {"body": "Qualquer dúvida, responda aqui."}}, "after", capture)
    drain(customer, capture)
    assert not fake_graph.sent and fresh(text).status == Message.Status.QUEUED  # it waits behind the invoice

    started = time.monotonic()
    first = prepare(invoice, capture)
    assert time.monotonic() - started < 1.4  # the timeout bounds the wait, not the ERP
    assert first.status == "retry" and first.retry_in > 0
    assert fresh(invoice).status == Message.Status.PREPARING and "0.3" in invoice.error
    Message.objects.filter(pk=invoice.pk).update(next_attempt_at=timezone.now())  # the backoff has passed
    assert prepare(invoice, capture).status == "failed"
    invoice = fresh(invoice)
    assert invoice.status == Message.Status.FAILED and invoice.error_code == "media_link_timeout"
    assert "2 tentativas" in invoice.error and "0.3 segundos" in invoice.error
    assert "/lenta.pdf" in invoice.error
    assert ("drain", (outbound_shard(customer.pk),)) in quiet_tasks  # the failure woke the contact's drain

    drain(customer, capture)
    [body] = fake_graph.sent
    assert body["type"] == "text" and fresh(text).status == Message.Status.SENT


def test_a_transient_error_is_retried_then_the_file_goes(
        customer, erp, fake_graph, quiet_tasks, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    message = queue(customer, "document", {"document": {"fluxo_fetch": f"{erp.url}/instavel.pdf"}}, "k", capture)
    assert prepare(message, capture).status == "retry"
    assert fresh(message).error_code == "media_link_503"
    assert prepare(message, capture).status == "skipped"  # not due yet: the backoff is kept
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert prepare(message, capture).status == "ready"
    drain(customer, capture)
    assert fresh(message).status == Message.Status.SENT and fresh(message).error == ""


def test_a_private_address_is_refused_by_the_ssrf_guard_unless_allow_listed(
        customer, erp, fake_graph, quiet_tasks, django_capture_on_commit_callbacks, settings):
    capture = django_capture_on_commit_callbacks
    settings.FLUXO_HTTP_ALLOWLIST = []
    link = f"{erp.url}/fatura/1.pdf?token={TOKEN}"
    refused = queue(customer, "document", {"document": {"fluxo_fetch": link}}, "k1", capture)
    prepare(refused, capture)
    refused = fresh(refused)
    assert refused.status == Message.Status.FAILED and refused.error_code == "ssrf_blocked"
    assert "FLUXO_HTTP_ALLOWLIST" in refused.error and TOKEN not in refused.error
    assert not erp.requests  # never connected

    settings.FLUXO_HTTP_ALLOWLIST = [erp.url.removeprefix("http://")]  # 127.0.0.1:<port>
    allowed = queue(customer, "document", {"document": {"fluxo_fetch": link}}, "k2", capture)
    assert prepare(allowed, capture).status == "ready"


@pytest.mark.parametrize("kind,path,code,words", [
    ("image", "/foto-grande.jpg", "media_too_large", "5.0 MB"),
    ("document", "/login", "media_type", "text/html"),
    ("sticker", "/foto.jpg", "media_type", "image/webp"),
])
def test_a_file_whatsapp_would_refuse_fails_with_the_reason(
        customer, erp, fake_graph, quiet_tasks, django_capture_on_commit_callbacks, kind, path, code, words):
    capture = django_capture_on_commit_callbacks
    message = queue(customer, kind, {kind: {"fluxo_fetch": f"{erp.url}{path}"}}, "k", capture)
    prepare(message, capture)
    message = fresh(message)
    assert message.status == Message.Status.FAILED and message.error_code == code
    assert words in message.error and message.attempts == 1
    assert not MediaFile.objects.filter(direction=MediaFile.Direction.FETCHED).exists() and not fake_graph.uploads


def test_an_octet_stream_download_takes_its_type_and_name_from_the_servers_headers(
        customer, erp, fake_graph, quiet_tasks, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    message = queue(customer, "document", {"document": {"fluxo_fetch": f"{erp.url}/download?id=5"}}, "k", capture)
    assert prepare(message, capture).status == "ready"
    media = MediaFile.objects.get(direction=MediaFile.Direction.FETCHED)
    assert (media.mime_type, media.filename) == ("application/pdf", "boleto-maio.pdf")


def test_meta_fetches_the_link_itself_when_the_node_says_so(
        customer, fake_graph, quiet_tasks, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    message = queue(customer, "document", {"document": {"link": "https://cdn.example.com/catalogo.pdf"}}, "k",
                    capture)
    assert fresh(message).status == Message.Status.QUEUED and not [q for q in quiet_tasks if q[0] == "prepare"]
    drain(customer, capture)
    assert fake_graph.sent[0]["document"] == {"link": "https://cdn.example.com/catalogo.pdf"}
    assert not fake_graph.uploads


def test_a_lost_fetch_task_is_queued_again_and_a_dead_one_does_not_hold_the_contact_forever(
        customer, erp, fake_graph, quiet_tasks, django_capture_on_commit_callbacks, settings):
    capture = django_capture_on_commit_callbacks
    message = queue(customer, "document", {"document": {"fluxo_fetch": f"{erp.url}/fatura/2.pdf"}}, "k", capture)
    quiet_tasks.clear()
    now = timezone.now()
    assert messages_preparing_requeue(now=now, grace_seconds=60) == 0  # just queued: its task is on the way
    Message.objects.filter(pk=message.pk).update(next_attempt_at=now - timedelta(minutes=5))
    assert messages_preparing_requeue(now=now, grace_seconds=60) == 1
    assert quiet_tasks == [("prepare", (message.pk,))]
    # Each try died with its worker (attempts counted, the lease ran out): past the limit it fails.
    Message.objects.filter(pk=message.pk).update(attempts=settings.FLUXO_MEDIA_URL_FETCH_ATTEMPTS,
                                                 next_attempt_at=now - timedelta(minutes=5))
    assert prepare(message, capture).status == "failed"
    assert fresh(message).error_code == "media_link_lost"


def test_the_fetch_task_runs_on_the_calls_queue():
    from config.celery import app

    assert app.conf.task_routes["messaging.tasks.message_media_prepare_task"] == {"queue": "calls"}
