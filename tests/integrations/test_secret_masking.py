"""Vault secrets never leave: a real local company API echoes the credential it was called with,
and the secret is in none of the run's context, its steps, the API answers a viewer gets, the admin
pages, the log output (traceback included) — and the message that would carry it is refused."""

from __future__ import annotations

import io
import json
import logging

import pytest
from rest_framework.test import APIClient

from core.logging import MaskSecretsFormatter
from core.secrets import MIN_LENGTH, secrets_found, secrets_mask
from flows.models import RunStep
from integrations.models import Credential
from integrations.vault.services import credential_create
from messaging.models import Message
from tests.factories import definition, edge, make_contact, make_user, node
from tests.integrations.conftest import ERP_TOKEN, run_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def erp(db):
    return credential_create(name="erp-api", kind=Credential.Kind.BEARER, secret=ERP_TOKEN)


@pytest.fixture
def viewer_api(db):
    client = APIClient()
    client.force_authenticate(make_user("vera", role="viewer"))
    return client


def _echo_flow(url: str, text: str = "Seu token: {{vars.auth}}") -> dict:
    """Call the company API's /echo (it answers with the request's headers) and tell the contact a field."""
    return definition(
        [node("t", "trigger", event="message", match="any"),
         node("call", "http_request", method="GET", url=url + "/echo", credential="erp-api", retries=0,
              response_mapping=[{"variable": "auth", "path": "$.headers.authorization"}], save_response_as="resp"),
         node("say", "send_message", text=text), node("ko", "end")],
        [edge("t", "call"), edge("call", "say", "success"), edge("call", "ko", "failure")],
    )


def _everything(run) -> str:
    steps = list(RunStep.objects.filter(run=run).order_by("seq").values("input", "output", "error"))
    return json.dumps({"context": run.context, "steps": steps, "reason": run.end_reason}, ensure_ascii=False)


def test_an_echoed_secret_is_masked_before_it_is_stored_and_the_send_is_refused(company_api, allow_local, erp):
    contact = make_contact()
    run = run_flow(_echo_flow(company_api.url), contact)

    # The company API really got (and echoed) the secret...
    assert company_api.hits("/echo")[0]["headers"]["authorization"] == f"Bearer {ERP_TOKEN}"
    # ...but no stored trace of the run holds it: variables, saved response, step outputs, the call event.
    assert ERP_TOKEN not in _everything(run)
    assert run.context["vars"]["auth"] == "Bearer [segredo: erp-api]"
    from core.models import InboundEvent

    assert ERP_TOKEN not in json.dumps([e.payload for e in InboundEvent.objects.filter(kind="call_result")])
    # The message is refused before it is queued, by its rule, with the credential named.
    assert not Message.objects.filter(contact=contact, direction="out").exists()
    refused = RunStep.objects.get(run=run, node_id="say")
    assert refused.outcome == "error"
    assert run.status == "failed" and "erp-api" in run.end_reason
    assert refused.output["code"] == "secret_in_message"


def test_the_refusal_is_stored_in_the_run_language(company_api, allow_local, erp, settings):
    """Stored run-time messages speak the installation's FLUXO_RUN_LANGUAGE, whatever the caller's language."""
    from django.utils import translation

    contact = make_contact()
    with translation.override("en"):
        run = run_flow(_echo_flow(company_api.url), contact)
    assert "conteria o segredo da(s) credencial(is) do cofre erp-api" in run.end_reason
    settings.FLUXO_RUN_LANGUAGE = "en"
    contact2 = make_contact()
    with translation.override("pt-br"):
        run = run_flow(_echo_flow(company_api.url), contact2)
    assert "would contain the secret of vault credential(s) erp-api" in run.end_reason


def test_a_secret_in_clear_in_a_message_is_refused_too(db, erp):
    """A value typed into the flow (or arriving in an event's data) is refused, not only the mask."""
    from messaging.rules import SendRefused
    from messaging.services import message_queue_outbound

    contact = make_contact()
    for content in ({"text": {"body": f"token {ERP_TOKEN}"}},
                    {"interactive": {"type": "button", "body": {"text": "oi"},
                                     "action": {"buttons": [{"type": "reply",
                                                             "reply": {"id": ERP_TOKEN, "title": "x"}}]}}}):
        kind = "text" if "text" in content else "interactive"
        with pytest.raises(SendRefused) as info:
            message_queue_outbound(contact=contact, conversation=None, kind=kind, content=content,
                                   idempotency_key=f"k-{kind}")
        assert info.value.code == "secret_in_message" and info.value.details == {"credentials": ["erp-api"]}
    assert not Message.objects.exists()


def test_api_answers_to_a_viewer_never_show_the_secret(company_api, allow_local, erp, viewer_api):
    contact = make_contact()
    run = run_flow(_echo_flow(company_api.url, text="ok"), contact)  # the send goes; the variables hold the mask
    assert run.status == "completed"
    # Rows written before masking existed (or by any other path) are masked when shown: the second line.
    run.context["vars"]["legacy"] = f"old {ERP_TOKEN}"
    run.save(update_fields=["context"])
    Message.objects.create(direction="out", kind="text", content={"text": {"body": ERP_TOKEN}},
                           contact=contact, idempotency_key="legacy-1")
    for url in (f"/api/runs/{run.pk}/", "/api/runs/", "/api/messages/"):
        response = viewer_api.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert ERP_TOKEN not in text, url
    assert "[segredo: erp-api]" in viewer_api.get(f"/api/runs/{run.pk}/").content.decode()
    assert "[segredo: erp-api]" in viewer_api.get("/api/messages/").content.decode()


