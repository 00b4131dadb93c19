"""Every admin changelist and change page of the flows and messaging models renders for a superuser."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from flows import services, testruns
from flows.engine.interpreter import Interpreter
from flows.models import FlowPublication, InboundEvent, UserPreference
from messaging.models import (
    ChannelAlert,
    ContactImport,
    Conversation,
    Message,
    SandboxChannel,
    Tag,
    WebhookDelivery,
    WhatsAppCloudChannel,
)
from messaging.services import contact_consent_set
from tests.factories import chain, make_contact, make_flow, make_template, make_user, node

APP_LABELS = ("core", "flows", "messaging")
MODELS = sorted(f"{m._meta.app_label}.{m._meta.model_name}" for label in APP_LABELS
                for m in apps.get_app_config(label).get_models())


@pytest.fixture
def one_of_each(db, admin_user):
    """At least one row of every flows and messaging model, linked the way real data is."""
    channel = SandboxChannel.objects.create(name="Sandbox")
    WhatsAppCloudChannel.objects.create(name="Loja", phone_number_id="1234567890", waba_id="999",
                                        access_token="EAAG-secret-token", app_secret="app-secret-value")
    contact = make_contact(channel=channel, name="Maria Silva", attributes={"tier": "gold"},
                           consent={"marketing": {"state": "opted_in", "at": "2026-11-01T00:00:00Z", "source": "t"}})
    contact.tags.add(Tag.objects.create(name="vip"))
    conversation = Conversation.objects.create(contact=contact, channel=channel, last_inbound_at=timezone.now())
    make_template("lembrete")
    ChannelAlert.objects.create(channel=channel, code="190", message="token expirado")
    WebhookDelivery.objects.create(body='{"entry": []}', channel=channel)
    ContactImport.objects.create(filename="clientes.csv", content="telefone\n+5511987654321\n", columns=["telefone"],
                                 row_count=1)
    contact_consent_set(contact=contact, categories=["utility"], state="opted_out", source="keyword SAIR")

    flow = make_flow(chain(node("t", "trigger", event="message", match="any"),
                           node("m", "send_message", text="Olá {{contact.first_name}}"),
                           node("w", "wait_for_reply", timeout={"value": 1, "unit": "hours"})), name="Boas-vindas")
    FlowPublication.objects.create(flow=flow, revision=flow.published_revision, published_by=admin_user,
                                   comment="primeira")
    event, _ = services.event_record(kind=InboundEvent.Kind.MESSAGE, dedupe_key="wa:msg:1", contact=contact,
                                     channel=channel, payload={"type": "text", "text": "oi"}, raw={"id": "wamid.1"})
    Interpreter().run_start(flow=flow, revision=flow.published_revision, contact=contact, trigger_node_id="t",
                            event=event, conversation=conversation)
    assert Message.objects.filter(contact=contact).exists()
    testruns.test_run_start(flow=flow, user=admin_user)
    UserPreference.objects.create(user=admin_user, language="en")
    return {"contact": contact, "flow": flow}


def _admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _registered(label):
    model = apps.get_model(label)
    if model not in admin.site._registry:
        pytest.skip(f"{label} is not registered in the admin")
    return model


def test_every_flows_model_is_in_the_admin():
    missing = [m._meta.label for label in ("core", "flows") for m in apps.get_app_config(label).get_models()
               if m not in admin.site._registry]
    assert missing == []


# The rows the fixture makes; a model added later without one still gets its changelist checked.
MADE = {"flows.flow", "flows.flowrevision", "flows.flowpublication", "flows.flowrun", "flows.runstep",
        "core.inboundevent", "flows.testrun", "flows.userpreference", "messaging.channel",
        "messaging.sandboxchannel", "messaging.whatsappcloudchannel", "messaging.tag", "messaging.contact",
        "messaging.conversation", "messaging.message", "messaging.messagetemplate", "messaging.channelalert",
        "messaging.webhookdelivery"}


def test_the_fixture_makes_a_row_of_each_model(one_of_each):
    for label in sorted(MADE):
        assert apps.get_model(label)._default_manager.exists(), label


@pytest.mark.parametrize("label", MODELS)
def test_changelist_renders(admin_client, one_of_each, label):
    model = _registered(label)
    response = admin_client.get(_admin_url(model, "changelist"))
    assert response.status_code == 200
    model_admin = admin.site._registry[model]
    if model_admin.search_fields:
        assert admin_client.get(_admin_url(model, "changelist"), {"q": "maria"}).status_code == 200
    for list_filter in model_admin.list_filter:
        if isinstance(list_filter, str):
            response = admin_client.get(_admin_url(model, "changelist"), {f"{list_filter}__isnull": "False"})
            assert response.status_code == 200


@pytest.mark.parametrize("label", MODELS)
def test_change_page_renders(admin_client, one_of_each, label):
    model = _registered(label)
    obj = model._default_manager.order_by("pk").first()
    if obj is None and label not in MADE:
        pytest.skip(f"no {label} row to open")
    assert obj is not None, f"the fixture made no {label}"
    response = admin_client.get(_admin_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert b"errornote" not in response.content


def test_json_is_shown_pretty_and_read_only(admin_client, one_of_each):
    flow = one_of_each["flow"]
    revision = flow.published_revision
    page = admin_client.get(_admin_url(type(revision), "change", revision.pk)).content.decode()
    assert "<pre" in page and "&quot;send_message&quot;" in page
    assert 'name="definition"' not in page  # not an editable textarea
    run = flow.runs.filter(is_test=False).get()
    page = admin_client.get(_admin_url(type(run), "change", run.pk)).content.decode()
    assert "<pre" in page and 'name="context"' not in page


def test_revisions_cannot_be_changed_in_the_admin(admin_client, one_of_each):
    revision = one_of_each["flow"].published_revision
    response = admin_client.post(_admin_url(type(revision), "change", revision.pk), {"comment": "hack"})
    assert response.status_code == 403
    revision.refresh_from_db()
    assert revision.comment == ""


def test_secrets_do_not_show_in_the_channel_admin(admin_client, one_of_each):
    channel = WhatsAppCloudChannel.objects.get()
    model = _registered("messaging.whatsappcloudchannel")
    page = admin_client.get(_admin_url(model, "change", channel.pk)).content.decode()
    assert "EAAG-secret-token" not in page and "app-secret-value" not in page


def test_reprocess_action_puts_events_back_to_pending(admin_client, one_of_each):
    event = InboundEvent.objects.get(dedupe_key="wa:msg:1")
    InboundEvent.objects.filter(pk=event.pk).update(state=InboundEvent.State.FAILED, error="boom")
    response = admin_client.post(_admin_url(InboundEvent, "changelist"),
                                 {"action": "reprocess_events", "_selected_action": [event.pk]})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.state == InboundEvent.State.PENDING and event.error == ""


def test_a_non_staff_user_cannot_open_the_admin(client, db):
    user = make_user("ed", role="editor")
    client.force_login(user)
    response = client.get(reverse("admin:flows_flow_changelist"))
    assert response.status_code == 302 and "/login/" in response.url
