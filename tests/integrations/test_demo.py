"""The integrations demo: idempotent seed, a valid flow, and the order-status flow end to end
against Fluxo's own mock ERP served by a live server (real HTTP, real credential, real routing)."""

from __future__ import annotations

import pytest
from django.core import mail

from flows.models import Flow, FlowRun, RunStep
from flows.validation import definition_validate
from integrations.demo import DEMO_FLOW_NAME, order_status_flow, seed
from integrations.models import Assistant, Credential, Team
from messaging.models import Conversation


def test_seed_is_idempotent_and_the_flow_is_valid(db):
    seed()
    seed()
    assert Assistant.objects.get(name="Atendimento").knowledge.count() == 5
    assert set(Team.objects.values_list("name", flat=True)) == {"Atendimento", "Vendas", "Financeiro", "Prioridade"}
    assert Credential.objects.get(name="demo-loja").allowed_hosts == ["127.0.0.1"]
    flow = Flow.objects.get(name=DEMO_FLOW_NAME)
    assert flow.status == "active" and flow.published_revision.revision == 1
    result = definition_validate(flow.published_revision.definition)
    assert result.valid, [i.as_dict() for i in result.issues]
    used = {n["type"] for n in flow.published_revision.definition["nodes"]}
    assert {"http_request", "route_to_team", "notify", "branch", "subflow"} <= used
    regularization = Flow.objects.get(name="Regularização de débito")
    assert definition_validate(regularization.published_revision.definition).valid
    assert {"set_conversation_state", "wait_for_reply"} <= {n["type"] for n in regularization.published_revision.definition["nodes"]}


def test_demo_flow_text_has_no_secret(db):
    seed()
    secret = Credential.objects.get(name="demo-loja").secret
    assert secret not in str(order_status_flow("http://127.0.0.1:8000"))
    assert secret not in str(Flow.objects.get(name=DEMO_FLOW_NAME).published_revision.definition)


@pytest.mark.parametrize(("order", "team", "state", "reply_part"), [
    ("1001", "Prioridade", "triaged", "em transporte"),
    ("1004", "Vendas", "triaged", "em separação"),
    ("1002", "Atendimento", "triaged", "entregue"),
    ("9999", "Atendimento", "in_service", "Não encontrei"),
])
def test_order_status_flow_end_to_end(transactional_db, live_server, monkeypatch, settings, order, team, state,
                                      reply_part):
    from tests.factories import make_channel, make_contact
    from tests.flows.helpers import inbound

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setenv("PORT", live_server.url.rsplit(":", 1)[-1])
    seed()
    contact = make_contact(channel=make_channel(), name="Carla Souza")
    inbound(contact, "PEDIDO")
    run = FlowRun.objects.get(contact=contact)
    assert run.status == "waiting" and run.current_node == "wait"
    inbound(contact, order)
    run.refresh_from_db()
    lookup = RunStep.objects.exclude(outcome="wait").get(run=run, node_id="lookup")  # the answered call
    assert run.status == "completed", list(run.steps.values_list("node_id", "port", "error"))
    assert lookup.port == ("failure" if order == "9999" else "success")
    conversation = Conversation.objects.get(contact=contact)
    assert conversation.assigned_team.name == team and conversation.state == state
    texts = [m.content.get("text", {}).get("body", "") for m in run.messages.order_by("id")]
    assert any(reply_part in text for text in texts), texts
    assert (len(mail.outbox) == 1) == (order == "1001")
    secret = Credential.objects.get(name="demo-loja").secret
    assert secret not in str(list(run.steps.values_list("input", "output", "error")))


@pytest.mark.parametrize(("reply", "reply_id", "state", "emails"), [
    ("Falar c/ Financeiro", "human", "in_service", 1),
    ("Pagar com Pix", "pix", "pending", 0),
])
def test_customer_in_debt_goes_through_the_regularization_subflow(transactional_db, live_server, monkeypatch, settings,
                                                                  reply, reply_id, state, emails):
    from tests.factories import make_channel, make_contact
    from tests.flows.helpers import inbound

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setenv("PORT", live_server.url.rsplit(":", 1)[-1])
    seed()
    contact = make_contact(channel=make_channel(), name="Rui Dias")
    inbound(contact, "PEDIDO")
    inbound(contact, "1003")
    parent = FlowRun.objects.get(contact=contact, parent_run__isnull=True)
    child = FlowRun.objects.get(contact=contact, parent_run=parent)
    assert parent.status == "waiting" and child.status == "waiting" and child.current_node == "choice"
    conversation = Conversation.objects.get(contact=contact)
    assert conversation.assigned_team.name == "Financeiro" and conversation.state == "pending"
    inbound(contact, reply, kind="interactive_reply", reply_id=reply_id, reply_title=reply)
    parent.refresh_from_db()
    child.refresh_from_db()
    assert child.status == "completed", list(child.steps.values_list("node_id", "port", "error"))
    assert parent.status == "completed", list(parent.steps.values_list("node_id", "port", "error"))
    conversation.refresh_from_db()
    assert conversation.state == state and len(mail.outbox) == emails
    contact.refresh_from_db()
    assert contact.attributes["tier"] == "regular" and contact.attributes["in_debt"] is True
