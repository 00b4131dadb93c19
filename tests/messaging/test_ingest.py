"""The web side of Meta's webhook (messaging.ingest): checks on the raw bytes before anything is parsed,
signatures bound to the channel an update names, and a body that cannot be read kept, never a 5xx."""

from __future__ import annotations

import json

import pytest

from messaging.models import WebhookDelivery, WhatsAppCloudChannel
from tests.messaging.conftest import APP_SECRET, meta_body, post_webhook, sign, webhook_examples

pytestmark = pytest.mark.django_db

OTHER_SECRET = "another-channels-secret-0987654321"


@pytest.fixture
def other_channel(db):
    return WhatsAppCloudChannel.objects.create(
        name="Outra loja", phone_number_id="999000111222", waba_id="555666777", access_token="EAAG-other-token-1",
        app_secret=OTHER_SECRET, graph_api_base_url="http://127.0.0.1:9", graph_api_version="v23.0")


def _for(channel) -> dict:
    payload = json.loads(json.dumps(webhook_examples()["Text Message"]))
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = channel.phone_number_id
    return payload


def test_an_update_naming_a_channel_needs_that_channels_secret(client, cloud_channel, other_channel):
    """Another channel's (valid) app secret does not open this channel's door."""
    body = meta_body(_for(cloud_channel))
    assert post_webhook(client, body, secret=OTHER_SECRET).status_code == 403
    assert post_webhook(client, body, secret=APP_SECRET).status_code == 200
    assert WebhookDelivery.objects.get().channel_id == cloud_channel.pk


def test_the_app_level_secret_opens_every_channel(client, cloud_channel, other_channel, settings):
    settings.WHATSAPP_APP_SECRET = "the-meta-apps-own-secret-123"
    body = meta_body(_for(other_channel))
    assert post_webhook(client, body, secret="the-meta-apps-own-secret-123").status_code == 200
    assert WebhookDelivery.objects.get().channel_id == other_channel.pk


def test_an_update_naming_no_known_channel_is_kept_with_any_valid_secret(client, cloud_channel, other_channel):
    payload = _for(cloud_channel)
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "123123123"
    assert post_webhook(client, meta_body(payload), secret=OTHER_SECRET).status_code == 200
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.UNKNOWN_CHANNEL


def test_a_new_channels_secret_works_on_its_first_webhook(client, cloud_channel):
    """The secrets are cached per process; one that matches nothing reloads them before refusing."""
    from messaging.ingest import secrets_current

    secrets_current()  # cached now, without the channel below
    fresh = WhatsAppCloudChannel.objects.create(
        name="Nova", phone_number_id="444555666", waba_id="1", access_token="EAAG-new-token-1",
        app_secret="brand-new-secret-000111", graph_api_base_url="http://127.0.0.1:9")
    assert post_webhook(client, meta_body(_for(fresh)), secret="brand-new-secret-000111").status_code == 200


@pytest.mark.parametrize("body", [
    b'{"entry": [' * 5000 + b"]" * 5000,       # deeper than any parser bound
    b'{"object": "x", "entry": [{"changes": 7}]}',
    b'{"entry": "a string", "object": 1}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"metadata": "x"}}]}]}',
    b'{"text": "nul \x00 byte"}',                 # a raw NUL: not JSON, and no text column takes it
    b'{"text": "\\u0000 and \\ud800"}',            # valid JSON escapes the database refuses
    b"\xff\xfe not utf-8",
    b"[1, 2, 3]",
])
def test_a_validly_signed_body_of_any_shape_is_kept_and_acknowledged(client, cloud_channel, body):
    from messaging.webhooks import webhook_delivery_process

    response = post_webhook(client, body, signature=sign(body))
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    webhook_delivery_process(delivery_id=delivery.pk)  # and its processing never raises either
    delivery.refresh_from_db()
    assert delivery.state in (WebhookDelivery.State.UNREADABLE, WebhookDelivery.State.UNKNOWN_CHANNEL,
                              WebhookDelivery.State.PROCESSED)


def test_nothing_is_parsed_before_the_signature_is_checked(client, cloud_channel, monkeypatch):
    parsed = []
    monkeypatch.setattr("messaging.ingest.payload_parse", lambda body: parsed.append(body))
    deep = b"[" * 100000 + b"]" * 100000
    assert post_webhook(client, deep, signature="sha256=" + "0" * 64).status_code == 403
    assert post_webhook(client, deep, signature=None, secret=None).status_code == 401
    assert parsed == [] and not WebhookDelivery.objects.exists()


def test_a_body_larger_than_the_limit_is_refused_with_413(client, cloud_channel, settings):
    settings.WHATSAPP_WEBHOOK_MAX_BYTES = 1000
    body = meta_body({"object": "x", "pad": "y" * 2000})
    assert post_webhook(client, body).status_code == 413
    assert not WebhookDelivery.objects.exists()


# --- the ASGI endpoint the web nodes serve (ahead of Django's middleware) -----------------------------


