"""Media in: the fake Graph API's media endpoints, the client's upload/lookup/download, WhatsApp's limits,
received files downloaded outside the lock and served behind a signed link, retention."""

from __future__ import annotations

import copy
import hashlib
import io
from datetime import timedelta

import pytest
import requests
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from messaging.media import (
    LIMITS,
    MediaRefused,
    media_check,
    media_fetch,
    media_library_create,
    media_retention_prune,
    media_token_read,
)
from messaging.models import MediaFile, Message
from messaging.providers.base import ProviderError
from messaging.providers.whatsapp_cloud import CloudClient
from tests.messaging.conftest import spec, webhook_examples
from tests.messaging.test_webhooks import deliver

EXAMPLES = webhook_examples()
JPEG = b"\xff\xd8\xff\xe0" + b"fluxo-photo" * 100
PDF = b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF"


def client_for(graph) -> CloudClient:
    return CloudClient(base_url=graph.base_url, version=graph.version, phone_number_id=graph.phone_number_id,
                       waba_id=graph.waba_id, access_token=graph.token)


# --- The fake Graph API and the client -----------------------------------------------------------


def test_upload_lookup_download_and_delete_round_trip(fake_graph):
    client = client_for(fake_graph)
    media_id = client.media_upload(content=PDF, mime_type="application/pdf", filename="fatura.pdf")
    upload = fake_graph.uploads[-1]
    assert upload.body["messaging_product"][2] == b"whatsapp"
    assert upload.body["file"] == ("fatura.pdf", "application/pdf", PDF)
    info = client.media_lookup(media_id)
    assert info["mime_type"] == "application/pdf" and info["file_size"] == str(len(PDF))
    assert info["sha256"] == hashlib.sha256(PDF).hexdigest()
    buffer = io.BytesIO()
    got = client.media_download(info["url"], buffer, max_bytes=LIMITS["document"][0])
    assert buffer.getvalue() == PDF and got["size"] == len(PDF) and got["sha256"] == info["sha256"]
    assert fake_graph.downloads[-1].headers["Authorization"] == f"Bearer {fake_graph.token}"
    client.media_delete(media_id)
    with pytest.raises(ProviderError) as exc:
        client.media_lookup(media_id)
    assert exc.value.code == "100" and not exc.value.retryable


def test_the_download_url_needs_the_token(fake_graph):
    media_id = fake_graph.add_media(JPEG, "image/jpeg")
    url = client_for(fake_graph).media_lookup(media_id)["url"]
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401
    wrong = CloudClient(base_url=fake_graph.base_url, version="v23.0", phone_number_id=fake_graph.phone_number_id,
                        waba_id="x", access_token="wrong")
    with pytest.raises(ProviderError) as exc:
        wrong.media_download(url, io.BytesIO(), max_bytes=10**6)
    assert exc.value.code == "401" and not exc.value.retryable


def test_an_expired_media_id_is_graph_error_100(fake_graph):
    media_id = fake_graph.add_media(JPEG, "image/jpeg")
    fake_graph.expire(media_id)
    with pytest.raises(ProviderError) as exc:
        client_for(fake_graph).media_lookup(media_id)
    assert exc.value.code == "100"


def test_download_stops_at_the_cap_announced_or_streamed(fake_graph):
    client = client_for(fake_graph)
    media_id = fake_graph.add_media(b"x" * 5000, "image/jpeg")
    url = client.media_lookup(media_id)["url"]
    with pytest.raises(ProviderError) as exc:
        client.media_download(url, io.BytesIO(), max_bytes=4999)
    assert exc.value.code == "too_large" and not exc.value.retryable


def test_lookup_answer_has_the_keys_of_metas_example(fake_graph):
    example = (spec()["paths"]["/{Version}/{Media-ID}"]["get"]["responses"]["200"]["content"]["application/json"]
               ["examples"]["Retrieve Media URL"]["value"])
    media_id = fake_graph.add_media(JPEG, "image/jpeg")
    info = client_for(fake_graph).media_lookup(media_id)
    assert set(info) == set(example)
    assert all(isinstance(info[key], str) for key in example)  # file_size is a string in Meta's answer too
    assert fake_graph.requests[-1].query["phone_number_id"] == [fake_graph.phone_number_id]


