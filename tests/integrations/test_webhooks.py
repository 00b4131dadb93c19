"""Outbound webhooks against a real receiver that verifies signatures and fails on purpose:
fan-out of domain events, signing, retries with backoff, giving up after 24 h, auto-disable with
an alert, manual redelivery and the periodic sweeper."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.signals import domain_event_emit
from integrations.models import IntegrationAlert, WebhookDelivery, WebhookSubscription
from integrations.webhooks import signing
from integrations.webhooks.services import (
    webhook_delivery_attempt,
    webhook_delivery_redeliver,
    webhook_event_fanout,
    webhook_subscription_create,
    webhook_subscription_enable,
    webhooks_deliver_due,
)
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)

pytestmark = pytest.mark.usefixtures("run_in_english")


@pytest.fixture
def subscription(db, webhook_receiver, allow_local):
    sub, secret = webhook_subscription_create(name="crm", url=webhook_receiver.url + "/hooks",
                                              event_types=["conversation.assigned", "run.completed"])
    webhook_receiver.state["secret"] = secret
    return sub


def test_signature_roundtrip_and_tampering():
    body = b'{"a":1}'
    now = int(time.time())
    header = signing.signature_header("whsec_x", now, body)
    assert signing.verify("whsec_x", header, body)
    assert not signing.verify("whsec_x", header, b'{"a":2}')
    assert not signing.verify("whsec_other", header, body)
    assert not signing.verify("whsec_x", header, body, now=now + 301)  # replayed too late
    assert not signing.verify("whsec_x", "garbage", body)


def test_domain_event_fans_out_to_subscribers_and_delivers_signed(subscription, webhook_receiver, eager_celery,
                                                                 django_capture_on_commit_callbacks):
    other, _ = webhook_subscription_create(name="other", url=webhook_receiver.url + "/other",
                                           event_types=["message.read"])
    with django_capture_on_commit_callbacks(execute=True):
        domain_event_emit(event_type="conversation.assigned", data={"conversation_id": 7, "team": "Vendas"})
    delivery = WebhookDelivery.objects.get()
    assert delivery.subscription == subscription and delivery.status == "succeeded" and delivery.attempts == 1
    [received] = webhook_receiver.requests
    assert received["path"] == "/hooks" and received["verified"] is True
    body = json.loads(received["body"])
    assert body["type"] == "conversation.assigned" and body["data"] == {"conversation_id": 7, "team": "Vendas"}
    assert received["headers"]["x-fluxo-event-id"] == str(delivery.event_id) == body["id"]
    assert received["headers"]["x-fluxo-event"] == "conversation.assigned"
    assert not other.deliveries.exists()


def test_failed_attempts_back_off_exponentially(subscription, webhook_receiver, settings):
    settings.FLUXO_WEBHOOK_BACKOFF_BASE = 30
    webhook_receiver.state["fail"] = True
    [delivery] = webhook_event_fanout(event_type="run.completed", data={"run_id": 1})
    delays = []
    for _ in range(3):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        before = timezone.now()
        delivery = webhook_delivery_attempt(delivery_id=delivery.pk)
        delays.append((delivery.next_attempt_at - before).total_seconds())
    assert delivery.status == "retrying" and delivery.attempts == 3
    assert delivery.last_status_code == 500 and "500" in delivery.last_error
    assert 24 <= delays[0] <= 37 and 48 <= delays[1] <= 73 and 96 <= delays[2] <= 145
    assert len(delivery.attempt_log) == 3 and all(entry["status_code"] == 500 for entry in delivery.attempt_log)
    assert all(r["verified"] for r in webhook_receiver.requests)  # it was signed; it failed on purpose


def test_not_due_or_finished_deliveries_are_left_alone(subscription, webhook_receiver):
    [delivery] = webhook_event_fanout(event_type="run.completed", data={})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert webhook_delivery_attempt(delivery_id=delivery.pk).status == "succeeded"
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None  # a second task run is a no-op
    assert len(webhook_receiver.requests) == 1


def test_gives_up_after_max_age(subscription, webhook_receiver):
    webhook_receiver.state["fail"] = True
    [delivery] = webhook_event_fanout(event_type="run.completed", data={})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(hours=23, minutes=59, seconds=45))
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert delivery.status == "failed" and delivery.next_attempt_at is None


def test_repeated_failures_disable_the_subscription_with_an_alert(subscription, webhook_receiver, settings):
    settings.FLUXO_WEBHOOK_DISABLE_AFTER = 3
    webhook_receiver.state["fail"] = True
    deliveries = [webhook_event_fanout(event_type="run.completed", data={"n": n})[0] for n in range(3)]
    for delivery in deliveries:
        webhook_delivery_attempt(delivery_id=delivery.pk)
    subscription.refresh_from_db()
    assert subscription.is_active is False and subscription.disabled_at is not None
    alert = IntegrationAlert.objects.get(subscription=subscription)
    assert alert.kind == "webhook_disabled" and "crm" in alert.message and alert.resolved_at is None
    assert webhook_event_fanout(event_type="run.completed", data={}) == []  # disabled: no new deliveries
    webhook_subscription_enable(subscription=subscription)
    alert.refresh_from_db()
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.consecutive_failures == 0 and alert.resolved_at is not None


def test_a_success_resets_the_failure_count(subscription, webhook_receiver):
    webhook_receiver.state["fail"] = True
    [first] = webhook_event_fanout(event_type="run.completed", data={})
    webhook_delivery_attempt(delivery_id=first.pk)
    assert WebhookSubscription.objects.get(pk=subscription.pk).consecutive_failures == 1
    webhook_receiver.state["fail"] = False
    [second] = webhook_event_fanout(event_type="run.completed", data={})
    webhook_delivery_attempt(delivery_id=second.pk)
    assert WebhookSubscription.objects.get(pk=subscription.pk).consecutive_failures == 0


def test_manual_redelivery_keeps_the_event_id(subscription, webhook_receiver):
    [delivery] = webhook_event_fanout(event_type="run.completed", data={"run_id": 9})
    webhook_delivery_attempt(delivery_id=delivery.pk)
    again = webhook_delivery_redeliver(delivery=delivery)
    webhook_delivery_attempt(delivery_id=again.pk)
    again.refresh_from_db()
    assert again.status == "succeeded" and again.redelivery_of_id == delivery.pk
    ids = {r["headers"]["x-fluxo-event-id"] for r in webhook_receiver.requests}
    assert ids == {str(delivery.event_id)} and len(webhook_receiver.requests) == 2


def test_sweeper_retries_due_deliveries_only(subscription, webhook_receiver):
    due = webhook_event_fanout(event_type="run.completed", data={"n": 1})[0]
    later = webhook_event_fanout(event_type="run.completed", data={"n": 2})[0]
    WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1),
                                                       status="retrying")
    assert webhooks_deliver_due() == 1
    assert WebhookDelivery.objects.get(pk=due.pk).status == "succeeded"
    assert WebhookDelivery.objects.get(pk=later.pk).status == "retrying"


def test_webhook_to_an_internal_address_is_refused(db, settings):
    settings.FLUXO_HTTP_ALLOWLIST = []
    sub, _ = webhook_subscription_create(name="meta", url="http://169.254.169.254/latest", event_types=["*"])
    [delivery] = webhook_event_fanout(event_type="run.failed", data={})
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert delivery.status == "retrying" and "cloud metadata" in delivery.last_error


def test_signing_secret_is_encrypted_at_rest_and_masked_in_logs(subscription, caplog):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM integrations_webhooksubscription WHERE id = %s", [subscription.pk])
        stored = cursor.fetchone()[0]
    secret = WebhookSubscription.objects.get(pk=subscription.pk).secret
    assert stored.startswith("fernet:") and secret not in stored
    import logging

    from core.logging import MaskSecretsFilter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "leaked %s", (secret,), None)
    MaskSecretsFilter().filter(record)
    assert secret not in record.getMessage()


def test_the_receiver_snippet_in_the_docs_verifies_a_real_delivery(subscription, webhook_receiver):
    """The documented receiver code (docs/integrations.md) accepts our signature and refuses tampering."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "integrations.md").read_text()
    section = doc.split("### Verifying the signature", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/integrations.md", "exec"), namespace)  # noqa: S102 - our own documentation
    verify = namespace["verify_fluxo_signature"]

    [delivery] = webhook_event_fanout(event_type="run.completed", data={"run_id": 5})
    webhook_delivery_attempt(delivery_id=delivery.pk)
    [received] = webhook_receiver.requests
    header = received["headers"]["x-fluxo-signature"]
    secret = webhook_receiver.state["secret"]
    assert verify(secret, header, received["body"]) is True
    assert verify(secret, header, received["body"] + b" ") is False
    assert verify("whsec_wrong", header, received["body"]) is False


def test_admin_shows_open_alerts(subscription, webhook_receiver, settings, client):
    from tests.factories import make_user

    settings.FLUXO_WEBHOOK_DISABLE_AFTER = 1
    webhook_receiver.state["fail"] = True
    [delivery] = webhook_event_fanout(event_type="run.completed", data={})
    webhook_delivery_attempt(delivery_id=delivery.pk)
    make_user("boss", role="admin", is_staff=True, is_superuser=True)
    client.login(username="boss", password="s3nha-forte-123")
    alerts = client.get("/admin/integrations/integrationalert/")
    assert alerts.status_code == 200 and b"was disabled" in alerts.content
    subs = client.get("/admin/integrations/webhooksubscription/")
    assert "alerta(s) de integração em aberto".encode() in subs.content  # the admin speaks pt-BR
    english = client.get("/admin/integrations/webhooksubscription/", HTTP_ACCEPT_LANGUAGE="en")
    assert b"open integration alert" in english.content
    assert subscription.secret.encode() not in client.get(f"/admin/integrations/webhooksubscription/{subscription.pk}/change/").content


def test_a_flow_routing_a_conversation_notifies_the_crm(subscription, webhook_receiver, eager_celery,
                                                        django_capture_on_commit_callbacks):
    """Flow → route_to_team → conversation.assigned → signed delivery to the receiver."""
    from integrations.models import Team
    from tests.factories import chain, make_contact, node
    from tests.integrations.conftest import run_flow

    Team.objects.create(name="Vendas", priority=5)
    with django_capture_on_commit_callbacks(execute=True):
        run_flow(chain(node("t", "trigger", event="message", match="any"), node("r", "route_to_team", team="Vendas")),
                 make_contact())
    assigned = [r for r in webhook_receiver.requests if r["headers"]["x-fluxo-event"] == "conversation.assigned"]
    assert len(assigned) == 1 and assigned[0]["verified"]
    assert json.loads(assigned[0]["body"])["data"]["team"] == "Vendas"


@pytest.mark.postgres
def test_two_workers_racing_on_one_delivery_send_it_once(transactional_db, webhook_receiver, allow_local):
    """The task and the sweeper may pick the same due delivery at once: the claim lets one send."""
    import threading

    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database locks whole tables across threads")
    sub, secret = webhook_subscription_create(name="crm", url=webhook_receiver.url, event_types=["*"])
    webhook_receiver.state.update(secret=secret, delay=0.5)
    [delivery] = webhook_event_fanout(event_type="run.completed", data={})
    results, barrier = [], threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            results.append(webhook_delivery_attempt(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(webhook_receiver.requests) == 1
    assert sorted(r is None for r in results) == [False, True]
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded"


def test_finished_deliveries_are_pruned_after_the_retention(subscription, webhook_receiver):
    from integrations.webhooks.services import webhook_deliveries_prune

    old_done, old_retrying, recent = (webhook_event_fanout(event_type="run.completed", data={"n": n})[0] for n in range(3))
    WebhookDelivery.objects.filter(pk=old_done.pk).update(status="succeeded", created_at=timezone.now() - timedelta(days=31))
    WebhookDelivery.objects.filter(pk=old_retrying.pk).update(status="retrying",
                                                              created_at=timezone.now() - timedelta(days=31))
    WebhookDelivery.objects.filter(pk=recent.pk).update(status="succeeded")
    assert webhook_deliveries_prune(older_than_days=30) == 1
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {old_retrying.pk, recent.pk}
