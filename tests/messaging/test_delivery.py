"""Sending through the Cloud API client against the fake Graph API (real HTTP): bodies, errors,
retries with backoff, channel pause, idempotency, lost workers, rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Channel, ChannelAlert, Message
from messaging.providers import whatsapp_cloud as wa
from messaging.services import (
    channel_resume,
    message_deliver_attempt,
    message_queue_outbound,
    messages_requeue_stale,
    retry_delay,
)
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(cloud_channel):
    return make_contact(phone="+5511987654321", channel=cloud_channel)


def queue(customer, django_capture_on_commit_callbacks, *, kind="text", content=None, key="k1"):
    content = content or {"text": {"body": "Olá!", "preview_url": False}}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = message_queue_outbound(contact=customer, conversation=None, kind=kind, content=content,
                                         idempotency_key=key)
    return message, callbacks


# --- client over real HTTP ------------------------------------------------------------------


def test_client_sends_each_kind_over_http_with_the_token(cloud_channel, fake_graph):
    client = wa.CloudClient.for_channel(cloud_channel)
    bodies = [
        wa.build_text("+5511987654321", "oi", preview_url=True),
        wa.build_buttons("+5511987654321", "Escolha", [{"id": "a", "title": "A"}]),
        wa.build_list("+5511987654321", "Escolha", "Ver", [{"title": "S", "rows": [{"id": "r", "title": "R"}]}]),
        wa.build_template("+5511987654321", "t", "pt_BR", wa.template_components(body={"nome": "Ana"})),
        wa.build_media("+5511987654321", "document", link="https://x/f.pdf", filename="f.pdf"),
        wa.build_reaction("+5511987654321", "wamid.X", "👍"),
        wa.build_text("+5511987654321", "re", reply_to="wamid.X"),
    ]
    wamids = [client.send(body) for body in bodies]
    client.mark_read("wamid.X")
    assert all(w.startswith("wamid.fake.") for w in wamids)
    assert fake_graph.sent[:-1] == bodies
    assert fake_graph.sent[-1] == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}
    request = fake_graph.requests[0]
    assert request.path == f"/v23.0/{fake_graph.phone_number_id}/messages"
    assert request.headers["Authorization"] == f"Bearer {fake_graph.token}"


def test_client_reuses_one_pooled_session(cloud_channel):
    assert wa.CloudClient.for_channel(cloud_channel).session is wa.CloudClient.for_channel(cloud_channel).session


@pytest.mark.parametrize("code,retryable,pause,words", [
    (130429, True, False, "throughput"),
    (131056, True, False, "too many messages"),
    (131047, False, False, "use a template"),
    (132001, False, False, "template missing"),
    (131026, False, False, "undeliverable"),
    (190, False, True, "access token"),
    (368, False, True, "policy"),
])
def test_graph_errors_are_classified(cloud_channel, fake_graph, code, retryable, pause, words):
    from messaging.providers.base import ProviderError

    fake_graph.fail(code)
    with pytest.raises(ProviderError) as info:
        wa.CloudClient.for_channel(cloud_channel).send(wa.build_text("+5511987654321", "oi"))
    assert (info.value.code, info.value.retryable, info.value.pause_channel) == (str(code), retryable, pause)
    assert words in info.value.message


def test_5xx_and_timeouts_are_retryable(cloud_channel, fake_graph, settings):
    from messaging.providers.base import ProviderError

    client = wa.CloudClient.for_channel(cloud_channel)
    fake_graph.fail(http_status=502)
    with pytest.raises(ProviderError) as info:
        client.send(wa.build_text("+5511987654321", "oi"))
    assert info.value.retryable and info.value.code == "502"
    fake_graph.fail(http_status=429)
    with pytest.raises(ProviderError) as info:
        client.send(wa.build_text("+5511987654321", "oi"))
    assert info.value.retryable and info.value.code == "429"
    settings.WHATSAPP_HTTP_TIMEOUT = 0.3
    fake_graph.fail(delay=1.0)
    with pytest.raises(ProviderError) as info:
        wa.CloudClient.for_channel(cloud_channel).send(wa.build_text("+5511987654321", "oi"))
    assert info.value.retryable and info.value.code == "timeout"


def test_wrong_token_is_190(cloud_channel, fake_graph):
    from messaging.providers.base import ProviderError

    cloud_channel.access_token = "EAAG-wrong-token"
    with pytest.raises(ProviderError) as info:
        wa.CloudClient.for_channel(cloud_channel).send(wa.build_text("+5511987654321", "oi"))
    assert info.value.code == "190" and info.value.pause_channel


# --- delivery -------------------------------------------------------------------------------


def test_a_queued_message_is_sent_once_and_recorded(customer, fake_graph, django_capture_on_commit_callbacks):
    message, callbacks = queue(customer, django_capture_on_commit_callbacks)
    assert message.status == "queued" and len(callbacks) == 1  # delivered after commit
    assert message_deliver_attempt(message_id=message.pk) is None
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_message_id.startswith("wamid.fake.")
    assert message.attempts == 1 and message.sent_at is not None
    # Task delivered twice (broker redelivery, re-queue job): the second attempt does nothing.
    assert message_deliver_attempt(message_id=message.pk) is None
    assert len(fake_graph.sent) == 1
    assert fake_graph.sent[0]["biz_opaque_callback_data"] == "k1"


def test_the_same_idempotency_key_queues_one_message(customer, fake_graph, django_capture_on_commit_callbacks):
    first, _ = queue(customer, django_capture_on_commit_callbacks, key="run-1:node-2")
    again, callbacks = queue(customer, django_capture_on_commit_callbacks, key="run-1:node-2")
    assert again.pk == first.pk and callbacks == []
    assert Message.objects.filter(direction="out").count() == 1


@pytest.mark.parametrize("code", [130429, 131016, 4, 80007])
def test_retryable_errors_go_back_to_queued_with_backoff(customer, fake_graph, code,
                                                         django_capture_on_commit_callbacks):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(code)
    delay = message_deliver_attempt(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "queued" and message.error_code == str(code)
    assert 2 <= delay <= 2.5 and message.next_attempt_at > timezone.now()
    # The retry task comes early (e.g. a duplicate): nothing happens before the time.
    assert message_deliver_attempt(message_id=message.pk) is None and len(fake_graph.sent) == 1
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert message_deliver_attempt(message_id=message.pk) is None
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 2 and message.error == ""


def test_retry_schedule_is_exponential_with_jitter():
    for attempt in range(1, 6):
        delays = [retry_delay(code="130429", attempt=attempt) for _ in range(50)]
        assert min(delays) >= 2 ** attempt and max(delays) <= 2 ** attempt * 1.25
        assert len(set(delays)) > 1  # jitter
    for attempt in range(1, 5):  # 131056: Meta's 4^n seconds
        delays = [retry_delay(code="131056", attempt=attempt) for _ in range(50)]
        assert min(delays) >= 4 ** attempt and max(delays) <= 4 ** attempt * 1.25
    assert retry_delay(code="131056", attempt=12) <= 3600 * 1.25


def test_pair_rate_limit_131056_backs_off_4_to_the_n(customer, fake_graph, django_capture_on_commit_callbacks):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    for attempt in (1, 2, 3):
        fake_graph.fail(131056)
        Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
        delay = message_deliver_attempt(message_id=message.pk)
        assert 4 ** attempt <= delay <= 4 ** attempt * 1.25


def test_gives_up_after_max_attempts(customer, fake_graph, settings, django_capture_on_commit_callbacks):
    settings.WHATSAPP_MAX_ATTEMPTS = 3
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(http_status=503, times=3)
    for _ in range(3):
        Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
        message_deliver_attempt(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "failed" and message.error.startswith("gave up after 3 attempts")


@pytest.mark.parametrize("code,reason", [(131047, "use a template"), (132001, "template missing"),
                                         (132000, "template variables"), (131026, "undeliverable")])
def test_permanent_errors_fail_with_a_clear_reason(customer, fake_graph, code, reason,
                                                   django_capture_on_commit_callbacks):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(code)
    assert message_deliver_attempt(message_id=message.pk) is None
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == str(code) and reason in message.error
    assert len(fake_graph.sent) == 1


def test_131050_on_send_records_the_opt_out(customer, fake_graph, django_capture_on_commit_callbacks):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(131050)
    message_deliver_attempt(message_id=message.pk)
    customer.refresh_from_db()
    assert customer.consent_state("marketing") == "opted_out"


@pytest.mark.parametrize("code", [190, 368, 131031, 130497])
def test_account_errors_pause_the_channel_and_alert(customer, cloud_channel, fake_graph, code,
                                                    django_capture_on_commit_callbacks):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(code)
    assert message_deliver_attempt(message_id=message.pk) is None
    channel = Channel.objects.get(pk=cloud_channel.pk)
    assert channel.is_paused and str(code) in channel.pause_reason
    alert = ChannelAlert.objects.get(channel=channel)
    assert alert.code == str(code) and alert.resolved_at is None
    message.refresh_from_db()
    assert message.status == "queued"  # kept, not lost
    # While paused: nothing leaves, and flows get a clear refusal.
    from messaging.rules import SendRefused

    customer.channel = channel
    with pytest.raises(SendRefused, match="paused"):
        queue(customer, django_capture_on_commit_callbacks, key="k2")
    assert message_deliver_attempt(message_id=message.pk) is None and len(fake_graph.sent) == 1
    # Fixed and resumed: the waiting message goes.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert channel_resume(channel=channel) == 1
    assert len(callbacks) == 1
    assert message_deliver_attempt(message_id=message.pk) is None
    message.refresh_from_db()
    alert.refresh_from_db()
    assert message.status == "sent" and alert.resolved_at is not None


def test_alert_is_visible_in_the_admin(admin_client, customer, cloud_channel, fake_graph,
                                       django_capture_on_commit_callbacks):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(190)
    message_deliver_attempt(message_id=message.pk)
    page = admin_client.get("/admin/messaging/channel/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "paused" in page and "190" in page
    assert "pausado" in admin_client.get("/admin/messaging/channel/").content.decode()
    page = admin_client.get("/admin/messaging/channelalert/").content.decode()
    assert "Channel paused" in page


# --- lost workers -----------------------------------------------------------------------------


def test_a_lost_queued_message_is_requeued(customer, fake_graph, django_capture_on_commit_callbacks, monkeypatch):
    message, _ = queue(customer, django_capture_on_commit_callbacks)  # its on-commit task is "lost"
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    queued = []
    monkeypatch.setattr("messaging.tasks.message_deliver.delay", lambda pk: queued.append(pk))
    assert messages_requeue_stale() == 1 and queued == [message.pk]


def test_a_worker_dying_mid_send_is_recovered(customer, fake_graph, django_capture_on_commit_callbacks, monkeypatch):
    """Claimed as sending, HTTP done, then the worker died before recording: the lease expires,
    the message is re-queued and sent again (the documented at-least-once window)."""
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    Message.objects.filter(pk=message.pk).update(status="sending", attempts=1,
                                                 next_attempt_at=timezone.now() - timedelta(seconds=1))
    queued = []
    monkeypatch.setattr("messaging.tasks.message_deliver.delay", lambda pk: queued.append(pk))
    assert messages_requeue_stale() == 1 and queued == [message.pk]
    message.refresh_from_db()
    assert message.status == "queued" and "at-least-once" in message.error
    message_deliver_attempt(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 2


def test_a_message_inside_its_sending_lease_is_left_alone(customer, fake_graph, django_capture_on_commit_callbacks,
                                                          monkeypatch):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    Message.objects.filter(pk=message.pk).update(status="sending", next_attempt_at=timezone.now() + timedelta(minutes=4))
    monkeypatch.setattr("messaging.tasks.message_deliver.delay", lambda pk: pytest.fail("must not requeue"))
    assert messages_requeue_stale() == 0


# --- rate limits ------------------------------------------------------------------------------


def test_per_recipient_limit_allows_a_small_burst_then_spaces_messages(customer, fake_graph, settings,
                                                                        django_capture_on_commit_callbacks):
    settings.WHATSAPP_RECIPIENT_BURST = 2
    messages = [queue(customer, django_capture_on_commit_callbacks, key=f"k{i}")[0] for i in range(3)]
    results = [message_deliver_attempt(message_id=m.pk) for m in messages]
    assert results[:2] == [None, None]
    assert 4 < results[2] <= 6.1  # about one per 6 s after the burst
    messages[2].refresh_from_db()
    assert messages[2].status == "queued" and len(fake_graph.sent) == 2


def test_per_sender_limit(cloud_channel, fake_graph, settings, django_capture_on_commit_callbacks):
    cloud_channel.messages_per_second = 2
    cloud_channel.save()
    contacts = [make_contact(phone=f"+55119876500{i:02d}", channel=cloud_channel) for i in range(3)]
    messages = [queue(c, django_capture_on_commit_callbacks, key=f"s{i}")[0] for i, c in enumerate(contacts)]
    results = [message_deliver_attempt(message_id=m.pk) for m in messages]
    assert results[:2] == [None, None] and 0 < results[2] <= 0.6


@pytest.mark.redis
def test_limits_are_shared_through_redis(cloud_channel, settings):
    """Two processes see one bucket: a fresh in-process state does not reset the Redis bucket."""
    from messaging import ratelimit

    settings.REDIS_URL = settings.REDIS_URL or "redis://127.0.0.1:6379/11"
    limit = ratelimit.Limit(rate=1 / 6, burst=1)
    assert ratelimit.take("test:shared", limit) == 0
    ratelimit.reset_local()  # another worker: no local memory
    assert ratelimit.take("test:shared", limit) > 5
    import redis

    redis.Redis.from_url(settings.REDIS_URL).delete("fluxo:rl:test:shared")


def test_template_message_carries_rendered_text_and_buttons(customer, fake_graph, django_capture_on_commit_callbacks):
    from messaging.models import MessageTemplate

    MessageTemplate.objects.create(
        channel=None, name="lembrete", language="pt_BR", status="APPROVED", category="UTILITY", parameter_count=2,
        components=[{"type": "BODY", "text": "Olá {{1}}, consulta em {{2}}."},
                    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Confirmo"}]}])
    content = {"template": {"name": "lembrete", "language": {"code": "pt_BR"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "10/12"}]}]}}
    message, _ = queue(customer, django_capture_on_commit_callbacks, kind="template", content=content)
    assert message.content["rendered_text"] == "Olá Ana, consulta em 10/12."
    assert message.content["template_buttons"] == [{"id": "Confirmo", "title": "Confirmo"}]
    message_deliver_attempt(message_id=message.pk)
    sent = fake_graph.sent[0]
    assert sent["type"] == "template" and "rendered_text" not in sent["template"]


def test_an_opt_out_stops_queued_marketing_before_it_leaves(customer, fake_graph, django_capture_on_commit_callbacks):
    from messaging.models import Contact, MessageTemplate
    from messaging.services import contact_consent_set

    MessageTemplate.objects.create(name="promo", language="pt_BR", status="APPROVED", category="MARKETING",
                                   components=[{"type": "BODY", "text": "Oferta!"}], parameter_count=0)
    contact_consent_set(contact=customer, categories=["marketing"], state="opted_in", source="test")
    content = {"template": {"name": "promo", "language": {"code": "pt_BR"}, "components": []}}
    message, _ = queue(customer, django_capture_on_commit_callbacks, kind="template", content=content)
    contact_consent_set(contact=Contact.objects.get(pk=customer.pk), categories=["marketing"], state="opted_out",
                        source="keyword SAIR")
    assert message_deliver_attempt(message_id=message.pk) is None
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == "opted_out" and fake_graph.sent == []


def test_a_template_paused_after_queueing_is_not_sent(customer, fake_graph, django_capture_on_commit_callbacks):
    from messaging.models import MessageTemplate

    template = MessageTemplate.objects.create(name="aviso", language="pt_BR", status="APPROVED", category="UTILITY",
                                              components=[{"type": "BODY", "text": "Aviso"}], parameter_count=0)
    content = {"template": {"name": "aviso", "language": {"code": "pt_BR"}, "components": []}}
    message, _ = queue(customer, django_capture_on_commit_callbacks, kind="template", content=content)
    MessageTemplate.objects.filter(pk=template.pk).update(status="PAUSED")
    message_deliver_attempt(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "failed" and "PAUSED" in message.error and fake_graph.sent == []