def test_upload_request_has_the_fields_of_metas_multipart_schema(fake_graph):
    media = spec()["paths"]["/{Version}/{Phone-Number-ID}/media"]["post"]["requestBody"]["content"]
    fields = set(media["multipart/form-data"]["schema"]["properties"])
    client_for(fake_graph).media_upload(content=JPEG, mime_type="image/jpeg", filename="a.jpg")
    sent = fake_graph.uploads[-1]
    assert fields <= set(sent.body)
    assert sent.headers["Content-Type"].startswith("multipart/form-data")


# --- WhatsApp's limits ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind,mime,size", [
    ("image", "image/jpeg", 5 * 1024 * 1024), ("image", "image/png", 10),
    ("audio", "audio/ogg; codecs=opus", 16 * 1024 * 1024), ("audio", "audio/amr", 1),
    ("video", "video/mp4", 1), ("video", "video/3gpp", 1),
    ("document", "application/pdf", 100 * 1024 * 1024), ("sticker", "image/webp", 500 * 1024),
])
def test_within_the_limits(kind, mime, size):
    media_check(kind=kind, mime_type=mime, size=size)


@pytest.mark.parametrize("kind,mime,size,code", [
    ("image", "image/gif", 10, "media_type"), ("image", "image/jpeg", 5 * 1024 * 1024 + 1, "media_too_large"),
    ("audio", "audio/wav", 10, "media_type"), ("video", "video/quicktime", 10, "media_type"),
    ("video", "video/mp4", 16 * 1024 * 1024 + 1, "media_too_large"),
    ("document", "application/zip", 10, "media_type"), ("sticker", "image/png", 10, "media_type"),
    ("sticker", "image/webp", 500 * 1024 + 1, "media_too_large"),
])
def test_outside_the_limits_is_refused_with_the_limit(kind, mime, size, code):
    with pytest.raises(MediaRefused) as exc:
        media_check(kind=kind, mime_type=mime, size=size)
    assert exc.value.code == code


def test_a_static_sticker_is_capped_at_100_kb():
    media_check(kind="sticker", mime_type="image/webp", size=100 * 1024, animated=False)
    with pytest.raises(MediaRefused):
        media_check(kind="sticker", mime_type="image/webp", size=100 * 1024 + 1, animated=False)


# --- Received media ------------------------------------------------------------------------------


def image_webhook(graph, content=JPEG, mime="image/jpeg", wamid="wamid.img.1"):
    media_id = graph.add_media(content, mime)
    payload = copy.deepcopy(EXAMPLES["Image Message"])
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = wamid
    message["image"]["id"] = media_id
    message["image"]["sha256"] = hashlib.sha256(content).hexdigest()
    return payload, media_id


@pytest.mark.django_db
def test_a_received_image_is_recorded_pending_then_downloaded_and_stored(client, cloud_channel, fake_graph,
                                                                         django_capture_on_commit_callbacks):
    from flows.models import InboundEvent

    payload, media_id = image_webhook(fake_graph)
    deliver(client, payload, django_capture_on_commit_callbacks)
    media = MediaFile.objects.get(provider_media_id=media_id)
    assert media.status == "pending" and media.kind == "image" and media.caption == "Taj Mahal"
    assert media.message == Message.objects.get(provider_message_id="wamid.img.1")
    assert not fake_graph.downloads  # nothing fetched under the lock
    event = InboundEvent.objects.get(dedupe_key="wa:msg:wamid.img.1")
    facts = event.payload["media"]
    assert facts["type"] == "image" and facts["mime_type"] == "image/jpeg" and facts["caption"] == "Taj Mahal"
    assert media_token_read(facts["url"].rstrip("/").rsplit("/", 1)[1]) == media.pk

    assert media_fetch(media_id=media.pk).status == "stored"
    media.refresh_from_db()
    assert media.status == "stored" and media.size == len(JPEG) and media.file.name.startswith("media/in/")
    with default_storage.open(media.file.name, "rb") as handle:
        assert handle.read() == JPEG
    assert media_fetch(media_id=media.pk).status == "skipped"  # idempotent

    anonymous = client.__class__()
    response = anonymous.get(facts["url"])
    assert response.status_code == 200 and b"".join(response.streaming_content) == JPEG
    assert response["Content-Type"] == "image/jpeg"
    assert anonymous.get(facts["url"].replace("/f/", "/f/x")).status_code == 403
    assert anonymous.get(f"/files/{media.pk}/").status_code == 302  # by id: signed-in users only


