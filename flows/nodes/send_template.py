"""enviar template: an approved WhatsApp template, with variables mapped from expressions."""

from __future__ import annotations

from flows.nodes.base import FAILURE, NEXT, Next, NodeType, StepError, ValidationIssue, labels
from flows.nodes.registry import register

PARAM_LIST = {
    "type": "array",
    "maxItems": 60,
    "items": {
        "anyOf": [
            {"type": "string"},
            {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
             "required": ["value"], "additionalProperties": False},
        ]
    },
}


@register
class SendTemplateNode(NodeType):
    key = "send_template"
    label = labels("Enviar template", "Send template")
    description = labels(
        "Envia um modelo aprovado pela Meta; funciona fora da janela de 24 horas.",
        "Sends a Meta-approved template; works outside the 24-hour window.",
    )
    category = "messaging"
    icon = "file-text"
    ports = [NEXT, FAILURE]
    default_config = {"template": "", "language": "pt_BR", "parameters": {"body": []}}
    config_schema = {
        "type": "object",
        "properties": {
            "template": {"type": "string", "minLength": 1, "maxLength": 512},
            "language": {"type": "string", "minLength": 2, "maxLength": 16},
            "parameters": {
                "type": "object",
                "properties": {
                    "header": PARAM_LIST,
                    "body": PARAM_LIST,
                    "buttons": {
                        "type": "array",
                        "items": {"type": "object",
                                  "properties": {"index": {"type": "integer", "minimum": 0, "maximum": 9},
                                                 "sub_type": {"enum": ["quick_reply", "url", "copy_code"]},
                                                 "value": {"type": "string"}},
                                  "required": ["index", "sub_type", "value"], "additionalProperties": False},
                    },
                    "header_media": {"type": "object", "properties": {"type": {"enum": ["image", "video", "document"]},
                                                                      "link": {"type": "string"}, "id": {"type": "string"}}},
                },
                "additionalProperties": False,
            },
        },
        "required": ["template", "language"],
        "additionalProperties": False,
    }

    @staticmethod
    def _values(config, part):
        return [(i, p if isinstance(p, str) else p.get("value", ""), None if isinstance(p, str) else p.get("name"))
                for i, p in enumerate((config.get("parameters") or {}).get(part) or [])]

    def expressions(self, config):
        found = []
        for part in ("header", "body"):
            found += [(f"parameters.{part}.{i}", v) for i, v, _ in self._values(config, part) if "{{" in v]
        for i, button in enumerate((config.get("parameters") or {}).get("buttons") or []):
            if "{{" in button.get("value", ""):
                found.append((f"parameters.buttons.{i}.value", button["value"]))
        return found

    def validate(self, node_id, config):
        if not config.get("template"):
            return [ValidationIssue("template_required", labels("Escolha um template.", "Pick a template."),
                                    node_id, "template")]
        return []

    def execute(self, ctx):
        config = ctx.config
        components = []
        for part in ("header", "body"):
            values = self._values(config, part)
            if values:
                params = []
                for i, value, name in values:
                    param = {"type": "text", "text": ctx.render(value, field_name=f"parameters.{part}.{i}")}
                    if name:
                        param["parameter_name"] = name
                    params.append(param)
                components.append({"type": part, "parameters": params})
        media = (config.get("parameters") or {}).get("header_media")
        if media:
            kind = media.get("type", "image")
            ref = {"id": media["id"]} if media.get("id") else {"link": ctx.render(media.get("link", ""), field_name="header_media")}
            components.insert(0, {"type": "header", "parameters": [{"type": kind, kind: ref}]})
        for i, button in enumerate((config.get("parameters") or {}).get("buttons") or []):
            value = ctx.render(button["value"], field_name=f"parameters.buttons.{i}.value")
            key = "payload" if button["sub_type"] == "quick_reply" else ("coupon_code" if button["sub_type"] == "copy_code" else "text")
            components.append({"type": "button", "sub_type": button["sub_type"], "index": str(button["index"]),
                               "parameters": [{"type": "payload" if key == "payload" else key, key: value}]})
        content = {"template": {"name": config["template"], "language": {"code": config["language"]},
                                "components": components}}
        try:
            result = ctx.runtime.send(run=ctx.run, kind="template", content=content,
                                      idempotency_key=ctx.idempotency_key())
        except StepError:
            raise
        return Next("next", {**result, "template": config["template"], "components": components})
