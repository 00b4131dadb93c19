"""route_to_team, set_conversation_state and notify, executed over real rows (and a real local
chat webhook), with the domain events they emit."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from core.signals import domain_event
from flows.nodes.base import StepError
from integrations.models import Team, WebhookDelivery
from integrations.vault.services import credential_create
from integrations.webhooks.services import webhook_subscription_create
from messaging.models import Conversation
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import definition, edge, make_contact, node
from tests.flows.helpers import FrozenRuntime
from tests.integrations.conftest import execute, run_flow

pytestmark = pytest.mark.usefixtures("run_in_english")

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


@pytest.fixture
def events():
    """Domain events received (they are sent after commit: wrap the action in
    ``django_capture_on_commit_callbacks(execute=True)``)."""
    seen: list[tuple[str, dict]] = []

    def receiver(sender, *, event_type, data, **kwargs):
        seen.append((event_type, data))

    domain_event.connect(receiver, dispatch_uid="test-routing-events")
    yield seen
    domain_event.disconnect(dispatch_uid="test-routing-events")


@pytest.fixture
def teams(db):
    weekdays = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    return {
        "Prioridade": Team.objects.create(name="Prioridade", priority=10, business_hours=weekdays,
                                          holidays=["2026-12-25"], notify_email="vip@loja.example"),
        "Atendimento": Team.objects.create(name="Atendimento", priority=1),
    }


def test_route_to_team_assigns_sets_priority_and_state(flow_run, teams, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = execute(flow_run, "route_to_team", {"team": "Prioridade", "state": "triaged"})
    conversation = Conversation.objects.get(contact=flow_run.contact)
    assert conversation.assigned_team == teams["Prioridade"] and conversation.priority == 10
    assert conversation.state == "triaged"
    assert outcome.port == "next" and outcome.output["conversation_id"] == conversation.pk
    assert flow_run.context["vars"]["assigned_team"] == "Prioridade"
    flow_run.refresh_from_db()
    assert flow_run.conversation_id == conversation.pk
    kinds = [kind for kind, _ in events]
    assert kinds == ["conversation.opened", "conversation.triaged", "conversation.assigned"]
    assert events[-1][1]["team"] == "Prioridade" and events[-1][1]["run_id"] == flow_run.pk


def test_route_to_team_by_expression_with_priority_override(flow_run, teams):
    flow_run.context["vars"]["queue"] = "atendimento"
    execute(flow_run, "route_to_team", {"team": "{{vars.queue}}", "priority": "{{contact.attributes.tier | default('0') | replace('premium', '7')}}", "state": "in_service"})
    conversation = Conversation.objects.get(contact=flow_run.contact)
    assert conversation.assigned_team.name == "Atendimento" and conversation.priority == 7
    assert conversation.state == "in_service"


def test_route_to_unknown_team_fails_clearly(flow_run, teams):
    with pytest.raises(StepError) as info:
        execute(flow_run, "route_to_team", {"team": "Jurídico"})
    assert info.value.code == "team_missing" and "Jurídico" in info.value.message


def test_team_business_hours_with_holidays(flow_run, teams):
    open_at = FrozenRuntime(datetime(2026, 11, 23, 10, 0, tzinfo=SAO_PAULO))  # a Monday, 10:00
    outcome = execute(flow_run, "route_to_team", {"team": "Prioridade", "when_closed": "failure"}, runtime=open_at)
    assert outcome.output["team_open"] is True
    christmas = FrozenRuntime(datetime(2026, 12, 25, 10, 0, tzinfo=SAO_PAULO))  # a Friday, but a holiday
    with pytest.raises(StepError) as info:
        execute(flow_run, "route_to_team", {"team": "Prioridade", "when_closed": "failure"}, runtime=christmas)
    assert info.value.code == "team_closed"
    night = FrozenRuntime(datetime(2026, 11, 23, 22, 0, tzinfo=SAO_PAULO))
    outcome = execute(flow_run, "route_to_team", {"team": "Prioridade"}, runtime=night)
    assert outcome.output["team_open"] is False and flow_run.context["vars"]["team_open"] is False


@pytest.mark.parametrize(("path", "events_expected"), [
    (["triaged", "in_service", "pending", "in_service", "completed"], ["conversation.triaged", "conversation.closed"]),
    (["completed"], ["conversation.closed"]),
])
def test_set_conversation_state_follows_the_machine(flow_run, events, path, events_expected,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for state in path:
            execute(flow_run, "set_conversation_state", {"state": state, "reason": "pelo fluxo {{run.flow}}"})
    conversation = Conversation.objects.get(contact=flow_run.contact)
    assert conversation.state == "completed" and conversation.closed_at is not None
    assert [k for k, _ in events if k != "conversation.opened"] == events_expected
    closed = [d for k, d in events if k == "conversation.closed"][0]
    assert closed["reason"].startswith("pelo fluxo")


@pytest.mark.parametrize(("start", "wanted"), [("completed", "in_service"), ("triaged", "new"), ("pending", "new")])
def test_illegal_transitions_are_refused_with_a_clear_error(flow_run, start, wanted):
    conversation = Conversation.objects.create(contact=flow_run.contact, state=start)
    flow_run.conversation = conversation
    flow_run.save()
    with pytest.raises(StepError) as info:
        execute(flow_run, "set_conversation_state", {"state": wanted})
    assert info.value.code == "illegal_transition"
    assert f"from '{start}' to '{wanted}'" in info.value.message
    conversation.refresh_from_db()
    assert conversation.state == start


def test_route_by_customer_tier_through_the_interpreter(teams):
    """premium → Prioridade; others → Atendimento (branch on a contact attribute, then route)."""
    defn = definition(
        [node("t", "trigger", event="message", match="any"),
         node("tier", "branch", mode="conditions", conditions=[
             {"id": "premium", "label": "Premium", "match": "all",
              "rules": [{"left": "{{contact.attributes.tier}}", "op": "equals", "right": "premium"}]}]),
         node("vip", "route_to_team", team="Prioridade"), node("std", "route_to_team", team="Atendimento"),
         node("done", "set_conversation_state", state="in_service")],
        [edge("t", "tier"), edge("tier", "vip", "premium"), edge("tier", "std", "default"), edge("vip", "done"),
         edge("std", "done")],
    )
    premium, regular = make_contact(attributes={"tier": "premium"}), make_contact(attributes={"tier": "basic"})
    run_flow(defn, premium)
    run_flow(defn, regular)
    assert Conversation.objects.get(contact=premium).assigned_team.name == "Prioridade"
    assert Conversation.objects.get(contact=regular).assigned_team.name == "Atendimento"
    assert set(Conversation.objects.values_list("state", flat=True)) == {"in_service"}


def test_notify_by_email_to_the_team_mailbox(flow_run, teams):
    outcome = execute(flow_run, "notify", {"channel": "email", "team": "Prioridade", "subject": "VIP: {{contact.name}}",
                                           "message": "{{contact.name}} precisa de ajuda"})
    [email] = mail.outbox
    assert email.to == ["vip@loja.example"] and email.subject == "VIP: Maria Silva"
    assert email.body == "Maria Silva precisa de ajuda" and outcome.output["to"] == ["vip@loja.example"]


def test_notify_slack_compatible_webhook(flow_run, teams, company_api):
    secret_url = company_api.url + "/echo?hook=T000/B000/XXXXsecretpath"
    credential_create(name="slack-vip", kind="url", secret=secret_url, allowed_hosts=["127.0.0.1"])
    outcome = execute(flow_run, "notify", {"channel": "slack", "credential": "slack-vip", "team": "Prioridade",
                                           "message": "Cliente {{contact.phone}} na fila"})
    [hit] = company_api.hits("/echo")
    import json

    assert json.loads(hit["body"]) == {"text": f"*Prioridade*: Cliente {flow_run.contact.phone} na fila"}
    assert "secretpath" not in json.dumps(outcome.output)


def test_notify_slack_failure_takes_failure(flow_run, company_api):
    credential_create(name="slack-down", kind="url", secret=company_api.url + "/always-500", allowed_hosts=["127.0.0.1"])
    with pytest.raises(StepError) as info:
        execute(flow_run, "notify", {"channel": "slack", "credential": "slack-down", "message": "oi"})
    assert info.value.code == "notify_failed" and "500" in info.value.message


def test_notify_through_a_signed_outbound_webhook(flow_run, teams, webhook_receiver, allow_local):
    subscription, secret = webhook_subscription_create(name="helpdesk", url=webhook_receiver.url, event_types=["team.notified"])
    outcome = execute(flow_run, "notify", {"channel": "webhook", "subscription": "helpdesk", "team": "Atendimento",
                                           "message": "Abrir ticket para {{contact.name}}"})
    delivery = WebhookDelivery.objects.get(pk=outcome.output["delivery_id"])
    assert delivery.subscription == subscription and delivery.event_type == "team.notified"
    assert delivery.payload["data"]["message"] == "Abrir ticket para Maria Silva"
    assert delivery.payload["data"]["team"] == "Atendimento"


def test_notify_validation_asks_for_the_target(db):
    from flows.validation import definition_validate
    from tests.factories import chain

    defn = chain(node("t", "trigger", event="message", match="any"), node("n", "notify", channel="slack", message="x"))
    assert ("credential_required", "credential") in {(i.code, i.field) for i in definition_validate(defn).issues}


def test_validation_names_unknown_teams_and_targets(db, teams):
    from flows.validation import definition_validate
    from tests.factories import chain

    defn = chain(node("t", "trigger", event="message", match="any"),
                 node("r", "route_to_team", team="Jurídico"),
                 node("ok", "route_to_team", team="{{contact.attributes.queue | default('Atendimento')}}"),
                 node("n", "notify", channel="webhook", subscription="ghost", message="x"))
    issues = {(i.node_id, i.code) for i in definition_validate(defn).issues}
    assert ("r", "team_unknown") in issues and ("n", "subscription_unknown") in issues
    assert not any(node_id == "ok" for node_id, _ in issues), issues


def test_routing_after_the_conversation_closed_opens_a_new_one(flow_run, teams):
    closed = Conversation.objects.create(contact=flow_run.contact, state="completed")
    flow_run.conversation = closed
    flow_run.save()
    execute(flow_run, "route_to_team", {"team": "Atendimento"})
    fresh = Conversation.objects.exclude(pk=closed.pk).get(contact=flow_run.contact)
    assert fresh.assigned_team.name == "Atendimento" and fresh.state == "triaged"
    assert flow_run.conversation_id == fresh.pk
    closed.refresh_from_db()
    assert closed.state == "completed" and closed.assigned_team is None


def test_notify_email_subject_with_line_breaks_from_contact_data(flow_run, teams):
    flow_run.contact.name = "Ana\r\nBcc: spam@example.com"
    flow_run.contact.save()
    execute(flow_run, "notify", {"channel": "email", "to": ["ops@loja.example"], "subject": "Novo: {{contact.name}}",
                                 "message": "ver conversa"})
    [email] = mail.outbox
    assert email.subject == "Novo: Ana Bcc: spam@example.com" and email.bcc == [] and email.to == ["ops@loja.example"]