def test_admin_pages_never_show_the_secret(company_api, allow_local, erp, admin_client):
    contact = make_contact()
    run = run_flow(_echo_flow(company_api.url), contact)
    run.context["vars"]["legacy"] = f"old {ERP_TOKEN}"
    run.save(update_fields=["context"])
    message = Message.objects.create(direction="out", kind="text", content={"text": {"body": ERP_TOKEN}},
                                     contact=contact, idempotency_key="legacy-2")
    step = RunStep.objects.filter(run=run).order_by("seq").last()
    for url in (f"/admin/flows/flowrun/{run.pk}/change/", f"/admin/flows/runstep/{step.pk}/change/",
                f"/admin/messaging/message/{message.pk}/change/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert ERP_TOKEN not in response.content.decode(), url


def test_log_lines_and_tracebacks_are_masked_by_the_configured_formatter(erp):
    """The console handler of settings.LOGGING masks the whole formatted record, traceback included."""
    root = logging.getLogger()
    handlers = [h for h in root.handlers if isinstance(h.formatter, MaskSecretsFormatter)]
    assert handlers, "LOGGING wires core.logging.MaskSecretsFormatter on the console handler"
    handler = handlers[0]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        try:
            raise RuntimeError(f"the ERP refused {ERP_TOKEN}")
        except RuntimeError:
            logging.getLogger("fluxo.test").exception("call crashed")  # the secret is only in the traceback
    finally:
        handler.setStream(previous)
    output = stream.getvalue()
    assert "call crashed" in output and "RuntimeError: the ERP refused" in output
    assert ERP_TOKEN not in output


def test_the_registry_follows_the_vault(db):
    """Saved and deleted credentials change what is masked at once (in this process)."""
    assert secrets_mask({"a": "x-rotated-secret-1"}) == {"a": "x-rotated-secret-1"}
    credential = credential_create(name="crm", kind=Credential.Kind.HEADER, secret="x-rotated-secret-1")
    assert secrets_mask({"a": "x-rotated-secret-1"}) == {"a": "[segredo: crm]"}
    credential.secret = "x-rotated-secret-2"
    credential.save()
    assert secrets_found(["x-rotated-secret-2"]) == ["crm"]
    assert secrets_found(["x-rotated-secret-1"]) == []
    credential.delete()
    assert secrets_found(["x-rotated-secret-2"]) == []


def test_short_values_are_not_registered(db):
    """A 5-character 'secret' would mask every such string in customers' data: it is not registered."""
    credential_create(name="pin", kind=Credential.Kind.HEADER, secret="12345")
    assert MIN_LENGTH == 6
    assert secrets_mask({"text": "pedido 12345"}) == {"text": "pedido 12345"}


def test_percent_encoded_and_basic_spellings_are_masked(db):
    credential_create(name="q", kind=Credential.Kind.QUERY, secret="a b/c+d=secret", query_param="key")
    credential_create(name="b", kind=Credential.Kind.BASIC, username="fluxo", secret="pa55-word-xyz")
    import base64

    basic = base64.b64encode(b"fluxo:pa55-word-xyz").decode()
    masked = secrets_mask({"url": "https://x/?key=a+b%2Fc%2Bd%3Dsecret", "auth": f"Basic {basic}"})
    assert masked == {"url": "https://x/?key=[segredo: q]", "auth": "Basic [segredo: b]"}


def test_an_ai_answer_carrying_a_secret_is_masked_remembered_masked_and_not_sent(erp):
    """The built-in assistant answers from knowledge someone pasted a token into: the answer reaches the
    run's variables, the assistant's memory and the message only masked — and the send is refused."""
    from integrations.models import Assistant, AssistantMemory, KnowledgeEntry

    assistant = Assistant.objects.create(name="Loja", provider="builtin", confidence_threshold=0.1)
    KnowledgeEntry.objects.create(assistant=assistant, question="Qual a chave da API?", keywords="chave api",
                                  answer=f"A chave é {ERP_TOKEN}")
    contact = make_contact()
    run = run_flow(definition(
        [node("t", "trigger", event="message", match="any"),
         node("ai", "ai_reply", assistant="Loja", input="{{trigger.text}}", output_variable="answer"),
         node("say", "send_message", text="{{vars.answer}}"), node("ko", "end")],
        [edge("t", "ai"), edge("ai", "say"), edge("ai", "ko", "failure")],
    ), contact, trigger={"text": "qual a chave da api?"})
    assert run.context["vars"]["answer"] == "A chave é [segredo: erp-api]"
    assert ERP_TOKEN not in _everything(run)
    assert ERP_TOKEN not in json.dumps(list(AssistantMemory.objects.values_list("turns", flat=True)))
    assert RunStep.objects.get(run=run, node_id="say").output["code"] == "secret_in_message"
    assert not Message.objects.filter(contact=contact, direction="out").exists()
