"""enviar mensagem: free-form text, optionally with reply buttons (up to 3) or a list (up to 10 rows)."""

from __future__ import annotations

from flows.nodes.base import FAILURE, NEXT, Next, NodeType, ValidationIssue, labels
from flows.nodes.fields import field
from flows.nodes.registry import register

ID_PATTERN = "^[A-Za-z0-9_.:-]{1,256}$"


@register
class SendMessageNode(NodeType):
    key = "send_message"
    label = labels("Enviar mensagem", "Send message")
    description = labels(
        "Envia texto livre, com botões de resposta ou lista. Só dentro da janela de 24 horas.",
        "Sends free-form text, with reply buttons or a list. Only inside the 24-hour window.",
    )
    category = "messaging"
    icon = "message-circle"
    ports = [NEXT, FAILURE]
    default_config = {"text": ""}
    summary = ["text", "buttons"]
    fields = {
        "text": field("Texto", "Text", widget="multiline",
                      required_message=("Escreva o texto da mensagem.", "Write the message text.")),
        "buttons.*.id": field("Id do botão", "Button id"),
        "buttons.*.title": field("Texto do botão", "Button text"),
        "list.button": field("Texto do botão da lista", "List button text"),
        "list.sections.*.title": field("Título da seção", "Section title"),
        "list.sections.*.rows.*.title": field("Título da linha", "Row title"),
        "list.sections.*.rows.*.description": field("Descrição da linha", "Row description"),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 4096},
            "preview_url": {"type": "boolean"},
            "header": {"type": "string", "maxLength": 60},
            "footer": {"type": "string", "maxLength": 60},
            "buttons": {
                "type": "array", "maxItems": 3,
                "items": {"type": "object",
                          "properties": {"id": {"type": "string", "pattern": ID_PATTERN},
                                         "title": {"type": "string", "minLength": 1, "maxLength": 20}},
                          "required": ["id", "title"], "additionalProperties": False},
            },
            "list": {
                "type": "object",
                "properties": {
                    "button": {"type": "string", "minLength": 1, "maxLength": 20},
                    "sections": {
                        "type": "array", "minItems": 1, "maxItems": 10,
                        "items": {"type": "object",
                                  "properties": {"title": {"type": "string", "maxLength": 24},
                                                 "rows": {"type": "array", "minItems": 1, "maxItems": 10,
                                                          "items": {"type": "object",
                                                                    "properties": {"id": {"type": "string", "pattern": ID_PATTERN},
                                                                                   "title": {"type": "string", "minLength": 1, "maxLength": 24},
                                                                                   "description": {"type": "string", "maxLength": 72}},
                                                                    "required": ["id", "title"], "additionalProperties": False}}},
                                  "required": ["rows"], "additionalProperties": False},
                    },
                },
                "required": ["button", "sections"],
                "additionalProperties": False,
            },
        },
        "required": ["text"],
        "additionalProperties": False,
    }

    def expressions(self, config):
        return [(name, config[name]) for name in ("text", "header", "footer") if "{{" in (config.get(name) or "")]

    def validate(self, node_id, config):
        issues = []
        if config.get("buttons") and config.get("list"):
            issues.append(ValidationIssue("buttons_or_list",
                                          labels("Use botões ou lista, não os dois.", "Use buttons or a list, not both."),
                                          node_id, "buttons"))
        rows = sum(len(s.get("rows") or []) for s in (config.get("list") or {}).get("sections") or [])
        if rows > 10:
            issues.append(ValidationIssue("too_many_rows",
                                          labels("Uma lista tem no máximo 10 linhas.", "A list has at most 10 rows."),
                                          node_id, "list"))
        ids = [b["id"] for b in config.get("buttons") or []]
        if len(ids) != len(set(ids)):
            issues.append(ValidationIssue("duplicate_button",
                                          labels("Os botões precisam de ids diferentes.", "Buttons need distinct ids."),
                                          node_id, "buttons"))
        return issues

    def execute(self, ctx):
        config = ctx.config
        text = ctx.render(config["text"], field_name="text")
        if config.get("buttons") or config.get("list"):
            interactive: dict = {"body": {"text": text}}
            if config.get("header"):
                interactive["header"] = {"type": "text", "text": ctx.render(config["header"], field_name="header")}
            if config.get("footer"):
                interactive["footer"] = {"text": ctx.render(config["footer"], field_name="footer")}
            if config.get("buttons"):
                interactive["type"] = "button"
                interactive["action"] = {"buttons": [{"type": "reply", "reply": {"id": b["id"], "title": b["title"]}}
                                                     for b in config["buttons"]]}
            else:
                interactive["type"] = "list"
                interactive["action"] = {"button": config["list"]["button"], "sections": config["list"]["sections"]}
            kind, content = "interactive", {"interactive": interactive}
        else:
            kind, content = "text", {"text": {"body": text, "preview_url": bool(config.get("preview_url"))}}
        result = ctx.runtime.send(run=ctx.run, kind=kind, content=content, idempotency_key=ctx.idempotency_key())
        return Next("next", {**result, "text": text})
