"""Sending through the Cloud API client against the fake Graph API (real HTTP): bodies, errors,
retries with backoff, channel pause, idempotency, lost workers, rate limits, per-contact order and
sends whose outcome is unknown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Channel, ChannelAlert, Message
from messaging.outbound import OWN_ATTEMPT_GRACE, message_send, messages_drain, outbound_shard
from messaging.providers import whatsapp_cloud as wa
from messaging.services import (
    channel_resume,
    message_queue_outbound,
    messages_requeue_stale,
    retry_delay,
)
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import make_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_in_english")]


@pytest.fixture
def customer(cloud_channel):
    return make_contact(phone="+5511987654321", channel=cloud_channel)


def queue(customer, django_capture_on_commit_callbacks, *, kind="text", content=None, key="k1", text="Olá!"):
    content = content or {"text": {"body": text, "preview_url": False}}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = message_queue_outbound(contact=customer, conversation=None, kind=kind, content=content,
                                         idempotency_key=key)
    return message, callbacks


@pytest.fixture
def wakes(monkeypatch):
    """Delayed wake-ups, recorded instead of queued: [(shard, countdown)] for the outbound drains and
    [(("message", id), countdown)] for one message's own attempt (at its pair-rate slot)."""
    scheduled: list[tuple[object, float]] = []
    monkeypatch.setattr("messaging.tasks.outbound_drain.apply_async",
                        lambda args, countdown=0: scheduled.append((args[0], countdown)))
    monkeypatch.setattr("messaging.tasks.outbound_drain.delay", lambda shard: scheduled.append((shard, 0)))
    monkeypatch.setattr("messaging.tasks.message_deliver.apply_async",
                        lambda args, countdown=0: scheduled.append((("message", args[0]), countdown)))
    return scheduled


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """What the sender does with a queued message (its shard's drain does the same in batches).

    The sender works outside any transaction; in a test everything runs inside one, so its after-commit
    work (wake-ups) runs as the send returns."""

    def send_one(message) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            message_send(message_id=message.pk)
        message.refresh_from_db()
        return message

    return send_one


@pytest.fixture
def drain(django_capture_on_commit_callbacks):
    def drain_shard(shard: int) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return messages_drain(shard=shard)

    return drain_shard


def due_now(message) -> None:
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


# --- client over real HTTP ------------------------------------------------------------------


def test_client_sends_each_kind_over_http_with_the_token(cloud_channel, fake_graph, send):
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
def test_graph_errors_are_classified(cloud_channel, fake_graph, code, retryable, pause, words, send):
    from messaging.providers.base import ProviderError

    fake_graph.fail(code)
    with pytest.raises(ProviderError) as info:
        wa.CloudClient.for_channel(cloud_channel).send(wa.build_text("+5511987654321", "oi"))
    assert (info.value.code, info.value.retryable, info.value.pause_channel) == (str(code), retryable, pause)
    assert words in info.value.message


def test_5xx_and_timeouts_are_retryable(cloud_channel, fake_graph, settings, send):
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


def test_wrong_token_is_190(cloud_channel, fake_graph, send):
    from messaging.providers.base import ProviderError

    cloud_channel.access_token = "EAAG-wrong-token"
    with pytest.raises(ProviderError) as info:
        wa.CloudClient.for_channel(cloud_channel).send(wa.build_text("+5511987654321", "oi"))
    assert info.value.code == "190" and info.value.pause_channel


# --- delivery -------------------------------------------------------------------------------


def test_a_queued_message_is_sent_once_and_recorded(customer, fake_graph, django_capture_on_commit_callbacks, wakes, send):
    message, callbacks = queue(customer, django_capture_on_commit_callbacks)
    assert message.status == "queued" and len(callbacks) == 1  # its shard's drain is woken after commit
    message = send(message)
    assert message.status == "sent" and message.provider_message_id.startswith("wamid.fake.")
    assert message.attempts == 1 and message.sent_at is not None
    # Delivered twice (broker redelivery, a second drain): the second attempt does nothing.
    send(message)
    assert len(fake_graph.sent) == 1
    assert fake_graph.sent[0]["biz_opaque_callback_data"] == "k1"


def test_the_same_idempotency_key_queues_one_message(customer, fake_graph, django_capture_on_commit_callbacks):
    first, _ = queue(customer, django_capture_on_commit_callbacks, key="run-1:node-2")
    again, callbacks = queue(customer, django_capture_on_commit_callbacks, key="run-1:node-2")
    assert again.pk == first.pk and callbacks == []
    assert Message.objects.filter(direction="out").count() == 1


