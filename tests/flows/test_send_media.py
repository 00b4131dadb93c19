"""send_media, send_location, send_contact, send_reaction and template header media, through the real
interpreter over real rows (sandbox channel: nothing leaves the machine)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from flows.models import FlowRun
from flows.validation import definition_validate as validate_definition
from messaging.media import media_library_create
from messaging.models import Message, MessageTemplate
from tests.factories import definition, edge, make_contact, make_flow, node
from tests.flows.test_nodes import T, outbound, path, start

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"0" * 500 + b"\n%%EOF"
JPEG = b"\xff\xd8\xff\xe0" + b"x" * 500


@pytest.fixture
def contact(channel):
    return make_contact(channel=channel)


def _flow(node_type: str, **config):
    return make_flow(definition(
        [T, node("s", node_type, **config), node("ok", "end"),
         node("oops", "set_variable", assignments=[{"target": "vars.handled", "value": "yes"}])],
        [edge("t", "s"), edge("s", "ok"), edge("s", "oops", "failure")],
    ))


def library(name="fatura.pdf", content=PDF, mime="application/pdf"):
    return media_library_create(upload=SimpleUploadedFile(name, content, content_type=mime))


def test_send_media_from_the_library_names_the_file_for_the_sender(contact):
    photo = library("loja.jpg", JPEG, "image/jpeg")
    run = start(_flow("send_media", media_type="image", source="library", media=photo.pk,
                      caption="Olá {{contact.first_name}}"), contact)
    assert run.status == FlowRun.Status.COMPLETED and path(run)[1] == ("s", "next")
    [message] = outbound(contact)
    assert message.kind == "image"
    assert message.content == {"image": {"fluxo_media": photo.pk, "caption": "Olá Maria"}}


def test_send_media_document_from_a_link_expression_is_fetched_by_fluxo_by_default(contact):
    """A node saved before the option existed has no ``fetch``: Fluxo fetches the link (the default)."""
    run = start(_flow("send_media", media_type="document", source="url", url="{{trigger.invoice}}",
                      caption="Sua fatura", filename="fatura-{{trigger.number}}.pdf"),
                contact, invoice="https://erp.example.com/f/123.pdf", number="123")
    assert run.status == FlowRun.Status.COMPLETED
    [message] = outbound(contact)
    assert message.status == Message.Status.PREPARING
    assert message.content == {"document": {"fluxo_fetch": "https://erp.example.com/f/123.pdf",
                                            "caption": "Sua fatura", "filename": "fatura-123.pdf"}}
    assert run.steps.get(node_id="s").output["fetched_by"] == "fluxo"


def test_meta_fetches_the_link_when_the_node_says_so(contact):
    run = start(_flow("send_media", media_type="document", source="url", url="{{trigger.invoice}}", fetch="meta",
                      filename="catalogo.pdf"), contact, invoice="https://cdn.example.com/catalogo.pdf")
    assert run.status == FlowRun.Status.COMPLETED
    [message] = outbound(contact)
    assert message.status == Message.Status.QUEUED
    assert message.content == {"document": {"link": "https://cdn.example.com/catalogo.pdf",
                                            "filename": "catalogo.pdf"}}


def test_the_fetch_option_is_a_select_in_pt_br_defaulting_to_fluxo():
    from flows.nodes.registry import get

    described = get("send_media").describe()
    fetch = described["fields"]["fetch"]
    assert fetch["enum_labels"]["meta"]["pt-BR"] == "Meta busca o link (link público)"
    assert fetch["visible_when"] == {"source": "url"}
    assert described["config_schema"]["properties"]["fetch"] == {"enum": ["fluxo", "meta"], "default": "fluxo"}
    assert described["default_config"]["fetch"] == "fluxo"
    result = validate_definition(definition([T, node("s", "send_media", media_type="image", source="url",
                                                     url="https://x.example/a.jpg", fetch="elsewhere")],
                                            [edge("t", "s")]))
    assert result.errors  # only the two choices


@pytest.fixture
def pdf_server(settings):
    """A company server on 127.0.0.1 (allow-listed) that answers every GET with the invoice PDF."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Pdf(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(PDF)))
            self.end_headers()
            self.wfile.write(PDF)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pdf)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.FLUXO_HTTP_ALLOWLIST = ["127.0.0.1"]
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_test_run_fetches_the_link_and_the_sandbox_shows_the_stored_file(contact, pdf_server,
                                                                          django_capture_on_commit_callbacks):
    """The sandbox channel fetches too (a test run shows what production would do), from a real server."""
    from messaging.media import message_media_prepare
    from messaging.selectors import sandbox_chat

    start(_flow("send_media", media_type="document", source="url", url="{{trigger.invoice}}", caption="Fatura"),
          contact, invoice=f"{pdf_server}/faturas/123.pdf")
    [message] = outbound(contact)
    assert sandbox_chat(contact=contact)[0]["media"]["status"] == "pending"
    with django_capture_on_commit_callbacks(execute=False):
        assert message_media_prepare(message_id=message.pk).status == "ready"
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    media = sandbox_chat(contact=contact)[0]["media"]
    assert media["filename"] == "123.pdf" and media["url"].startswith("/files/f/") and media["status"] == "stored"
    assert media["caption"] == "Fatura" and media["mime_type"] == "application/pdf"