@pytest.mark.django_db
def test_the_size_is_known_before_the_download_ends_when_the_webhook_or_the_lookup_says_it(
        client, cloud_channel, fake_graph, django_capture_on_commit_callbacks):
    from flows.models import InboundEvent
    from messaging.media import media_facts

    payload, media_id = image_webhook(fake_graph, wamid="wamid.img.sized")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["image"]["file_size"] = str(len(JPEG))  # not in Meta's example today: taken when a webhook has it
    deliver(client, payload, django_capture_on_commit_callbacks)
    assert InboundEvent.objects.get(dedupe_key="wa:msg:wamid.img.sized").payload["media"]["size"] == len(JPEG)

    # Without it, the flow sees no size; the lookup (GET /{media-id}) fills it before the bytes arrive.
    payload, media_id = image_webhook(fake_graph, wamid="wamid.img.unsized")
    deliver(client, payload, django_capture_on_commit_callbacks)
    assert InboundEvent.objects.get(dedupe_key="wa:msg:wamid.img.unsized").payload["media"]["size"] is None
    media = MediaFile.objects.get(provider_media_id=media_id)
    fake_graph.fail()  # the lookup answers normally ...
    fake_graph.fail(http_status=503)  # ... the download does not: the file stays pending, to be retried
    assert media_fetch(media_id=media.pk).status == "retry"
    assert [r.path.split("/")[1] for r in fake_graph.requests[-2:]] == ["v23.0", "media-download"]
    media.refresh_from_db()
    assert media.status == "pending" and media_facts(media)["size"] == len(JPEG)


@pytest.mark.django_db(transaction=True)
def test_the_download_task_runs_after_commit_on_the_calls_queue(client, cloud_channel, fake_graph, eager_celery):
    from config.celery import app

    assert app.conf.task_routes["messaging.tasks.media_fetch_task"] == {"queue": "calls"}
    payload, media_id = image_webhook(fake_graph, wamid="wamid.img.task")
    from messaging.models import WebhookDelivery
    from messaging.webhooks import webhook_delivery_process
    from tests.messaging.conftest import post_webhook

    assert post_webhook(client, payload).status_code == 200
    webhook_delivery_process(delivery_id=WebhookDelivery.objects.order_by("-id").first().pk)
    media = MediaFile.objects.get(provider_media_id=media_id)
    assert media.status == "stored" and media.attempts == 1


@pytest.mark.django_db
def test_a_failing_download_is_retried_then_failed_with_its_reason(cloud_channel, fake_graph):
    media = MediaFile.objects.create(direction="in", kind="image", channel=cloud_channel,
                                     provider_media_id=fake_graph.add_media(JPEG, "image/jpeg"), mime_type="image/jpeg")
    fake_graph.fail(http_status=503, times=2)
    assert media_fetch(media_id=media.pk).status == "retry"
    media.refresh_from_db()
    assert media.status == "pending" and media.error
    outcome = media_fetch(media_id=media.pk, final=True)
    media.refresh_from_db()
    assert outcome.status == "failed" and media.status == "failed" and "503" in media.error


