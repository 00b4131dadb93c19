"""The admin pages of runs monitoring open with rows in them and are read-only (but alert settings)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from flows import run_actions, stats
from flows.alerts import alerts_evaluate
from flows.models import AlertSettings, ChannelHealth
from flows.monitoring_admin import ADMINS
from messaging.services import channel_pause
from tests.factories import chain, make_flow, make_user, node
from tests.flows.helpers import inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(contact):
    flow = make_flow(chain(node("t", "trigger", event="message", match="any"), node("m", "send_message", text="oi"),
                           node("w", "wait_for_reply")))
    inbound(contact, "oi")
    run_actions.run_action_request(run=flow.runs.get(), action="cancel", user=make_user("ana"))
    run_actions.run_action_batch_request(action="cancel", filters={"flow": flow.pk}, user=make_user("bia"))
    inbound(contact, "oi")  # the cancel is applied first, in order; this starts a new run
    channel_pause(channel=contact.channel, code="190", reason="token")
    AlertSettings.objects.create(flow=None)
    ChannelHealth.objects.create(channel=contact.channel, quality_rating="GREEN")
    stats.stats_rollup()
    alerts_evaluate()
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "s3nha-forte-123"))
    return client


@pytest.mark.parametrize("model", [model for model, _ in ADMINS], ids=lambda m: m._meta.model_name)
def test_each_page_opens_and_only_alert_settings_can_be_changed(admin_client, model):
    row = model.objects.order_by("pk").first()
    assert row is not None, f"no {model._meta.label} row"
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert admin_client.get(reverse(f"{name}_changelist")).status_code == 200
    page = admin_client.get(reverse(f"{name}_change", args=[row.pk]))
    assert page.status_code == 200
    can_save = 'name="_save"' in page.content.decode()
    assert can_save == (model is AlertSettings), model
    assert (admin_client.get(reverse(f"{name}_add")).status_code == 200) == (model is AlertSettings)
