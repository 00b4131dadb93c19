"""gatilho: the entry point of a flow and the rule that decides which events start it."""

from __future__ import annotations

import logging
import re
from typing import Any

import regex

from flows.engine.safe_regex import RegexTooSlow, regex_search
from flows.nodes.base import NEXT, Next, NodeType, ValidationIssue, labels
from flows.nodes.fields import field
from flows.nodes.registry import register

logger = logging.getLogger(__name__)

EVENTS = ["message", "conversation_started", "interactive_reply", "external", "opt_in", "opt_out", "schedule"]
FIELD_TYPES = ["text", "number", "boolean", "datetime", "list", "object"]

# What {{trigger.*}} holds for each kind of event (messaging.webhooks.normalize_message and the
# inbound path for messages; integrations.events for external events; flows.services for schedules).
_MESSAGE_FIELDS = [
    ("text", "text", "Oi, quero saber do meu pedido", ("Texto da mensagem", "Message text")),
    ("type", "text", "text", ("Tipo da mensagem (text, image, interactive…)", "Message type (text, image, interactive…)")),
    ("from", "text", "+5511987654321", ("Telefone do cliente", "Customer phone")),
    ("contact_name", "text", "Maria Silva", ("Nome no perfil do WhatsApp", "WhatsApp profile name")),
    ("message_id", "text", "wamid.HBgL…", ("Id da mensagem", "Message id")),
    ("timestamp", "datetime", "2026-05-04T14:30:00+00:00", ("Data e hora da mensagem", "Message date and time")),
    ("conversation_started", "boolean", "true", ("Abriu uma conversa nova", "Opened a new conversation")),
    ("conversation_id", "number", "42", ("Id da conversa", "Conversation id")),
    ("channel_id", "number", "1", ("Id do canal", "Channel id")),
    ("reply_id", "text", "", ("Id do botão/linha tocado", "Tapped button/row id")),
    ("reply_title", "text", "", ("Texto do botão/linha tocado", "Tapped button/row text")),
    ("reply_kind", "text", "", ("button, list ou quick_reply", "button, list or quick_reply")),
    ("caption", "text", "", ("Legenda da mídia", "Media caption")),
    ("media_id", "text", "", ("Id da mídia recebida", "Received media id")),
    # A received file (messaging.media.media_facts): a signed, expiring Fluxo link, not Meta's URL.
    ("media.url", "text", "https://fluxo.example.com/files/f/…/", ("Link do arquivo recebido", "Received file link")),
    ("media.type", "text", "image", ("Tipo da mídia (image, audio, video, document, sticker)",
                                     "Media type (image, audio, video, document, sticker)")),
    ("media.mime_type", "text", "image/jpeg", ("Tipo do arquivo (MIME)", "File type (MIME)")),
    ("media.filename", "text", "nota-fiscal.pdf", ("Nome do arquivo", "File name")),
    ("media.size", "number", "", ("Tamanho em bytes (vazio até baixar)", "Size in bytes (empty until downloaded)")),
    ("media.caption", "text", "", ("Legenda da mídia", "Media caption")),
]
_KIND = ("kind", "text", "message", ("Tipo do evento", "Event kind"))
TRIGGER_FIELDS: dict[str, list[tuple[str, str, str, tuple[str, str]]]] = {
    "message": [*_MESSAGE_FIELDS, _KIND],
    "conversation_started": [*_MESSAGE_FIELDS, _KIND],
    "interactive_reply": [*_MESSAGE_FIELDS, _KIND],
    "opt_in": [*_MESSAGE_FIELDS, ("categories", "list", "marketing,utility", ("Categorias aceitas", "Categories")),
               ("source", "text", "keyword QUERO RECEBER", ("Origem do opt-in", "Opt-in source")), _KIND],
    "opt_out": [*_MESSAGE_FIELDS, ("categories", "list", "marketing,utility", ("Categorias recusadas", "Categories")),
                ("source", "text", "keyword SAIR", ("Origem do opt-out", "Opt-out source")), _KIND],
    "schedule": [("scheduled_for", "datetime", "2026-05-04T09:00:00-03:00", ("Horário agendado", "Scheduled time")),
                 ("flow_id", "number", "1", ("Id do fluxo", "Flow id")),
                 ("node_id", "text", "trigger", ("Id do gatilho", "Trigger id")), _KIND],
    "external": [("event", "text", "order.created", ("Nome do evento", "Event name")), _KIND],
}
# Events that come from the customer's own message: the 24-hour window is open when they start.
CUSTOMER_EVENTS = {"message", "conversation_started", "interactive_reply", "opt_in", "opt_out"}