def test_the_drain_sends_its_shards_messages_in_batches(cloud_channel, fake_graph, django_capture_on_commit_callbacks,
                                                        settings, wakes, drain):
    settings.FLUXO_OUTBOUND_SHARDS = 1
    contacts = [make_contact(phone=f"+55119876501{i:02d}", channel=cloud_channel) for i in range(12)]
    for i, contact in enumerate(contacts):
        queue(contact, django_capture_on_commit_callbacks, key=f"b{i}", text=f"m{i}")
    assert drain(0) == 12
    assert sorted(body["text"]["body"] for body in fake_graph.sent) == sorted(f"m{i}" for i in range(12))
    assert set(Message.objects.filter(direction="out").values_list("status", flat=True)) == {"sent"}


@pytest.mark.parametrize("code", [130429, 131016, 4, 80007])
def test_retryable_errors_go_back_to_queued_with_backoff(customer, fake_graph, code, wakes,
                                                         django_capture_on_commit_callbacks, send):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(code)
    message = send(message)
    assert message.status == "queued" and message.error_code == str(code)
    assert message.next_attempt_at > timezone.now()
    # One wake-up scheduled for the retry, 2 s and jitter from now: the message's own attempt.
    assert len(wakes) == 1 and wakes[0][0] == ("message", message.pk) and 2 <= wakes[0][1] <= 2.5
    # Woken early (a duplicate, another message of the shard): nothing happens before its time.
    send(message)
    assert len(fake_graph.sent) == 1
    due_now(message)
    message = send(message)
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


def test_pair_rate_limit_131056_backs_off_4_to_the_n(customer, fake_graph, django_capture_on_commit_callbacks, wakes, send):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    for attempt in (1, 2, 3):
        fake_graph.fail(131056)
        due_now(message)
        send(message)
        assert 4 ** attempt <= wakes[-1][1] <= 4 ** attempt * 1.25


def test_gives_up_after_max_attempts(customer, fake_graph, settings, django_capture_on_commit_callbacks, wakes, send):
    settings.WHATSAPP_MAX_ATTEMPTS = 3
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(http_status=503, times=3)
    for _ in range(3):
        due_now(message)
        message = send(message)
    assert message.status == "failed" and message.error.startswith("gave up after 3 attempts")


@pytest.mark.parametrize("code,reason", [(131047, "use a template"), (132001, "template missing"),
                                         (132000, "template variables"), (131026, "undeliverable")])
def test_permanent_errors_fail_with_a_clear_reason(customer, fake_graph, code, reason,
                                                   django_capture_on_commit_callbacks, send):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(code)
    message = send(message)
    assert message.status == "failed" and message.error_code == str(code) and reason in message.error
    assert len(fake_graph.sent) == 1


def test_131050_on_send_records_the_opt_out(customer, fake_graph, django_capture_on_commit_callbacks, send):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(131050)
    send(message)
    customer.refresh_from_db()
    assert customer.consent_state("marketing") == "opted_out"


@pytest.mark.parametrize("code", [190, 368, 131031, 130497])
def test_account_errors_pause_the_channel_and_alert(customer, cloud_channel, fake_graph, code, wakes,
                                                    django_capture_on_commit_callbacks, send):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(code)
    message = send(message)
    channel = Channel.objects.get(pk=cloud_channel.pk)
    assert channel.is_paused and str(code) in channel.pause_reason
    alert = ChannelAlert.objects.get(channel=channel)
    assert alert.code == str(code) and alert.resolved_at is None
    assert message.status == "queued"  # kept, not lost
    # While paused: nothing leaves, and flows get a clear refusal.
    from messaging.rules import SendRefused

    customer.channel = channel
    with pytest.raises(SendRefused, match="paused"):
        queue(customer, django_capture_on_commit_callbacks, key="k2")
    send(message)
    assert len(fake_graph.sent) == 1
    # Fixed and resumed: the waiting message goes.
    with django_capture_on_commit_callbacks(execute=True):
        assert channel_resume(channel=channel) == 1
    assert wakes == [(outbound_shard(customer.pk), 0)]
    message = send(message)
    alert.refresh_from_db()
    assert message.status == "sent" and alert.resolved_at is not None