def test_send_media_library_document_takes_the_files_name(contact):
    pdf = library("boleto-maio.pdf")
    start(_flow("send_media", media_type="document", source="library", media=pdf.pk), contact)
    [message] = outbound(contact)
    assert message.content["document"] == {"fluxo_media": pdf.pk, "filename": "boleto-maio.pdf"}


def test_audio_and_sticker_carry_no_caption(contact):
    start(_flow("send_media", media_type="audio", source="url", url="https://x.example/a.ogg", caption="ignored"),
          contact)
    [message] = outbound(contact)
    assert message.content == {"audio": {"fluxo_fetch": "https://x.example/a.ogg"}}


def test_send_media_outside_the_window_takes_the_failure_port(channel):
    late = make_contact(channel=channel, in_window=False)
    run = start(_flow("send_media", media_type="image", source="url", url="https://x.example/a.jpg"), late)
    assert path(run)[1:] == [("s", "failure"), ("oops", "next")]
    assert not outbound(late)


def test_a_link_that_is_not_http_fails_the_step(contact):
    run = start(_flow("send_media", media_type="image", source="url", url="{{trigger.text}}"), contact, text="oi")
    assert path(run)[1] == ("s", "failure")


def test_validation_checks_the_library_file_and_its_kind(contact):
    pdf = library()

    def codes(config):
        result = validate_definition(definition([T, node("s", "send_media", **config)], [edge("t", "s")]))
        return {i.code for i in result.issues}

    assert "media_required" in codes({"media_type": "image", "source": "library"})
    assert "media_unknown" in codes({"media_type": "image", "source": "library", "media": 999999})
    assert "media_kind_mismatch" in codes({"media_type": "image", "source": "library", "media": pdf.pk})
    assert "url_required" in codes({"media_type": "image", "source": "url"})
    assert not {"media_required", "media_unknown", "media_kind_mismatch"} & codes(
        {"media_type": "document", "source": "library", "media": pdf.pk})


def test_a_branch_can_test_the_media_type(contact):
    flow = make_flow(definition(
        [T, node("b", "branch", conditions=[{"id": "img", "label": "Imagem", "match": "all", "rules": [
            {"left": "{{trigger.media.type}}", "op": "in_list", "right": "image,document"}]}]),
         node("yes", "end"), node("no", "end")],
        [edge("t", "b"), edge("b", "yes", "img"), edge("b", "no", "default")]))
    assert not validate_definition(flow.published_revision.definition).errors
    assert path(start(flow, contact, media={"type": "image", "url": "/media/f/x/"}))[1] == ("b", "img")
    assert path(start(flow, contact, media={"type": "audio"}))[1] == ("b", "default")


# --- Templates with header media: exactly one header -----------------------------------------------


def _media_template():
    return MessageTemplate.objects.create(name="fatura", language="pt_BR", status="APPROVED", category="UTILITY",
                                          components=[{"type": "HEADER", "format": "DOCUMENT"},
                                                      {"type": "BODY", "text": "Olá {{1}}, sua fatura."}],
                                          parameter_count=1)


