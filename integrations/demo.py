"""Demo data of the integrations: an FAQ assistant, teams, a vault credential and a flow that
looks an order up over HTTP and routes the customer by tier. Idempotent (found by name)."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.db import transaction

from flows.demo import demo_definition, demo_node

DEMO_CREDENTIAL = "demo-loja"
DEMO_FLOW_NAME = "Status do pedido (integrações)"

DEMO_ORDERS: dict[str, dict[str, Any]] = {
    "1001": {"status": "em transporte", "eta": "amanhã até 18h",
             "customer": {"tier": "premium", "in_debt": False, "orders_count": 12}},
    "1002": {"status": "entregue", "eta": "entregue ontem",
             "customer": {"tier": "regular", "in_debt": False, "orders_count": 1}},
    "1003": {"status": "aguardando pagamento", "eta": "após a confirmação do pagamento",
             "customer": {"tier": "regular", "in_debt": True, "orders_count": 2}},
    "1004": {"status": "em separação", "eta": "em 3 dias úteis",
             "customer": {"tier": "regular", "in_debt": False, "orders_count": 5}},
}

FAQ = [
    ("Qual o prazo de entrega?", "prazo, entrega, frete, chegar, demora, tempo, envio",
     "O prazo de entrega é de 2 a 5 dias úteis para capitais e de 5 a 10 dias úteis para o interior, "
     "contados a partir da confirmação do pagamento. Você recebe o código de rastreio por aqui."),
    ("Como faço uma troca ou devolução?", "troca, trocar, devolução, devolver, arrependimento, defeito",
     "Você pode trocar ou devolver em até 7 dias corridos após o recebimento. Responda TROCA com o número "
     "do pedido e enviamos a etiqueta de postagem sem custo."),
    ("Quais as formas de pagamento?", "pagamento, pagar, pix, cartão, boleto, parcelar, parcelamento",
     "Aceitamos Pix (5% de desconto), cartão de crédito em até 10x sem juros e boleto bancário "
     "(compensação em até 2 dias úteis)."),
    ("Qual o horário de atendimento?", "horário, atendimento, funcionamento, aberto, sábado, domingo",
     "Nosso time atende de segunda a sexta, das 9h às 18h, e aos sábados das 9h às 13h. "
     "Fora desse horário, deixe sua mensagem que respondemos no próximo dia útil."),
    ("Como rastrear meu pedido?", "rastrear, rastreio, rastreamento, código, onde está, pedido",
     "Envie PEDIDO e o número do pedido que eu consulto o status para você na hora."),
]

WEEKDAYS_9_18 = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
TEAMS = [
    ("Atendimento", 0, {**WEEKDAYS_9_18, "sat": [["09:00", "13:00"]]}),
    ("Vendas", 5, WEEKDAYS_9_18),
    ("Financeiro", 5, {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}),
    ("Prioridade", 10, {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}),
]
HOLIDAYS = ["2026-12-25", "2027-01-01"]


REGULARIZATION_FLOW_NAME = "Regularização de débito"


def regularization_flow() -> dict[str, Any]:
    """The billing system starts it (payment.overdue) or the order flow calls it as a subflow."""
    nodes = [
        demo_node("start", "trigger", 40, 200, event="external", event_name="payment.overdue"),
        demo_node("offer", "send_message", 280, 200,
           text="{{contact.first_name | default('Olá')}}, encontramos um pagamento em aberto. Como prefere regularizar?",
           buttons=[{"id": "pix", "title": "Pagar com Pix"}, {"id": "boleto", "title": "2ª via do boleto"},
                    {"id": "human", "title": "Falar c/ Financeiro"}]),
        demo_node("choice", "wait_for_reply", 520, 200, timeout={"value": 24, "unit": "hours"}, save_as="debt_choice"),
        demo_node("how", "branch", 760, 200, mode="conditions", default_label="Falar com o Financeiro", conditions=[
            {"id": "pix", "label": "Pix", "match": "any",
             "rules": [{"left": "{{reply.reply_id}}", "op": "equals", "right": "pix"},
                       {"left": "{{reply.text}}", "op": "contains", "right": "pix"}]},
            {"id": "boleto", "label": "Boleto", "match": "any",
             "rules": [{"left": "{{reply.reply_id}}", "op": "equals", "right": "boleto"},
                       {"left": "{{reply.text}}", "op": "contains", "right": "boleto"}]},
        ]),
        demo_node("pix", "send_message", 1000, 80,
           text="Chave Pix: financeiro@loja.example (CNPJ). Assim que o pagamento for confirmado, avisamos por aqui."),
        demo_node("boleto", "send_message", 1000, 200, text="Enviamos a 2ª via do boleto para o seu e-mail cadastrado."),
        demo_node("wait_payment", "set_conversation_state", 1240, 140, state="pending",
           reason="aguardando o pagamento do cliente"),
        demo_node("to_finance", "route_to_team", 1000, 320, team="Financeiro", state="in_service"),
        demo_node("tell_finance", "notify", 1240, 320, channel="email", team="Financeiro",
           subject="Regularização: {{contact.name | default(\"cliente\")}}",
           message="{{contact.name}} ({{contact.phone}}) quer falar sobre um pagamento em aberto."),
        demo_node("no_answer", "route_to_team", 760, 360, team="Financeiro", state="pending"),
    ]
    edges = [("start", "next", "offer"), ("offer", "next", "choice"), ("choice", "reply", "how"),
             ("choice", "timeout", "no_answer"), ("how", "pix", "pix"), ("how", "boleto", "boleto"),
             ("pix", "next", "wait_payment"), ("boleto", "next", "wait_payment"), ("how", "default", "to_finance"),
             ("to_finance", "next", "tell_finance")]
    return demo_definition(nodes, edges)



def order_status_flow(base_url: str, regularization_flow_id: int | None = None) -> dict[str, Any]:
    """trigger PEDIDO → ask the number → HTTP lookup → answer → route by tier (premium, in debt, repeat)."""
    rule = lambda left, op, right=None: {"left": left, "op": op, "right": right}  # noqa: E731
    nodes = [
        demo_node("start", "trigger", 40, 240, event="message", match="keyword", keywords=["PEDIDO", "RASTREIO"]),
        demo_node("ask", "send_message", 280, 240, text="Claro! Qual é o número do seu pedido? (ex.: 1001)"),
        demo_node("wait", "wait_for_reply", 520, 240, timeout={"value": 30, "unit": "minutes"}, save_as="order_id"),
        demo_node("lookup", "http_request", 760, 240, method="GET",
           url=base_url + "/api/demo/orders/{{vars.order_id | trim}}/", credential=DEMO_CREDENTIAL,
           timeout_seconds=10, retries=2, response_mapping=[
               {"variable": "order_status", "path": "$.status", "required": True},
               {"variable": "order_eta", "path": "$.eta", "default": "em breve"},
               {"variable": "customer_tier", "path": "$.customer.tier", "default": "regular"},
               {"variable": "in_debt", "path": "$.customer.in_debt", "default": False},
               {"variable": "orders_count", "path": "$.customer.orders_count", "default": 0},
           ]),
        demo_node("remember", "set_variable", 1000, 160, assignments=[
            {"target": "contact.attributes.tier", "value": "{{vars.customer_tier}}", "type": "text"},
            {"target": "contact.attributes.in_debt", "value": "{{vars.in_debt}}", "type": "boolean"},
            {"target": "contact.attributes.orders_count", "value": "{{vars.orders_count}}", "type": "number"},
        ]),
        demo_node("answer", "send_message", 1240, 160,
           text="Pedido {{vars.order_id | trim}}: {{vars.order_status}}. Previsão: {{vars.order_eta}}."),
        demo_node("by_tier", "branch", 1480, 160, mode="conditions", default_label="Demais clientes", conditions=[
            {"id": "premium", "label": "Premium", "match": "all",
             "rules": [rule("{{contact.attributes.tier}}", "equals", "premium")]},
            {"id": "debt", "label": "Inadimplente", "match": "all",
             "rules": [rule("{{contact.attributes.in_debt}}", "equals", "true")]},
            {"id": "repeat", "label": "Cliente recorrente", "match": "all",
             "rules": [rule("{{contact.attributes.orders_count}}", "gte", "3")]},
        ]),
        demo_node("to_priority", "route_to_team", 1740, 20, team="Prioridade", priority=10, state="triaged"),
        demo_node("tell_priority", "notify", 1980, 20, channel="email", team="Prioridade",
           subject="Cliente premium: {{contact.name}}",
           message="{{contact.name}} ({{contact.phone}}) perguntou do pedido {{vars.order_id | trim}} "
                   "({{vars.order_status}}). Conversa na fila Prioridade."),
        demo_node("to_finance", "route_to_team", 1740, 140, team="Financeiro", state="pending"),
        *([demo_node("regularize", "subflow", 1980, 140, flow_id=regularization_flow_id, revision="published")]
          if regularization_flow_id else
          [demo_node("regularize", "send_message", 1980, 140,
              text="Vi que há um pagamento em aberto. O Financeiro vai te ajudar a regularizar por aqui.")]),
        demo_node("to_sales", "route_to_team", 1740, 260, team="Vendas", state="triaged"),
        demo_node("to_support", "route_to_team", 1740, 380, team="Atendimento", state="triaged"),
        demo_node("not_found", "send_message", 1000, 360,
           text="Não encontrei o pedido {{vars.order_id | trim}}. Vou passar você para uma pessoa do time."),
        demo_node("handoff", "route_to_team", 1240, 360, team="Atendimento", state="in_service"),
        demo_node("timeout", "end", 760, 420, status="completed", reason="o cliente não informou o pedido"),
    ]
    edges = [("start", "next", "ask"), ("ask", "next", "wait"), ("wait", "reply", "lookup"),
             ("wait", "timeout", "timeout"), ("lookup", "success", "remember"), ("remember", "next", "answer"),
             ("answer", "next", "by_tier"), ("by_tier", "premium", "to_priority"),
             ("to_priority", "next", "tell_priority"), ("by_tier", "debt", "to_finance"),
             ("to_finance", "next", "regularize"), ("by_tier", "repeat", "to_sales"),
             ("by_tier", "default", "to_support"), ("lookup", "failure", "not_found"),
             ("not_found", "next", "handoff")]
    return demo_definition(nodes, edges, notes=[{
        "id": "n1", "position": {"x": 760, "y": 80},
        "text": "Consulta o ERP de demonstração (GET /api/demo/orders/<id>/) com a credencial demo-loja do cofre; "
                "pedidos 1001 (premium), 1002, 1003 (em débito: subfluxo de regularização), 1004 (recorrente)."}])


def _log(stdout, text: str) -> None:
    if stdout:
        stdout.write(f"  {text}\n")


@transaction.atomic
def seed(*, stdout=None) -> None:
    """Create (once) the demo assistant, teams, credential and the order-status flow."""
    from integrations.models import Assistant, Credential, KnowledgeEntry, Team
    from integrations.vault.services import credential_create

    assistant, created = Assistant.objects.get_or_create(
        name="Atendimento",
        defaults={"provider": Assistant.Provider.BUILTIN, "confidence_threshold": 0.5,
                  "instructions": "Você é o assistente da Loja Fluxo. Responda em português, de forma breve."},
    )
    if created:
        for question, keywords, answer in FAQ:
            KnowledgeEntry.objects.create(assistant=assistant, question=question, keywords=keywords, answer=answer)
        _log(stdout, f"demo assistant: {assistant.name} ({len(FAQ)} knowledge entries, built-in provider)")
    for name, priority, hours in TEAMS:
        _team, made = Team.objects.get_or_create(
            name=name, defaults={"priority": priority, "business_hours": hours, "holidays": HOLIDAYS,
                                 "timezone": "America/Sao_Paulo", "notify_email": f"{name.lower()}@loja.example"})
        if made:
            _log(stdout, f"demo team: {name}")
    port = os.environ.get("PORT", "8000")
    if not Credential.objects.filter(name=DEMO_CREDENTIAL).exists():
        # The demo ERP is Fluxo itself on 127.0.0.1: only this credential may reach it, the
        # global SSRF allow-list stays empty.
        credential_create(name=DEMO_CREDENTIAL, kind=Credential.Kind.BEARER, secret="demo_" + secrets.token_urlsafe(24),
                          allowed_hosts=["127.0.0.1"], description="Token do ERP de demonstração (mock local).")
        _log(stdout, f"demo credential: {DEMO_CREDENTIAL}")
    regularization = _seed_flow(REGULARIZATION_FLOW_NAME, regularization_flow(), stdout,
                                description="Oferece Pix, 2ª via ou o Financeiro a quem tem pagamento em aberto.")
    _seed_flow(DEMO_FLOW_NAME, order_status_flow(f"http://127.0.0.1:{port}", regularization.pk), stdout,
               description="Consulta o pedido no ERP por HTTP e encaminha o cliente pela categoria "
                           "(premium, em débito, recorrente).")


def _seed_flow(name: str, definition: dict[str, Any], stdout, *, description: str):
    """Create and publish ``name`` once (kept as is when it exists)."""
    from flows.models import Flow
    from flows.services import flow_create, flow_publish
    from flows.validation import definition_validate

    existing = Flow.objects.filter(name=name).first()
    if existing is not None:
        return existing
    result = definition_validate(definition)
    if not result.valid:
        raise ValueError(f"demo flow '{name}' is invalid: {[i.as_dict() for i in result.issues]}")
    flow = flow_create(name=name, definition=definition, description=description)
    flow_publish(flow=flow, revision_number=1, comment="Demo")
    _log(stdout, f"demo flow: {name}")
    return flow
