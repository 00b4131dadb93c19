"""Every integrations model is in the admin, and each changelist and change page renders without
showing a secret."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from integrations.ai.services import assistant_reply
from integrations.demo import seed
from integrations.events.services import api_integration_create
from integrations.models import Credential, IntegrationAlert, Team
from integrations.webhooks.services import webhook_event_fanout, webhook_subscription_create
from tests.factories import make_contact, make_user

MODELS = sorted(m._meta.label for m in apps.get_app_config("integrations").get_models())


@pytest.fixture
def one_of_each(db):
    seed()
    team = Team.objects.get(name="Prioridade")
    team.members.add(make_user("agente", role="editor"))
    api_integration_create(name="Loja")
    subscription, _secret = webhook_subscription_create(name="crm", url="https://crm.example.com/h", event_types=["*"])
    webhook_event_fanout(event_type="run.completed", data={"run_id": 1})
    IntegrationAlert.objects.create(kind="webhook_disabled", message="crm disabled", subscription=subscription)
    assistant_reply(assistant="Atendimento", text="qual o prazo de entrega?", contact=make_contact())


def test_every_integrations_model_is_in_the_admin():
    assert [label for label in MODELS if apps.get_model(label) not in admin.site._registry] == []


@pytest.mark.parametrize("label", MODELS)
def test_changelist_and_change_pages_render_without_secrets(admin_client, one_of_each, label):
    model = apps.get_model(label)
    instance = model._default_manager.first()
    assert instance is not None, f"the fixture made no {label}"
    secrets = [c.secret for c in Credential.objects.all()]
    for url in (reverse(f"admin:integrations_{model._meta.model_name}_changelist"),
                reverse(f"admin:integrations_{model._meta.model_name}_change", args=[instance.pk])):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert not any(secret.encode() in response.content for secret in secrets), url