def test_a_template_with_header_media_and_header_text_sends_one_header(contact):
    _media_template()
    flow = _flow("send_template", template="fatura", language="pt_BR", parameters={
        "header": ["{{contact.first_name}}"], "body": ["{{contact.first_name}}"],
        "header_media": {"type": "document", "link": "{{trigger.invoice}}"}})
    run = start(flow, contact, invoice="https://erp.example.com/f.pdf")
    assert run.status == FlowRun.Status.COMPLETED, run.end_reason
    [message] = outbound(contact)
    components = message.content["template"]["components"]
    headers = [c for c in components if c["type"] == "header"]
    assert headers == [{"type": "header", "parameters": [
        {"type": "document", "document": {"link": "https://erp.example.com/f.pdf"}}]}]
    result = validate_definition(flow.published_revision.definition)
    assert "template_two_headers" in {i.code for i in result.warnings}


def test_template_header_media_from_the_library(contact):
    _media_template()
    pdf = library()
    flow = _flow("send_template", template="fatura", language="pt_BR", parameters={
        "body": ["x"], "header_media": {"type": "document", "media": pdf.pk, "filename": "fatura.pdf"}})
    start(flow, contact)
    [message] = outbound(contact)
    assert message.content["template"]["components"][0] == {"type": "header", "parameters": [
        {"type": "document", "document": {"fluxo_media": pdf.pk, "filename": "fatura.pdf"}}]}


# --- Location, contact card, reaction ----------------------------------------------------------------


def test_send_location(contact):
    start(_flow("send_location", latitude="{{trigger.lat}}", longitude="-46,6565", name="Loja Paulista",
                address="Av. Paulista, 1000"), contact, lat="-23.5613")
    [message] = outbound(contact)
    assert message.kind == "location"
    assert message.content == {"location": {"latitude": -23.5613, "longitude": -46.6565, "name": "Loja Paulista",
                                            "address": "Av. Paulista, 1000"}}


def test_send_location_refuses_a_bad_coordinate(contact):
    run = start(_flow("send_location", latitude="91", longitude="0"), contact)
    assert path(run)[1] == ("s", "failure")


def test_send_contact_card(contact):
    start(_flow("send_contact", name="Central Fluxo", phone="+551140001234", email="sac@fluxo.example"), contact)
    [message] = outbound(contact)
    [card] = message.content["contacts"]
    assert message.kind == "contacts"
    assert card["name"] == {"formatted_name": "Central Fluxo", "first_name": "Central", "last_name": "Fluxo"}
    assert card["phones"] == [{"phone": "+551140001234", "type": "WORK", "wa_id": "551140001234"}]
    assert card["emails"] == [{"email": "sac@fluxo.example", "type": "WORK"}]


def test_send_reaction_to_the_trigger_message(contact):
    start(_flow("send_reaction", emoji="👍", message_id="{{trigger.message_id}}"), contact, message_id="wamid.ABC")
    [message] = outbound(contact)
    assert message.kind == "reaction"
    assert message.content == {"reaction": {"message_id": "wamid.ABC", "emoji": "👍"}}


def test_sandbox_chat_draws_sent_media_location_and_reactions(contact):
    from messaging.selectors import sandbox_chat

    pdf = library()
    start(_flow("send_media", media_type="document", source="library", media=pdf.pk, caption="Fatura"), contact)
    start(_flow("send_location", latitude="-23.5", longitude="-46.6", name="Loja"), contact)
    bubbles = sandbox_chat(contact=contact)
    media = bubbles[0]["media"]
    assert media["type"] == "document" and media["filename"] == "fatura.pdf" and media["url"].startswith("/files/f/")
    assert bubbles[0]["text"] == "Fatura"
    assert bubbles[1]["location"]["name"] == "Loja" and bubbles[1]["text"] == "Loja"
    assert Message.objects.filter(contact=contact).count() == 2


def test_a_trigger_on_files_starts_on_the_chosen_media_types(contact):
    from flows.nodes.registry import get

    trigger = get("trigger")
    photos = {"event": "message", "match": "media", "media_types": ["image"]}
    assert trigger.matches(photos, "message", {"text": "", "media": {"type": "image"}})
    assert not trigger.matches(photos, "message", {"text": "", "media": {"type": "document"}})
    assert not trigger.matches(photos, "message", {"text": "oi"})
    assert trigger.matches({"event": "message", "match": "media"}, "message", {"media": {"type": "audio"}})
    assert trigger.specificity(photos) == 1  # wins over a catch-all flow


