"""Media out through the Cloud API (fake Graph API, real HTTP): a library file is uploaded to the
channel's number once and its media id reused until it expires; bodies in Meta's shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from messaging.media import media_library_create
from messaging.models import MediaUpload, Message
from messaging.outbound import message_send
from messaging.services import message_queue_outbound
from tests.factories import make_contact
from tests.messaging.test_cloud_contract import ALWAYS_SENT, EXAMPLES, assert_same_structure

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"1" * 700 + b"\n%%EOF"


@pytest.fixture
def customer(cloud_channel):
    return make_contact(phone="+5511987654321", channel=cloud_channel)


@pytest.fixture
def send(django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("messaging.tasks.outbound_drain.apply_async", lambda *a, **k: None)
    monkeypatch.setattr("messaging.tasks.outbound_drain.delay", lambda *a, **k: None)

    def send_one(customer, kind, content, key) -> Message:
        with django_capture_on_commit_callbacks(execute=False):
            message = message_queue_outbound(contact=customer, conversation=None, kind=kind, content=content,
                                             idempotency_key=key)
        with django_capture_on_commit_callbacks(execute=True):
            message_send(message_id=message.pk)
        message.refresh_from_db()
        return message

    return send_one


def pdf():
    return media_library_create(upload=SimpleUploadedFile("fatura.pdf", PDF, content_type="application/pdf"))


def test_a_library_file_is_uploaded_once_and_its_id_reused(customer, fake_graph, send):
    invoice = pdf()
    first = send(customer, "document", {"document": {"fluxo_media": invoice.pk, "filename": "fatura.pdf",
                                                     "caption": "Sua fatura"}}, "k1")
    second = send(customer, "document", {"document": {"fluxo_media": invoice.pk, "filename": "fatura.pdf"}}, "k2")
    assert first.status == second.status == Message.Status.SENT
    assert len(fake_graph.uploads) == 1
    upload = MediaUpload.objects.get(media=invoice, channel=customer.channel)
    assert fake_graph.uploads[0].body["file"] == ("fatura.pdf", "application/pdf", PDF)
    bodies = fake_graph.sent
    assert [b["document"]["id"] for b in bodies] == [upload.provider_media_id] * 2
    assert bodies[0]["document"] == {"id": upload.provider_media_id, "filename": "fatura.pdf", "caption": "Sua fatura"}
    assert first.content["document"]["fluxo_media"] == invoice.pk  # the stored message keeps the library's id
    assert_same_structure(bodies[0], EXAMPLES["Send Document Message by ID"],
                          extra_ok=ALWAYS_SENT | {"biz_opaque_callback_data"})


def test_an_expired_upload_is_uploaded_again(customer, fake_graph, send):
    invoice = pdf()
    send(customer, "document", {"document": {"fluxo_media": invoice.pk}}, "k1")
    MediaUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    send(customer, "document", {"document": {"fluxo_media": invoice.pk}}, "k2")
    assert len(fake_graph.uploads) == 2
    assert MediaUpload.objects.count() == 1


def test_a_deleted_library_file_fails_the_message_with_a_reason(customer, fake_graph, send):
    invoice = pdf()
    pk = invoice.pk
    invoice.delete()
    message = send(customer, "document", {"document": {"fluxo_media": pk}}, "k1")
    assert message.status == Message.Status.FAILED and message.error_code == "media_missing"
    assert "deleted" in message.error and not fake_graph.sent


def test_a_failed_upload_is_retried_like_a_send(customer, fake_graph, send):
    invoice = pdf()
    fake_graph.fail(http_status=503)
    message = send(customer, "document", {"document": {"fluxo_media": invoice.pk}}, "k1")
    assert message.status == Message.Status.QUEUED and message.next_attempt_at is not None
    assert "uploading the media failed" in message.error and not fake_graph.sent


def test_template_header_media_from_the_library_goes_by_id(customer, fake_graph, send):
    from tests.factories import make_template

    make_template("fatura", body="Olá {{1}}", channel=customer.channel)
    invoice = pdf()
    content = {"template": {"name": "fatura", "language": {"code": "pt_BR"}, "components": [
        {"type": "header", "parameters": [{"type": "document", "document": {"fluxo_media": invoice.pk}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Maria"}]}]}}
    message = send(customer, "template", content, "k1")
    assert message.status == Message.Status.SENT, message.error
    [body] = fake_graph.sent
    header = body["template"]["components"][0]
    assert header["parameters"][0]["document"] == {"id": MediaUpload.objects.get().provider_media_id}


@pytest.mark.parametrize("name,kind,content", [
    ("Send Image Message by URL", "image", {"image": {"link": "https://x.example/a.jpg"}}),
    ("Send Audio Message by URL", "audio", {"audio": {"link": "https://x.example/a.ogg"}}),
    ("Send Video Message by URL", "video", {"video": {"link": "https://x.example/a.mp4", "caption": "c"}}),
    ("Send Sticker Message by URL", "sticker", {"sticker": {"link": "https://x.example/a.webp"}}),
    ("Send Location Message", "location", {"location": {"latitude": -23.5, "longitude": -46.6, "name": "Loja",
                                                        "address": "Av. Paulista"}}),
    ("Send Reply with Reaction Message", "reaction", {"reaction": {"message_id": "wamid.X", "emoji": "👍"}}),
])
def test_what_the_media_nodes_store_goes_out_in_metas_shape(customer, fake_graph, send, name, kind, content):
    message = send(customer, kind, content, f"k-{name}")
    assert message.status == Message.Status.SENT, message.error
    assert_same_structure(fake_graph.sent[-1], EXAMPLES[name], extra_ok=ALWAYS_SENT | {"biz_opaque_callback_data"})


def assert_subset_structure(ours, theirs, path="$"):
    """Every key we send exists in Meta's example at the same place, with the same JSON type."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict), path
        for key, value in ours.items():
            assert key in theirs, f"{path}.{key} is not in Meta's example"
            assert_subset_structure(value, theirs[key], f"{path}.{key}")
    elif isinstance(ours, list):
        assert isinstance(theirs, list) and theirs, path
        for i, item in enumerate(ours):
            same = [t for t in theirs if isinstance(item, dict) and isinstance(t, dict)
                    and t.get("type") == item.get("type")]
            assert_subset_structure(item, same[0] if same else theirs[min(i, len(theirs) - 1)], f"{path}[{i}]")
    else:
        assert type(ours) is type(theirs) or isinstance(ours, str), f"{path}: {ours!r} vs {theirs!r}"


def test_a_contact_card_uses_the_fields_of_metas_example(customer, fake_graph, send):
    """Deviation: Meta's example fills every optional field of a card (addresses, birthday, urls, middle
    name...); the send_contact node sends name, phone and optionally company and email, so the check is
    that each field sent exists in the example with the same type, and the required ones are there."""
    card = {"name": {"formatted_name": "Central Fluxo", "first_name": "Central", "last_name": "Fluxo"},
            "phones": [{"phone": "+551140001234", "type": "WORK", "wa_id": "551140001234"}],
            "org": {"company": "Fluxo"}, "emails": [{"email": "sac@fluxo.example", "type": "WORK"}]}
    message = send(customer, "contacts", {"contacts": [card]}, "k-card")
    assert message.status == Message.Status.SENT, message.error
    body = fake_graph.sent[-1]
    example = EXAMPLES["Send Contact Message"]
    assert_subset_structure({k: v for k, v in body.items() if k not in ALWAYS_SENT | {"biz_opaque_callback_data"}},
                            example)
    assert {"messaging_product", "to", "type", "contacts"} <= set(body)
    assert body["contacts"][0]["name"]["formatted_name"] and body["contacts"][0]["phones"]