def _normalize(text: str) -> str:
    import unicodedata

    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    # Punctuation is not part of a word: "Oi!" and "pedido, por favor" match the keywords "oi" and "pedido".
    return " ".join(re.sub(r"[^\w\s]+", " ", folded).split())


@register
class TriggerNode(NodeType):
    key = "trigger"
    label = labels("Gatilho", "Trigger")
    description = labels(
        "Inicia o fluxo quando um evento combina: mensagem recebida, conversa iniciada, resposta de botão ou evento externo.",
        "Starts the flow when an event matches: inbound message, conversation started, button reply or external event.",
    )
    category = "trigger"
    icon = "zap"
    is_trigger = True
    ports = [NEXT]
    default_config = {"event": "message", "match": "any"}
    summary = ["event", "event_name", "keywords", "pattern", "schedule.time"]
    fields = {
        "event": field("Evento", "Event", enum={
            "message": ("Mensagem recebida", "Message received"),
            "conversation_started": ("Conversa iniciada", "Conversation started"),
            "interactive_reply": ("Resposta de botão/lista", "Button/list reply"),
            "external": ("Evento externo (sistema da empresa)", "External event (company system)"),
            "opt_in": ("Opt-in (aceitou receber)", "Opt-in"), "opt_out": ("Opt-out (pediu para sair)", "Opt-out"),
            "schedule": ("Agendado (campanha)", "Scheduled (campaign)")}),
        "match": field("Quando", "When", visible_when={"event": "message"}, enum={
            "any": ("qualquer mensagem", "any message"), "keyword": ("palavra-chave", "keyword"),
            "regex": ("expressão regular", "regular expression"),
            "media": ("um arquivo (foto, documento, áudio, vídeo)", "a file (photo, document, audio, video)")}),
        "media_types": field("Tipos de arquivo", "File types", visible_when={"event": "message", "match": "media"},
                             help=("Vazio: qualquer arquivo.", "Empty: any file."), enum={
            "image": ("imagem", "image"), "document": ("documento", "document"), "audio": ("áudio", "audio"),
            "video": ("vídeo", "video"), "sticker": ("figurinha", "sticker")}),
        "keywords": field("Palavras-chave", "Keywords", visible_when={"event": "message", "match": "keyword"},
                          help=("A mensagem inteira ou a primeira palavra; maiúsculas e acentos não importam.",
                                "The whole message or its first word; case and accents do not matter.")),
        "pattern": field("Expressão regular", "Regular expression", visible_when={"event": "message", "match": "regex"},
                         placeholder="^pedido\\s+\\d+"),
        "reply_ids": field("Ids de botões/linhas", "Button/row ids", visible_when={"event": "interactive_reply"},
                           help=("Vazio: qualquer resposta.", "Empty: any reply.")),
        "event_name": field("Nome do evento externo", "External event name", visible_when={"event": "external"},
                            placeholder="call.finished",
                            help=("O nome que o sistema da empresa envia em POST /api/events/.",
                                  "The name the company system sends to POST /api/events/."),
                            required_message=("Informe o nome do evento externo.", "Give the external event name.")),
        "fields": field("Dados do evento", "Event data", visible_when={"event": "external"},
                        help=("Declare os campos que o evento traz: viram {{trigger.nome}} no autocompletar, "
                              "erros de digitação são apontados e o teste mostra um formulário.",
                              "Declare the fields the event carries: they become {{trigger.name}} in autocomplete, "
                              "typos are flagged and the test run shows a form.")),
        "fields.*.name": field("Campo", "Field", placeholder="call_result"),
        "fields.*.type": field("Tipo", "Type", enum={
            "text": ("texto", "text"), "number": ("número", "number"), "boolean": ("sim/não", "yes/no"),
            "datetime": ("data e hora", "date and time"), "list": ("lista", "list"), "object": ("objeto", "object")}),
        "fields.*.sample": field("Exemplo", "Sample", placeholder="no_answer", widget="plain"),
        "schedule": field("Agenda", "Schedule", visible_when={"event": "schedule"}),
        "schedule.time": field("Horário", "Time", widget="time"),
        "schedule.tag": field("Etiqueta dos contatos", "Contacts' tag", widget="plain",
                              help=("Recebem a campanha os contatos com esta etiqueta.", "Contacts with this tag get the campaign.")),
        "schedule.timezone": field("Fuso horário", "Time zone", placeholder="America/Sao_Paulo", widget="plain"),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "event": {"enum": EVENTS, "title": "Event"},
            "match": {"enum": ["any", "keyword", "regex", "media"], "default": "any"},
            "media_types": {"type": "array", "uniqueItems": True,
                            "items": {"enum": ["image", "document", "audio", "video", "sticker"]}},
            "keywords": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 100},
            "pattern": {"type": "string", "maxLength": 500},
            "reply_ids": {
                "type": "array", "items": {"type": "string"},
                "description": "Button or list row ids that start the flow (empty: any).",
            },
            "event_name": {"type": "string", "maxLength": 120, "description": "External event name, e.g. order.created"},
            "fields": {
                "type": "array", "maxItems": 50,
                "items": {"type": "object",
                          "properties": {"name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
                                         "type": {"enum": FIELD_TYPES, "default": "text"},
                                         "sample": {"type": "string", "maxLength": 500}},
                          "required": ["name"], "additionalProperties": False},
                "description": "Fields of the external event's data, with a type and a sample.",
            },
            "schedule": {
                "type": "object",
                "properties": {
                    "time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                    "weekdays": {"type": "array", "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
                    "tag": {"type": "string"},
                    "timezone": {"type": "string"},
                },
                "required": ["time", "tag"],
            },
        },
        "required": ["event"],
        "additionalProperties": False,
    }

    def trigger_fields(self, config: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        """The ``{{trigger.*}}`` fields this trigger provides, and whether more may come (open).

        An external event is open until its fields are declared; every other kind is closed.
        """
        event = config.get("event", "message")
        fixed = [{"name": n, "type": t, "sample": sample, "label": labels(*label)}
                 for n, t, sample, label in TRIGGER_FIELDS.get(event, [_KIND])]
        if event != "external":
            return fixed, False
        declared = [{"name": f["name"], "type": f.get("type", "text"), "sample": f.get("sample", ""),
                     "label": labels(f["name"], f["name"]), "declared": True}
                    for f in config.get("fields") or [] if isinstance(f, dict) and f.get("name")]
        return fixed + declared, not declared

    def defines(self, config: dict[str, Any]) -> list[str]:
        fields, open_ = self.trigger_fields(config)
        return [f"trigger.{f['name']}" for f in fields] + (["trigger"] if open_ else [])

    def validate(self, node_id: str, config: dict[str, Any]) -> list[ValidationIssue]:
        issues = []
        names = [f.get("name") for f in config.get("fields") or []]
        if len(names) != len(set(names)):
            issues.append(ValidationIssue("duplicate_field", labels("Cada campo do evento precisa de um nome diferente.",
                                                                    "Each event field needs a distinct name."),
                                          node_id, "fields"))
        if config.get("match") == "keyword" and not config.get("keywords"):
            issues.append(ValidationIssue(
                "keywords_required",
                labels("Informe ao menos uma palavra-chave.", "Give at least one keyword."),
                node_id, "keywords"))
        blank = [k for k in config.get("keywords") or [] if not _normalize(k)]
        if config.get("match") == "keyword" and blank:
            issues.append(ValidationIssue(
                "blank_keyword",
                labels(f"Palavra-chave sem letras nem números: '{blank[0]}'.", f"Keyword without letters or digits: '{blank[0]}'."),
                node_id, "keywords"))
        if config.get("match") == "regex":
            try:
                re.compile(config.get("pattern") or "")
            except re.error as exc:
                issues.append(ValidationIssue(
                    "invalid_regex",
                    labels(f"Expressão regular inválida: {exc}", f"Invalid regular expression: {exc}"),
                    node_id, "pattern"))
            if not config.get("pattern"):
                issues.append(ValidationIssue(
                    "pattern_required", labels("Informe a expressão regular.", "Give the regular expression."),
                    node_id, "pattern"))
        if config.get("event") == "external" and not config.get("event_name"):
            issues.append(ValidationIssue(
                "event_name_required",
                labels("Informe o nome do evento externo.", "Give the external event name."),
                node_id, "event_name"))
        if config.get("event") == "schedule" and not config.get("schedule"):
            issues.append(ValidationIssue(
                "schedule_required", labels("Informe o horário e a etiqueta dos contatos.",
                                            "Give the time and the contacts' tag."), node_id, "schedule"))
        if config.get("schedule"):
            from flows.nodes.delay import calendar_issues

            for issue in calendar_issues(node_id, config["schedule"], time_field="time"):
                issue.field = f"schedule.{issue.field}"
                issues.append(issue)
        return issues

    def matches(self, config: dict[str, Any], event_kind: str, payload: dict[str, Any]) -> bool:
        """Whether an event of ``event_kind`` with this normalized payload starts the flow."""
        wanted = config.get("event", "message")
        if wanted == "message":
            if event_kind not in ("message", "interactive_reply"):
                return False
            if config.get("match") == "media":
                kind = (payload.get("media") or {}).get("type")
                return bool(kind) and (not config.get("media_types") or kind in config["media_types"])
            return self._text_matches(config, payload.get("text") or "")
        if wanted == "conversation_started":
            return event_kind in ("message", "interactive_reply") and bool(payload.get("conversation_started"))
        if wanted == "interactive_reply":
            if event_kind != "interactive_reply":
                return False
            ids = config.get("reply_ids") or []
            return not ids or payload.get("reply_id") in ids
        if wanted == "external":
            return event_kind == "external" and payload.get("event") == config.get("event_name")
        if wanted in ("opt_in", "opt_out"):
            return event_kind == wanted
        # Schedule events name their flow and trigger node; flows.services starts them directly.
        return False

    def _text_matches(self, config: dict[str, Any], text: str) -> bool:
        mode = config.get("match", "any")
        if mode == "any":
            return True
        if mode == "keyword":
            normalized = _normalize(text)
            words = normalized.split()
            first = words[0] if words else ""
            for keyword in config.get("keywords") or []:
                key = _normalize(keyword)
                # A keyword matches the whole message or its first word(s) ("PEDIDO 123", "segunda via do boleto").
                if key and (normalized == key or first == key or normalized.startswith(key + " ")):
                    return True
            return False
        if mode == "regex":
            try:
                return regex_search(config.get("pattern") or "", text)
            except (RegexTooSlow, regex.error):
                logger.warning("trigger regex %r failed on an inbound message", config.get("pattern"), exc_info=True)
                return False
        return False

    def specificity(self, config: dict[str, Any]) -> int:
        """Keyword and regex triggers win over catch-all ones when one message matches several flows; so do
        triggers on a narrower event (conversation started, button reply) over "any message"."""
        if config.get("event", "message") != "message":
            return 1
        return 0 if config.get("match", "any") == "any" else 1

    def execute(self, ctx) -> Next:
        return Next("next", {"event": ctx.run.context.get("trigger", {}).get("kind", "")})