@pytest.mark.django_db
def test_a_file_over_whatsapps_limit_or_of_a_wrong_type_fails_without_retry(cloud_channel, fake_graph):
    big = MediaFile.objects.create(direction="in", kind="image", channel=cloud_channel,
                                   provider_media_id=fake_graph.add_media(b"x" * (5 * 1024 * 1024 + 1), "image/jpeg"))
    assert media_fetch(media_id=big.pk).status == "failed"
    big.refresh_from_db()
    assert "5.0 MB" in big.error and not fake_graph.downloads  # refused from the lookup's file_size
    liar_id = fake_graph.add_media(b"x" * (5 * 1024 * 1024 + 10), "image/jpeg")
    fake_graph.declared_sizes[liar_id] = 100
    liar = MediaFile.objects.create(direction="in", kind="image", channel=cloud_channel, provider_media_id=liar_id)
    assert media_fetch(media_id=liar.pk).status == "failed"  # caught while streaming
    gif = MediaFile.objects.create(direction="in", kind="image", channel=cloud_channel,
                                   provider_media_id=fake_graph.add_media(b"GIF89a", "image/gif"))
    assert media_fetch(media_id=gif.pk).status == "failed"
    gif.refresh_from_db()
    assert "image/gif" in gif.error


@pytest.mark.django_db
def test_the_contacts_next_events_do_not_wait_for_a_download(client, cloud_channel, fake_graph,
                                                            django_capture_on_commit_callbacks):
    from flows.models import InboundEvent
    from tests.messaging.test_webhooks import EXAMPLES as WEBHOOKS

    payload, media_id = image_webhook(fake_graph, wamid="wamid.img.first")
    deliver(client, payload, django_capture_on_commit_callbacks)
    text = copy.deepcopy(WEBHOOKS["Text Message"])
    text["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.text.after"
    deliver(client, text, django_capture_on_commit_callbacks)
    assert MediaFile.objects.get(provider_media_id=media_id).status == "pending"
    events = InboundEvent.objects.filter(dedupe_key__in=["wa:msg:wamid.img.first", "wa:msg:wamid.text.after"])
    assert events.count() == 2 and all(e.state != "pending" for e in events)


@pytest.mark.django_db
def test_a_pending_file_is_fetched_on_demand_by_its_link(client, cloud_channel, fake_graph,
                                                       django_capture_on_commit_callbacks):
    payload, media_id = image_webhook(fake_graph, wamid="wamid.img.demand")
    deliver(client, payload, django_capture_on_commit_callbacks)
    from messaging.media import media_url

    media = MediaFile.objects.get(provider_media_id=media_id)
    response = client.get(media_url(media))
    assert response.status_code == 200 and b"".join(response.streaming_content) == JPEG


@pytest.mark.django_db
def test_an_expired_link_is_refused(client, cloud_channel, settings):
    media = media_library_create(upload=SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"))
    from messaging.media import media_url

    url = media_url(media)
    settings.FLUXO_MEDIA_LINK_SECONDS = -1
    assert client.get(url).status_code == 403


# --- Retention -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_retention_deletes_received_bytes_and_keeps_the_metadata(cloud_channel):
    from django.core.cache import cache

    old = media_library_create(upload=SimpleUploadedFile("old.jpg", JPEG, content_type="image/jpeg"),
                               direction="in", channel=cloud_channel, provider_media_id="old-1", caption="nota")
    fresh = media_library_create(upload=SimpleUploadedFile("new.jpg", JPEG, content_type="image/jpeg"),
                                 direction="in", channel=cloud_channel, provider_media_id="new-1")
    library = media_library_create(upload=SimpleUploadedFile("lib.jpg", JPEG, content_type="image/jpeg"))
    MediaFile.objects.filter(pk__in=[old.pk, library.pk]).update(expires_at=timezone.now() - timedelta(days=1))
    path = old.file.name
    cache.delete("fluxo:lock:media-retention")
    assert media_retention_prune() == 1
    old.refresh_from_db()
    assert old.status == "expired" and not old.file and old.caption == "nota" and old.sha256
    assert not default_storage.exists(path)
    assert MediaFile.objects.get(pk=fresh.pk).status == "stored"
    assert MediaFile.objects.get(pk=library.pk).status == "stored"  # the library is never pruned
    assert media_retention_prune() == 0  # the lock holds
