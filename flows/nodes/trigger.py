"""gatilho: the entry point of a flow and the rule that decides which events start it."""

from __future__ import annotations

import logging
import re
from typing import Any

import regex

from flows.engine.safe_regex import RegexTooSlow, regex_search
from flows.nodes.base import NEXT, Next, NodeType, ValidationIssue, labels
from flows.nodes.registry import register

logger = logging.getLogger(__name__)

EVENTS = ["message", "conversation_started", "interactive_reply", "external", "opt_in", "opt_out", "schedule"]


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
    config_schema = {
        "type": "object",
        "properties": {
            "event": {"enum": EVENTS, "title": "Event"},
            "match": {"enum": ["any", "keyword", "regex"], "default": "any"},
            "keywords": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 100},
            "pattern": {"type": "string", "maxLength": 500},
            "reply_ids": {
                "type": "array", "items": {"type": "string"},
                "description": "Button or list row ids that start the flow (empty: any).",
            },
            "event_name": {"type": "string", "maxLength": 120, "description": "External event name, e.g. order.created"},
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

    def validate(self, node_id: str, config: dict[str, Any]) -> list[ValidationIssue]:
        issues = []
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
                    "pattern_required", labels("Informe o padrão.", "Give the pattern."), node_id, "pattern"))
        if config.get("event") == "external" and not config.get("event_name"):
            issues.append(ValidationIssue(
                "event_name_required",
                labels("Informe o nome do evento externo.", "Give the external event name."),
                node_id, "event_name"))
        if config.get("event") == "schedule" and not config.get("schedule"):
            issues.append(ValidationIssue(
                "schedule_required", labels("Informe o horário.", "Give the schedule."), node_id, "schedule"))
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
