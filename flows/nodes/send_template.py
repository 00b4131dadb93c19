"""enviar template: an approved WhatsApp template, with variables mapped from expressions."""

from __future__ import annotations

from flows.nodes.base import FAILURE, NEXT, Next, NodeType, StepError, ValidationIssue, issue, labels
from flows.nodes.fields import field
from flows.nodes.registry import register


def template_lookup(name: str) -> list | None:
    """The stored templates of that name (any channel and language), or None without a database.

    Flows are not tied to a channel, so a name counts when any channel has it; the send checks
    the contact's own channel (messaging.rules)."""
    try:
        from messaging.models import MessageTemplate

        return list(MessageTemplate.objects.filter(name=name))
    except Exception:  # no database at hand (offline validation): do not guess
        return None

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
    summary = ["template", "parameters.body"]
    fields = {
        "template": field("Template", "Template", required_message=("Escolha um template.", "Pick a template.")),
        "language": field("Idioma", "Language", placeholder="pt_BR"),
        "parameters.body": field("Variáveis do texto", "Body variables"),
        "parameters.header": field("Variáveis do cabeçalho", "Header variables"),
        "parameters.buttons": field("Botões", "Buttons"),
        "parameters.buttons.*.index": field("Posição do botão", "Button position"),
        "parameters.buttons.*.value": field("Valor do botão", "Button value"),
        "parameters.header_media": field("Mídia do cabeçalho", "Header media"),
        "parameters.header_media.type": field("Tipo de mídia", "Media type", enum={
            "image": ("imagem", "image"), "video": ("vídeo", "video"), "document": ("documento", "document")}),
        "parameters.header_media.id": field("Id da mídia (Meta)", "Media id (Meta)"),
        "parameters.header_media.media": field("Arquivo da biblioteca", "Library file", widget="media"),
        "parameters.header_media.link": field("Link da mídia", "Media link", placeholder="{{vars.invoice_url}}"),
        "parameters.header_media.filename": field("Nome do arquivo", "File name", placeholder="fatura.pdf"),
    }
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
                    "header_media": {"type": "object", "properties": {
                        "type": {"enum": ["image", "video", "document"]}, "link": {"type": "string"},
                        "id": {"type": "string"}, "media": {"type": "integer", "minimum": 1},
                        "filename": {"type": "string", "maxLength": 240}}},
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
        media = (config.get("parameters") or {}).get("header_media") or {}
        if "{{" in (media.get("link") or ""):
            found.append(("parameters.header_media.link", media["link"]))
        return found

    def validate(self, node_id, config):
        if not config.get("template"):
            return [ValidationIssue("template_required", labels("Escolha um template.", "Pick a template."),
                                    node_id, "template")]
        issues: list[ValidationIssue] = []
        parameters = config.get("parameters") or {}
        if parameters.get("header_media") and parameters.get("header"):
            issues.append(ValidationIssue("template_two_headers", labels(
                "Um template tem um só cabeçalho: com mídia no cabeçalho, as variáveis de texto do cabeçalho "
                "não são enviadas; remova-as.",
                "A template has one header: with header media, the header text variables are not sent; remove them."),
                node_id, "parameters.header", "warning"))
        body = self._values(config, "body")
        for index, value, _name in body:
            if not str(value).strip():
                issues.append(issue("template_param_empty", node_id, f"parameters.body.{index}", n=index + 1))
        name, language = config["template"], config.get("language", "")
        stored = template_lookup(name)
        if stored is None:
            return issues
        if not stored:
            return [issue("template_unknown", node_id, "template", name=name), *issues]
        template = next((t for t in stored if t.language == language), None)
        if template is None:
            languages = ", ".join(sorted({t.language for t in stored}))
            return [issue("template_language_unknown", node_id, "language", name=name, language=language,
                          languages=languages), *issues]
        if template.status != "APPROVED":
            issues.append(issue("template_not_approved", node_id, "template", severity="warning", name=name,
                                status=template.status))
        from messaging.rules import template_placeholders

        placeholders = template_placeholders(template.body_text)
        expected = max(template.parameter_count, len(placeholders))
        if len(body) < expected:
            for index in range(len(body), expected):
                issues.append(issue("template_param_missing", node_id, f"parameters.body.{index}", expected=expected,
                                    n=placeholders[index] if index < len(placeholders) else index + 1))
        elif len(body) > expected:
            issues.append(issue("template_param_extra", node_id, "parameters.body", expected=expected, given=len(body)))
        named = [p for p in placeholders if not p.isdigit()]
        given_names = {n for _i, _v, n in body if n}
        for missing in [p for p in named if p not in given_names]:
            issues.append(issue("template_param_name", node_id, "parameters.body", name=missing))
        return issues

    def template_category(self, config) -> str | None:
        """MARKETING, UTILITY or AUTHENTICATION of the chosen template (None when unknown)."""
        stored = template_lookup(config.get("template") or "") or []
        match = next((t for t in stored if t.language == config.get("language")), None) or (stored[0] if stored else None)
        return match.category if match else None

    def execute(self, ctx):
        config = ctx.config
        components = []
        media = (config.get("parameters") or {}).get("header_media")
        # A template has one header: media (library file, Meta id or link) or text variables, never both.
        parts = ("body",) if media else ("header", "body")
        if media:
            kind = media.get("type", "image")
            if media.get("media"):
                ref: dict = {"fluxo_media": int(media["media"])}
            elif media.get("id"):
                ref = {"id": media["id"]}
            else:
                link = ctx.render(media.get("link", ""), field_name="parameters.header_media.link").strip()
                if not link:
                    raise StepError("the template's header media has no file: pick one from the library or give a link",
                                    code="header_media_missing")
                ref = {"link": link}
            if kind == "document" and media.get("filename"):
                ref["filename"] = media["filename"]
            components.append({"type": "header", "parameters": [{"type": kind, kind: ref}]})
        for part in parts:
            values = self._values(config, part)
            if values:
                params = []
                for i, value, name in values:
                    param = {"type": "text", "text": ctx.render(value, field_name=f"parameters.{part}.{i}")}
                    if name:
                        param["parameter_name"] = name
                    params.append(param)
                components.append({"type": part, "parameters": params})
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
