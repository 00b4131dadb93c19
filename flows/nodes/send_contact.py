"""enviar contato: a contact card (name and phone; optional company and email), e.g. the store's number."""

from __future__ import annotations

from flows.nodes.base import FAILURE, NEXT, Next, NodeType, labels
from flows.nodes.fields import field
from flows.nodes.registry import register


@register
class SendContactNode(NodeType):
    key = "send_contact"
    label = labels("Enviar contato", "Send contact card")
    description = labels("Envia um cartão de contato (nome e telefone). Só dentro da janela de 24 horas.",
                         "Sends a contact card (name and phone). Only inside the 24-hour window.")
    category = "messaging"
    icon = "id-card"
    ports = [NEXT, FAILURE]
    default_config = {"name": "", "phone": ""}
    summary = ["name", "phone"]
    fields = {
        "name": field("Nome", "Name", placeholder="Central de Atendimento"),
        "phone": field("Telefone", "Phone", placeholder="+5511400012345"),
        "company": field("Empresa", "Company"),
        "email": field("E-mail", "Email"),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "phone": {"type": "string", "minLength": 1, "maxLength": 200},
            "company": {"type": "string", "maxLength": 200},
            "email": {"type": "string", "maxLength": 200},
        },
        "required": ["name", "phone"],
        "additionalProperties": False,
    }

    def expressions(self, config):
        return [(n, config[n]) for n in ("name", "phone", "company", "email") if "{{" in (config.get(n) or "")]

    def execute(self, ctx):
        config = ctx.config
        name = ctx.render(config["name"], field_name="name").strip()
        phone = ctx.render(config["phone"], field_name="phone").strip()
        first, _, last = name.partition(" ")
        card: dict = {"name": {"formatted_name": name, "first_name": first, **({"last_name": last} if last else {})},
                      "phones": [{"phone": phone, "type": "WORK", "wa_id": phone.lstrip("+")}]}
        company = ctx.render(config.get("company", ""), field_name="company").strip()
        if company:
            card["org"] = {"company": company}
        email = ctx.render(config.get("email", ""), field_name="email").strip()
        if email:
            card["emails"] = [{"email": email, "type": "WORK"}]
        result = ctx.runtime.send(run=ctx.run, kind="contacts", content={"contacts": [card]},
                                  idempotency_key=ctx.idempotency_key())
        return Next("next", {**result, "name": name, "phone": phone})