def test_a_rotated_token_is_picked_up_instead_of_pausing(customer, cloud_channel, fake_graph,
                                                         django_capture_on_commit_callbacks, send):
    """The sender caches channels: a token changed since is re-read on 190, not taken for an expired one."""
    from messaging.channel_cache import channel_get

    cloud_channel.access_token = "EAAG-old-token-999"
    cloud_channel.save()
    assert channel_get(cloud_channel.pk).access_token == "EAAG-old-token-999"  # cached by the sender
    type(cloud_channel).objects.filter(pk=cloud_channel.pk).update(access_token=fake_graph.token)  # another process
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    message = send(message)
    assert message.status == "sent" and not Channel.objects.get(pk=cloud_channel.pk).is_paused


def test_alert_is_visible_in_the_admin(admin_client, customer, cloud_channel, fake_graph,
                                       django_capture_on_commit_callbacks, send):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(190)
    send(message)
    page = admin_client.get("/admin/messaging/channel/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "paused" in page and "190" in page
    assert "pausado" in admin_client.get("/admin/messaging/channel/").content.decode()
    page = admin_client.get("/admin/messaging/channelalert/").content.decode()
    assert "Channel paused" in page


# --- a contact's messages, in order ---------------------------------------------------------------


def _limits_reset(settings) -> None:
    """Time passes: the rate-limit buckets refill (in process and in Redis)."""
    from messaging import ratelimit

    ratelimit.reset_local()
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter("fluxo:rl:*"):
            client.delete(key)


def test_a_contacts_messages_leave_in_the_order_they_were_queued(customer, fake_graph, settings, wakes,
                                                                 django_capture_on_commit_callbacks, send, drain):
    """Behind a retry and the pair rate limit, the order holds: nothing overtakes a message still waiting."""
    settings.WHATSAPP_RECIPIENT_BURST = 3
    messages = [queue(customer, django_capture_on_commit_callbacks, key=f"o{i}", text=f"{i}")[0] for i in range(6)]
    fake_graph.fail(http_status=503)  # the first attempt of the first message fails
    for message in reversed(messages):  # woken in any order: only the head may go
        send(message)
    assert len(fake_graph.sent) == 1  # the failed attempt, nothing else
    statuses = list(Message.objects.filter(direction="out").order_by("id").values_list("status", flat=True))
    assert statuses == ["queued"] * 6  # the head waits for its retry; the rest wait behind it
    assert len(wakes) == 1  # one wake-up: the head's retry
    for _ in range(6):  # time passes, the heads' own attempts are lost: the drain's batches take them
        Message.objects.filter(direction="out", status="queued", next_attempt_at__isnull=False).update(
            next_attempt_at=timezone.now() - OWN_ATTEMPT_GRACE - timedelta(seconds=1))
        _limits_reset(settings)
        drain(outbound_shard(customer.pk))
    assert [b["text"]["body"] for b in fake_graph.sent] == ["0", "0", "1", "2", "3", "4", "5"]
    assert set(Message.objects.filter(direction="out").values_list("status", flat=True)) == {"sent"}


def test_the_pair_limit_holds_the_next_message_with_one_wake_up(customer, fake_graph, settings, wakes,
                                                                django_capture_on_commit_callbacks, drain):
    settings.WHATSAPP_RECIPIENT_BURST = 2
    messages = [queue(customer, django_capture_on_commit_callbacks, key=f"p{i}", text=f"{i}")[0] for i in range(4)]
    drain(outbound_shard(customer.pk))
    assert [b["text"]["body"] for b in fake_graph.sent] == ["0", "1"]  # the burst, in order
    third = Message.objects.get(pk=messages[2].pk)
    assert third.status == "queued" and third.next_attempt_at > timezone.now()
    assert Message.objects.get(pk=messages[3].pk).next_attempt_at is None  # waits behind, no wake-up of its own
    # One wake-up, at the slot, for the waiting message itself (it chains to the fourth): no shard drain.
    assert [(target, countdown) for target, countdown in wakes if countdown] == [(("message", messages[2].pk), pytest.approx(
        wakes[-1][1]))]
    assert 4 < wakes[-1][1] <= 6.1


def test_a_drain_leaves_a_head_waiting_for_its_own_attempt_until_that_attempt_is_overdue(
        customer, fake_graph, settings, wakes, django_capture_on_commit_callbacks, drain, send):
    """A drain that took heads at their slot too ran for as long as customers waited behind the pair rate."""
    settings.WHATSAPP_RECIPIENT_BURST = 1
    first, second = (queue(customer, django_capture_on_commit_callbacks, key=f"w{i}", text=f"{i}")[0] for i in range(2))
    drain(outbound_shard(customer.pk))
    assert [b["text"]["body"] for b in fake_graph.sent] == ["0"]  # the second waits for its slot, its attempt scheduled
    _limits_reset(settings)
    Message.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now())  # its moment has come
    assert drain(outbound_shard(customer.pk)) == 0 and len(fake_graph.sent) == 1  # its own attempt sends it, not a drain
    Message.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now() - OWN_ATTEMPT_GRACE - timedelta(seconds=1))
    assert drain(outbound_shard(customer.pk)) == 1  # that attempt was lost: the drain takes the head
    assert [b["text"]["body"] for b in fake_graph.sent] == ["0", "1"]
    assert Message.objects.get(pk=first.pk).status == Message.objects.get(pk=second.pk).status == "sent"


