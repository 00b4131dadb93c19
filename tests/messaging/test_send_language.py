"""The sender stores a failed send's reason in the installation's run language (FLUXO_RUN_LANGUAGE),
whatever language is active where the drain runs: its requests go through pool threads, which
inherit no language, and a worker has none."""

from __future__ import annotations

import pytest
from django.utils import translation

from messaging.models import Message
from messaging.outbound import message_send, messages_drain, outbound_shard
from messaging.services import message_queue_outbound
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def _queue(contact, callbacks_fixture, key: str = "lang-1") -> Message:
    with callbacks_fixture(execute=False):
        return message_queue_outbound(contact=contact, conversation=None, kind="text",
                                      content={"text": {"body": "Olá!", "preview_url": False}}, idempotency_key=key)


@pytest.mark.parametrize("run_language,active,expected", [
    ("pt-br", "en", "mensagem não entregável (o número pode não estar no WhatsApp"),
    ("en", "pt-br", "message undeliverable (the number may not be on WhatsApp"),
])
def test_a_graph_refusal_is_stored_in_the_run_language(cloud_channel, fake_graph, settings, run_language, active,
                                                       expected, django_capture_on_commit_callbacks):
    settings.FLUXO_RUN_LANGUAGE = run_language
    contact = make_contact(phone="+5511987654321", channel=cloud_channel)
    message = _queue(contact, django_capture_on_commit_callbacks)
    fake_graph.fail(131026)
    with translation.override(active), django_capture_on_commit_callbacks(execute=True):
        messages_drain(shard=outbound_shard(contact.pk))
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.error_code == "131026"
    assert message.error.startswith(expected), message.error


def test_giving_up_counts_the_attempts_in_pt_br(cloud_channel, fake_graph, settings, django_capture_on_commit_callbacks):
    settings.WHATSAPP_MAX_ATTEMPTS = 1
    contact = make_contact(phone="+5511987654322", channel=cloud_channel)
    message = _queue(contact, django_capture_on_commit_callbacks, key="lang-2")
    fake_graph.fail(http_status=503, times=1)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error.startswith("desistiu após 1 tentativa: "), message.error