def _asgi_scope(body: bytes, *, signature: str | None, host: bytes = b"testserver") -> dict:
    headers = [(b"host", host), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if signature is not None:
        headers.append((b"x-hub-signature-256", signature.encode()))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/webhooks/whatsapp/", "raw_path": b"/webhooks/whatsapp/", "query_string": b"",
            "headers": headers, "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}


def _asgi_post(body: bytes, *, signature: str | None, host: bytes = b"testserver", chunks: int = 1):
    from asgiref.sync import async_to_sync
    from asgiref.testing import ApplicationCommunicator

    from config.asgi import application

    scope = _asgi_scope(body, signature=signature, host=host)

    async def run():
        communicator = ApplicationCommunicator(application, scope)
        size = max(1, len(body) // chunks)
        parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
        for index, part in enumerate(parts):
            await communicator.send_input({"type": "http.request", "body": part, "more_body": index < len(parts) - 1})
        start = await communicator.receive_output(10)
        content = await communicator.receive_output(10)
        return start["status"], content["body"]

    return async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_the_asgi_endpoint_stores_a_signed_post_and_answers_200(cloud_channel):
    body = meta_body(_for(cloud_channel))
    assert _asgi_post(body, signature=sign(body), chunks=3) == (200, b"EVENT_RECEIVED")
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.PENDING


@pytest.mark.django_db(transaction=True)
def test_the_asgi_endpoint_refuses_like_the_view(cloud_channel, settings):
    body = meta_body(_for(cloud_channel))
    assert _asgi_post(body, signature=None)[0] == 401
    assert _asgi_post(body, signature=sign(body, OTHER_SECRET))[0] == 403
    assert _asgi_post(body, signature=sign(body), host=b"evil.example")[0] == 400  # ALLOWED_HOSTS still applies
    settings.WHATSAPP_WEBHOOK_MAX_BYTES = 100
    assert _asgi_post(body, signature=sign(body))[0] == 413
    assert not WebhookDelivery.objects.exists()


def _from(channel, sender: str) -> bytes:
    payload = _for(channel)
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"][0]["from"] = value["contacts"][0]["wa_id"] = sender
    return meta_body(payload)


def _asgi_posts_at_once(requests: list[tuple[bytes, str | None]]) -> list[int]:
    """POST every body to the ASGI app in one event loop, all arriving before any is answered (as
    concurrent POSTs reach one uvicorn worker). Returns the statuses, in order."""
    from asgiref.sync import async_to_sync
    from asgiref.testing import ApplicationCommunicator

    from config.asgi import application

    async def run():
        communicators = [ApplicationCommunicator(application, _asgi_scope(body, signature=signature))
                         for body, signature in requests]
        for communicator, (body, _) in zip(communicators, requests, strict=True):
            await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
        starts = [await communicator.receive_output(10) for communicator in communicators]
        for communicator in communicators:
            await communicator.receive_output(10)
        return [start["status"] for start in starts]

    return async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_posts_arriving_together_are_stored_by_one_insert_and_each_answered(cloud_channel, monkeypatch):
    """The group commit: concurrent POSTs share one INSERT, a bad signature among them is refused alone,
    every stored one is answered 200 and its shard's drain kicked."""
    import messaging.ingest as ingest

    batches: list[int] = []
    store = ingest.deliveries_store

    def counting_store(drafts):
        batches.append(len(drafts))
        return store(drafts)

    monkeypatch.setattr(ingest, "deliveries_store", counting_store)
    senders = [f"55119{index:08d}" for index in range(12)]
    requests = [(_from(cloud_channel, sender), sign(_from(cloud_channel, sender))) for sender in senders]
    forged = _from(cloud_channel, "5511900000099")
    requests.insert(5, (forged, sign(forged, OTHER_SECRET)))

    statuses = _asgi_posts_at_once(requests)

    assert statuses == [200] * 5 + [403] + [200] * 7
    assert sum(batches) == 12 and len(batches) < 12  # shared INSERTs, not one per POST
    stored = list(WebhookDelivery.objects.order_by("id"))
    assert [row.sender for row in stored] == senders  # in the order they arrived
    assert {row.state for row in stored} == {WebhookDelivery.State.PENDING}
    assert {row.shard for row in stored} == {ingest._shard_for(sender) for sender in senders}


@pytest.mark.django_db(transaction=True)
def test_a_batch_costs_a_few_statements_and_a_row_the_database_refuses_fails_alone(cloud_channel):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from messaging.ingest import DeliveryDraft, deliveries_store

    drafts = [DeliveryDraft(body=_from(cloud_channel, f"55119{index:08d}").decode(), signature="sha256=x",
                            channel_id=cloud_channel.pk, state=WebhookDelivery.State.PENDING,
                            sender=f"55119{index:08d}") for index in range(10)]
    with CaptureQueriesContext(connection) as queries:
        stored, _backlog = deliveries_store(drafts)
    assert all(isinstance(row, WebhookDelivery) and row.pk for row in stored)
    assert len(queries) <= 3, [q["sql"][:80] for q in queries]  # BEGIN, one INSERT, COMMIT

    # A channel deleted after the secrets were cached: its row breaks the foreign key, the others are kept.
    gone = WhatsAppCloudChannel.objects.create(name="Some", phone_number_id="777", waba_id="778",
                                               access_token="EAAG-x-1", app_secret="s" * 20)
    gone_id = gone.pk
    WhatsAppCloudChannel.objects.filter(pk=gone_id).delete()
    mixed = [drafts[0], DeliveryDraft(body="{}", signature="sha256=y", channel_id=gone_id,
                                      state=WebhookDelivery.State.PENDING, sender="5511977777777"), drafts[1]]
    stored, _backlog = deliveries_store(mixed)
    assert isinstance(stored[1], Exception)
    assert isinstance(stored[0], WebhookDelivery) and isinstance(stored[2], WebhookDelivery)
    assert WebhookDelivery.objects.count() == 12


@pytest.mark.django_db(transaction=True)
def test_a_batch_the_database_cannot_take_is_answered_503_and_refusals_keep_their_status(cloud_channel, monkeypatch):
    """Meta retries a 503 (Retry-After): nothing acknowledged was lost."""
    from django.db import OperationalError

    import messaging.ingest as ingest

    def database_down(drafts):
        raise OperationalError("connection refused")

    monkeypatch.setattr(ingest, "deliveries_store", database_down)
    good = _from(cloud_channel, "5511911111111")
    assert _asgi_posts_at_once([(good, sign(good)), (good, None), (good, sign(good))]) == [503, 401, 503]