# --- sends whose outcome is unknown ---------------------------------------------------------------


def test_a_send_that_timed_out_is_uncertain_not_sent_again_at_once(customer, fake_graph, settings, wakes,
                                                                   django_capture_on_commit_callbacks, send):
    settings.WHATSAPP_HTTP_TIMEOUT = 0.3
    settings.WHATSAPP_UNCERTAIN_GRACE = 120
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    second, _ = queue(customer, django_capture_on_commit_callbacks, key="k2", text="depois")
    fake_graph.fail(delay=1.0)  # Meta takes the message but answers after our timeout
    message = send(message)
    assert message.status == "uncertain" and message.next_attempt_at > timezone.now() + timedelta(seconds=100)
    assert wakes[-1][1] == 120  # one wake-up at the end of the grace period
    send(message)
    send(second)  # the contact's next message waits behind the unknown one
    assert len(fake_graph.sent) == 1 and Message.objects.get(pk=second.pk).status == "queued"


def test_an_uncertain_send_confirmed_by_metas_status_is_not_repeated(client, customer, cloud_channel, fake_graph,
                                                                     settings, django_capture_on_commit_callbacks, send):
    from tests.messaging.conftest import post_webhook

    settings.WHATSAPP_HTTP_TIMEOUT = 0.3
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    second, _ = queue(customer, django_capture_on_commit_callbacks, key="k2", text="depois")
    fake_graph.fail(delay=1.0)
    send(message)
    status = {"id": "wamid.LATE-ANSWER", "status": "sent", "timestamp": "1700000000", "recipient_id": "5511987654321",
              "biz_opaque_callback_data": message.idempotency_key}
    payload = {"object": "whatsapp_business_account", "entry": [{"id": cloud_channel.waba_id, "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
                                       "metadata": {"phone_number_id": cloud_channel.phone_number_id},
                                       "statuses": [status]}}]}]}
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(client, payload)
        from messaging.models import WebhookDelivery
        from messaging.webhooks import webhook_delivery_process

        webhook_delivery_process(delivery_id=WebhookDelivery.objects.latest("id").pk)
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_message_id == "wamid.LATE-ANSWER"
    assert not message.possible_duplicate
    send(second)  # the queue moved on
    assert [b["text"]["body"] for b in fake_graph.sent] == ["Olá!", "depois"]


def test_an_uncertain_send_with_no_sign_is_sent_again_as_a_possible_duplicate(customer, fake_graph, settings, wakes,
                                                                               django_capture_on_commit_callbacks, send):
    settings.WHATSAPP_HTTP_TIMEOUT = 0.3
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    fake_graph.fail(delay=1.0)
    send(message)
    due_now(message)  # the grace period passed with no status webhook
    message = send(message)
    assert message.status == "sent" and message.possible_duplicate and message.attempts == 2
    assert len(fake_graph.sent) == 2


def test_a_refused_connection_is_certain_and_retried_normally(customer, cloud_channel, settings, wakes,
                                                              django_capture_on_commit_callbacks, send):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens here
    cloud_channel.graph_api_base_url = f"http://127.0.0.1:{port}"
    cloud_channel.save()
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    message = send(message)
    assert message.status == "queued" and message.error_code == "connection" and not message.possible_duplicate


# --- lost workers -----------------------------------------------------------------------------


def test_a_lost_queued_message_is_requeued(customer, fake_graph, django_capture_on_commit_callbacks, wakes):
    message, _ = queue(customer, django_capture_on_commit_callbacks)  # its on-commit wake-up is "lost"
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert messages_requeue_stale() == 1 and wakes == [(outbound_shard(customer.pk), 0)]


