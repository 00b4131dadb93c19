"""The admin inspects what the engine wrote (runs, steps, events, messages, webhook deliveries)
and runs its actions on them, but never edits, adds or deletes them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import InboundEvent
from flows import services
from flows.models import FlowRun, RunStep
from integrations.models import WebhookDelivery as OutboundDelivery
from integrations.models import WebhookSubscription
from messaging.models import Message, WebhookDelivery
from tests.factories import chain, make_contact, make_flow, make_user, node

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(channel):
    contact = make_contact(channel=channel)
    flow = make_flow(chain(node("t", "trigger", event="message", match="any"), node("e", "end")))
    event, _ = services.event_record(kind=InboundEvent.Kind.MESSAGE, dedupe_key="wa:msg:ro", contact=contact,
                                     channel=channel, payload={"type": "text", "text": "oi"})
    run = FlowRun.objects.create(flow=flow, revision=flow.published_revision, contact=contact, status="running",
                                 current_node="t")
    step = RunStep.objects.create(run=run, seq=1, node_id="t", node_type="trigger", outcome="next", port="next",
                                  started_at=timezone.now())
    message = Message.objects.create(direction="out", kind="text", content={"text": {"body": "oi"}}, contact=contact,
                                     channel=channel, status="sent")
    delivery = WebhookDelivery.objects.create(channel=channel, body="{}", state="failed", error="boom")
    subscription = WebhookSubscription.objects.create(name="CRM", url="https://crm.example.com/h",
                                                      event_types=["*"], secret="s")
    outbound = OutboundDelivery.objects.create(subscription=subscription, event_type="run.completed", payload={},
                                               status="failed")
    return {"event": event, "run": run, "step": step, "message": message, "delivery": delivery, "outbound": outbound}


@pytest.fixture
def admin_client(client):
    make_user("root", role="admin", is_staff=True, is_superuser=True)
    client.login(username="root", password="s3nha-forte-123")
    return client


@pytest.mark.parametrize("name", ["event", "run", "step", "message", "delivery", "outbound"])
def test_engine_records_are_inspected_never_edited(admin_client, rows, name):
    obj = rows[name]
    meta = obj._meta
    base = f"admin:{meta.app_label}_{meta.model_name}"
    listing = admin_client.get(reverse(f"{base}_changelist"))
    assert listing.status_code == 200
    assert reverse(f"{base}_add") not in listing.content.decode()  # no "Add" button
    assert admin_client.get(reverse(f"{base}_add")).status_code == 403
    change_url = reverse(f"{base}_change", args=[obj.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and "<textarea" not in html
    assert admin_client.post(change_url, {}).status_code == 403
    assert admin_client.get(reverse(f"{base}_delete", args=[obj.pk])).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_a_run_lists_its_steps_without_add_another(admin_client, rows):
    html = admin_client.get(reverse("admin:flows_flowrun_change", args=[rows["run"].pk])).content.decode()
    assert "trigger" in html
    # The inline script offers "add another" only below max_num; here max_num is 0 and no field is editable.
    assert 'name="steps-MAX_NUM_FORMS" value="0"' in html
    assert 'name="steps-0-node_id"' not in html and 'name="steps-0-DELETE"' not in html


def test_the_reprocess_and_redeliver_actions_still_work(admin_client, rows, django_capture_on_commit_callbacks):
    event = rows["event"]
    InboundEvent.objects.filter(pk=event.pk).update(state="failed", error="x")
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(reverse("admin:core_inboundevent_changelist"),
                                     {"action": "reprocess_events", "_selected_action": [event.pk]})
    assert response.status_code == 302
    assert InboundEvent.objects.get(pk=event.pk).state == "pending"

    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(reverse("admin:messaging_webhookdelivery_changelist"),
                          {"action": "reprocess", "_selected_action": [rows["delivery"].pk]})
    assert WebhookDelivery.objects.get(pk=rows["delivery"].pk).state == "pending"

    admin_client.post(reverse("admin:integrations_webhookdelivery_changelist"),
                      {"action": "redeliver", "_selected_action": [rows["outbound"].pk]})
    assert OutboundDelivery.objects.filter(redelivery_of=rows["outbound"]).exists()
