"""The sandbox phone sends a photo or a document as the customer, through the same stored-delivery path
as a real webhook; the demo flow "Fatura em PDF" answers a photo with the invoice in PDF."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from flows.models import FlowRun, InboundEvent
from messaging.models import MediaFile, Message, SandboxChannel, WebhookDelivery
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

JPEG = b"\xff\xd8\xff\xe0" + b"photo" * 200


@pytest.fixture
def demo(db):
    from flows import demo as flows_demo
    from integrations import demo as integrations_demo
    from messaging import demo as messaging_demo

    messaging_demo.seed()
    integrations_demo.seed()
    flows_demo.seed()
    return SandboxChannel.objects.get(name="Sandbox")


def send_file(client, contact, name, content, mime, caption=""):
    return client.post("/sandbox/api/upload/", {"contact": contact.pk, "caption": caption,
                                                "file": SimpleUploadedFile(name, content, content_type=mime)})


def test_a_photo_sent_in_the_sandbox_gets_the_invoice_pdf(client, demo, eager_celery):
    client.force_login(make_user("op", role="editor"))
    contact = demo.contacts.get(name="Maria Silva")
    response = send_file(client, contact, "conta-de-luz.jpg", JPEG, "image/jpeg", caption="minha conta")
    assert response.status_code == 202, response.content
    delivery = WebhookDelivery.objects.get(pk=response.json()["delivery"])
    assert delivery.source == "sandbox" and delivery.state == "processed"
    inbound = Message.objects.get(contact=contact, direction="in")
    photo = MediaFile.objects.get(message=inbound)
    assert inbound.kind == "image" and photo.status == "stored" and photo.caption == "minha conta"
    event = InboundEvent.objects.get(contact=contact, kind="message")
    assert event.payload["media"]["type"] == "image" and event.payload["media"]["size"] == len(JPEG)
    run = FlowRun.objects.get(flow__name="Fatura em PDF", contact=contact)
    assert run.status == "completed", run.end_reason
    sent = list(Message.objects.filter(contact=contact, direction="out").order_by("id"))
    assert [m.kind for m in sent] == ["text", "document"]
    chat = client.get("/sandbox/api/messages/", {"contact": contact.pk}).json()["messages"]
    assert chat[0]["media"]["type"] == "image" and chat[0]["text"] == "minha conta"
    pdf = chat[2]["media"]
    assert pdf["type"] == "document" and pdf["filename"] == "fatura.pdf"
    body = b"".join(client.get(pdf["url"]).streaming_content)
    assert body.startswith(b"%PDF-")
    assert b"".join(client.get(chat[0]["media"]["url"]).streaming_content) == JPEG


def test_a_document_goes_in_with_its_name_and_wrong_files_are_refused(client, demo, eager_celery):
    client.force_login(make_user("op", role="editor"))
    contact = demo.contacts.get(name="João Souza")
    assert send_file(client, contact, "comprovante.pdf", b"%PDF-1.4 x", "application/pdf").status_code == 202
    message = Message.objects.get(contact=contact, direction="in")
    assert message.kind == "document" and message.content["document"]["filename"] == "comprovante.pdf"
    refused = send_file(client, contact, "virus.exe", b"MZ", "application/x-msdownload")
    assert refused.status_code == 400 and refused.json()["code"] == "media_type"
    assert client.post("/sandbox/api/upload/", {"contact": contact.pk}).status_code == 400


def test_viewers_cannot_send_files(client, demo):
    client.force_login(make_user("vi", role="viewer"))
    contact = demo.contacts.first()
    assert send_file(client, contact, "a.jpg", JPEG, "image/jpeg").status_code == 403
