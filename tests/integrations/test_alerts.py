"""Alerts: each condition opens one alert, resolves by itself, and is sent once to the team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core import metrics as core_metrics
from flows import stats
from flows.alerts import alert_send, alert_settings_global, alerts_evaluate
from flows.models import Alert, AlertSettings, FlowRun
from integrations.models import WebhookSubscription
from messaging.services import channel_pause, channel_resume
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import chain, make_flow, node
from tests.flows.helpers import inbound

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_in_english")]


@pytest.fixture(autouse=True)
def _clean_metrics():
    core_metrics.metrics_reset()
    yield
    core_metrics.metrics_reset()


def test_a_paused_channel_opens_one_alert_until_it_is_resumed(channel):
    channel_pause(channel=channel, code="190", reason="token expired")
    assert alerts_evaluate()["opened"] == 1
    assert alerts_evaluate()["opened"] == 0  # still the same alert
    alert = Alert.objects.get()
    assert alert.kind == "channel_paused" and alert.params["reason"] == "190: token expired"
    channel_resume(channel=channel)
    assert alerts_evaluate()["resolved"] == 1
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_a_disabled_outbound_webhook_is_an_alert():
    WebhookSubscription.objects.create(name="crm", url="https://crm.example/hook", event_types=["*"], is_active=False,
                                       disabled_at=timezone.now(), disabled_reason="20 failures in a row")
    alerts_evaluate()
    alert = Alert.objects.get()
    assert alert.kind == "webhook_disabled" and alert.params == {"name": "crm", "reason": "20 failures in a row"}
    assert "/admin/integrations/webhooksubscription/" in alert.link


def test_timer_backlog_from_the_rollups_gauge(contact):
    AlertSettings.objects.create(flow=None, timer_backlog_threshold=1)
    flow = make_flow(chain(node("t", "trigger", event="message", match="any"),
                           node("d", "delay", mode="duration", duration={"value": 1, "unit": "hours"})))
    inbound(contact, "oi")
    FlowRun.objects.filter(flow=flow).update(wake_at=timezone.now() - timedelta(minutes=5))
    stats.stats_rollup()  # measures the gauges, then evaluates alerts
    alert = Alert.objects.get(kind="timer_backlog")
    assert alert.params["overdue"] == 1 and alert.params["lateness"] >= 300


def test_a_graph_api_error_storm(db):
    AlertSettings.objects.create(flow=None, graph_error_threshold=3)
    for _ in range(3):
        core_metrics.graph_api_observe(seconds=0.1, result="130429")
    alerts_evaluate()
    alert = Alert.objects.get(kind="graph_errors")
    assert alert.params["errors"] == 3 and alert.params["top_code"] == "130429"
    assert "3 erros da Graph API" in alert_title_pt(alert)


def alert_title_pt(alert):
    from flows.alerts import alert_title

    return alert_title(alert.kind, alert.params)["pt-BR"]


def test_a_new_alert_is_e_mailed_once_to_the_configured_team(channel, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings_row = alert_settings_global()
    settings_row.notify_channel, settings_row.notify_to = "email", ["plantao@empresa.example"]
    settings_row.save()
    channel_pause(channel=channel, code="368", reason="policy block")
    alerts_evaluate()
    alert = Alert.objects.get()
    assert alert_send(alert_id=alert.pk) is True
    assert alert_send(alert_id=alert.pk) is False  # sent once
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["plantao@empresa.example"]
    assert "pausado" in mail.outbox[0].subject and "/dashboard#channels" in mail.outbox[0].body
    alert.refresh_from_db()
    assert alert.notified_at is not None and alert.notify_error == ""


def test_a_notification_that_cannot_be_sent_is_kept_on_the_alert(channel):
    settings_row = alert_settings_global()
    settings_row.notify_channel, settings_row.notify_subscription = "webhook", "nao-existe"
    settings_row.save()
    channel_pause(channel=channel, code="190", reason="token")
    alerts_evaluate()
    alert = Alert.objects.get()
    assert alert_send(alert_id=alert.pk) is False
    alert.refresh_from_db()
    assert "does not exist" in alert.notify_error and alert.notified_at is None


def test_a_flows_own_threshold_wins(channel):
    from flows.nodes import registry
    from tests.factories import make_contact
    from tests.flows.test_run_actions import FlakyNode

    registry.register(FlakyNode)
    try:
        flow = make_flow(chain(node("t", "trigger", event="message", match="any"), node("x", "test_flaky", fail=True)))
        for _ in range(2):
            inbound(make_contact(channel=channel), "oi")
    finally:
        registry._registry.pop(FlakyNode.key, None)
    assert alerts_evaluate()["opened"] == 0  # 2 runs: under the default minimum of 5
    AlertSettings.objects.create(flow=flow, failure_min_runs=2, failure_rate_threshold=0.5)
    assert alerts_evaluate()["opened"] == 1
    AlertSettings.objects.filter(flow=flow).update(failure_rate_enabled=False)
    assert alerts_evaluate()["resolved"] == 1