def test_a_worker_dying_mid_send_is_recovered(customer, fake_graph, django_capture_on_commit_callbacks, wakes, send):
    """Claimed as sending, HTTP maybe done, then the worker died before recording: when the lease expires the
    message is uncertain and is sent again, recorded as a possible duplicate (unless Meta's status came)."""
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    Message.objects.filter(pk=message.pk).update(status="sending", attempts=1,
                                                 next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert messages_requeue_stale() == 1 and wakes == [(outbound_shard(customer.pk), 0)]
    message.refresh_from_db()
    assert message.status == "uncertain" and "worker stopped" in message.error
    message = send(message)
    assert message.status == "sent" and message.attempts == 2 and message.possible_duplicate


def test_a_message_inside_its_sending_lease_is_left_alone(customer, fake_graph, django_capture_on_commit_callbacks,
                                                          wakes):
    message, _ = queue(customer, django_capture_on_commit_callbacks)
    Message.objects.filter(pk=message.pk).update(status="sending", next_attempt_at=timezone.now() + timedelta(minutes=4))
    assert messages_requeue_stale() == 0 and wakes == []


# --- rate limits ------------------------------------------------------------------------------


def test_per_recipient_limit_allows_a_small_burst_then_spaces_messages(customer, fake_graph, settings, wakes,
                                                                        django_capture_on_commit_callbacks, send):
    settings.WHATSAPP_RECIPIENT_BURST = 2
    messages = [queue(customer, django_capture_on_commit_callbacks, key=f"k{i}")[0] for i in range(3)]
    send(messages[0])  # the chain: the first, then the next while the burst lasts
    third = Message.objects.get(pk=messages[2].pk)
    assert third.status == "queued" and len(fake_graph.sent) == 2
    assert 4 < wakes[-1][1] <= 6.1  # about one per 6 s after the burst


def test_per_sender_limit(cloud_channel, fake_graph, settings, wakes, django_capture_on_commit_callbacks, send):
    cloud_channel.messages_per_second = 2
    cloud_channel.save()
    contacts = [make_contact(phone=f"+55119876500{i:02d}", channel=cloud_channel) for i in range(3)]
    messages = [queue(c, django_capture_on_commit_callbacks, key=f"s{i}")[0] for i, c in enumerate(contacts)]
    for message in messages:
        send(message)
    assert len(fake_graph.sent) == 2 and 0 < wakes[-1][1] <= 0.6


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


def test_template_message_carries_rendered_text_and_buttons(customer, fake_graph, django_capture_on_commit_callbacks, send):
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
    send(message)
    sent = fake_graph.sent[0]
    assert sent["type"] == "template" and "rendered_text" not in sent["template"]


def test_an_opt_out_stops_queued_marketing_before_it_leaves(customer, fake_graph, django_capture_on_commit_callbacks, send):
    from messaging.models import Contact, MessageTemplate
    from messaging.services import contact_consent_set

    MessageTemplate.objects.create(name="promo", language="pt_BR", status="APPROVED", category="MARKETING",
                                   components=[{"type": "BODY", "text": "Oferta!"}], parameter_count=0)
    contact_consent_set(contact=customer, categories=["marketing"], state="opted_in", source="test")
    content = {"template": {"name": "promo", "language": {"code": "pt_BR"}, "components": []}}
    message, _ = queue(customer, django_capture_on_commit_callbacks, kind="template", content=content)
    contact_consent_set(contact=Contact.objects.get(pk=customer.pk), categories=["marketing"], state="opted_out",
                        source="keyword SAIR")
    message.refresh_from_db()  # failed by the opt-out itself, before any send
    assert message.status == "failed" and message.error_code == "opted_out"
    send(message)
    assert fake_graph.sent == []


def test_a_template_paused_after_queueing_is_not_sent(customer, fake_graph, django_capture_on_commit_callbacks, send):
    from messaging.models import MessageTemplate

    MessageTemplate.objects.create(channel=customer.channel, name="aviso", language="pt_BR",
                                              status="APPROVED", category="UTILITY",
                                              components=[{"type": "BODY", "text": "Aviso"}], parameter_count=0)
    content = {"template": {"name": "aviso", "language": {"code": "pt_BR"}, "components": []}}
    message, _ = queue(customer, django_capture_on_commit_callbacks, kind="template", content=content)
    # Meta pauses the template: its status webhook fails what still waits to use it.
    from messaging.webhooks import template_status_apply

    template_status_apply(waba_id=customer.channel.waba_id, value={
        "event": "PAUSED", "message_template_id": "", "message_template_name": "aviso",
        "message_template_language": "pt_BR"})
    message = send(message)
    assert message.status == "failed" and message.error_code == "template_paused" and fake_graph.sent == []
    assert message.error == "not sent: template 'aviso' (pt_BR) is paused now"