def test_the_editors_test_chat_sends_a_photo_and_shows_both_files(api):
    from django.core.files.uploadedfile import SimpleUploadedFile as Upload

    from flows.models import TestRun
    from flows.services import contact_events_process

    pdf = library()
    flow = make_flow(definition(
        [node("t", "trigger", event="message", match="media", media_types=["image"]),
         node("pdf", "send_media", media_type="document", source="library", media=pdf.pk, caption="Sua fatura")],
        [edge("t", "pdf")]))
    test = api.post(f"/api/flows/{flow.pk}/test-runs/", {}, format="json").json()
    response = api.post(f"/api/test-runs/{test['id']}/inbound-file/",
                        {"file": Upload("foto.jpg", JPEG, content_type="image/jpeg"), "caption": "minha conta"},
                        format="multipart")
    assert response.status_code == 202, response.content
    contact_events_process(contact_id=TestRun.objects.get(pk=test["id"]).contact_id)
    snapshot = api.get(f"/api/test-runs/{test['id']}/").json()
    assert snapshot["run"]["status"] == "completed"
    photo, invoice = snapshot["messages"]
    assert photo["direction"] == "in" and photo["media"]["type"] == "image" and photo["media"]["caption"] == "minha conta"
    assert invoice["media"]["type"] == "document" and invoice["media"]["filename"] == "fatura.pdf"
    assert invoice["media"]["caption"] == "Sua fatura"
    assert b"".join(api.get(photo["media"]["url"]).streaming_content) == JPEG
    refused = api.post(f"/api/test-runs/{test['id']}/inbound-file/",
                       {"file": Upload("a.gif", b"GIF89a", content_type="image/gif")}, format="multipart")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "media_type"


def test_an_inbound_message_runs_the_flow_the_fetch_is_queued_after_commit_and_the_replies_keep_their_order(
        api, pdf_server, monkeypatch, django_capture_on_commit_callbacks):
    """The real path: an event processed under the unit of work writes the preparing message and the
    reply after it; the fetch task is queued after commit with the message's id; the drain sends
    nothing of that contact until the file is ready, then both, in order."""
    from flows.models import TestRun
    from flows.services import contact_events_process
    from messaging.media import message_media_prepare
    from messaging.outbound import messages_drain, outbound_shard

    queued: list[int] = []
    monkeypatch.setattr("messaging.tasks.message_media_prepare_task.delay", queued.append)
    monkeypatch.setattr("messaging.tasks.outbound_drain.delay", lambda *a: None)
    flow = make_flow(definition(
        [T, node("pdf", "send_media", media_type="document", source="url", url="{{trigger.text}}",
                 filename="fatura.pdf"),
         node("bye", "send_message", text="Qualquer dúvida, responda aqui.")],
        [edge("t", "pdf"), edge("pdf", "bye")]))
    test = api.post(f"/api/flows/{flow.pk}/test-runs/", {}, format="json").json()
    api.post(f"/api/test-runs/{test['id']}/inbound/", {"text": f"{pdf_server}/f/9.pdf"}, format="json")
    contact_id = TestRun.objects.get(pk=test["id"]).contact_id
    with django_capture_on_commit_callbacks(execute=True):
        contact_events_process(contact_id=contact_id)
    invoice, bye = Message.objects.filter(contact_id=contact_id, direction="out").order_by("id")
    assert (invoice.status, bye.status) == (Message.Status.PREPARING, Message.Status.QUEUED)
    assert queued == [invoice.pk]
    with django_capture_on_commit_callbacks(execute=True):
        messages_drain(shard=outbound_shard(contact_id))
    bye.refresh_from_db()
    assert bye.status == Message.Status.QUEUED  # waits behind the invoice

    with django_capture_on_commit_callbacks(execute=True):
        assert message_media_prepare(message_id=invoice.pk).status == "ready"
        messages_drain(shard=outbound_shard(contact_id))
    invoice.refresh_from_db()
    bye.refresh_from_db()
    assert invoice.status == bye.status == Message.Status.DELIVERED  # the sandbox delivers at once
    assert invoice.sent_at <= bye.sent_at
    assert invoice.content["document"]["filename"] == "fatura.pdf"
