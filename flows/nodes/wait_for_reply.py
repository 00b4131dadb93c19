"""Wait for the contact's next message or button/list reply, with an optional timeout."""

from __future__ import annotations

from flows.engine.calendar import DURATION_SCHEMA, duration_problem, duration_to_timedelta
from flows.nodes.base import Next, NodeType, Port, ValidationIssue, Wait, labels
from flows.nodes.fields import field
from flows.nodes.registry import register

REPLY = Port("reply", labels("Resposta", "Reply"))
TIMEOUT = Port("timeout", labels("Sem resposta", "Timeout"))


@register
class WaitForReplyNode(NodeType):
    key = "wait_for_reply"
    label = labels("Aguardar resposta", "Wait for reply")
    description = labels(
        "Pausa até o contato responder; se o prazo acabar, segue por 'Sem resposta'.",
        "Pauses until the contact replies; if the timeout passes, follows 'Timeout'.",
    )
    category = "messaging"
    icon = "message-square-dashed"
    can_pause = True
    ports = [REPLY, TIMEOUT]
    default_config = {"timeout": {"value": 24, "unit": "hours"}, "save_as": "answer"}
    summary = ["timeout", "save_as"]
    fields = {
        "timeout": field("Prazo para responder", "Reply timeout", help=("Vazio: espera sem limite.", "Empty: waits forever.")),
        "save_as": field("Guardar resposta em", "Save the reply as", placeholder="answer", widget="plain",
                         help=("A resposta fica em {{vars.nome}}.", "The reply goes to {{vars.name}}.")),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "timeout": {"anyOf": [DURATION_SCHEMA, {"type": "null"}]},
            "save_as": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
        },
        "additionalProperties": False,
    }

    def validate(self, node_id, config):
        timeout = config.get("timeout")
        if timeout and duration_problem(timeout):
            return [ValidationIssue("duration_too_long", labels("O prazo passa de dez anos.",
                                                                "The timeout is longer than ten years."),
                                    node_id, "timeout")]
        if timeout and duration_to_timedelta(timeout).total_seconds() <= 0:
            return [ValidationIssue("duration_positive", labels("O prazo deve ser maior que zero.",
                                                                "The timeout must be above zero."), node_id, "timeout")]
        return []

    def defines(self, config):
        names = ["reply.text", "reply.kind", "reply.reply_id", "reply.reply_title"]
        if config.get("save_as"):
            names.append(f"vars.{config['save_as']}")
        return names

    def defines_on_port(self, config, port):
        # A timeout means no reply came: reply.* and the saved answer do not exist on that path.
        return self.defines(config) if port == "reply" else []

    def execute(self, ctx):
        timeout = ctx.config.get("timeout")
        wake_at = ctx.now() + duration_to_timedelta(timeout) if timeout else None
        return Wait("reply", wake_at=wake_at, output={"timeout_at": wake_at.isoformat() if wake_at else None})

    def accepts(self, ctx) -> bool:
        return ctx.event_kind in ("message", "interactive_reply", "timer")

    def resume(self, ctx):
        if ctx.event_kind == "timer":
            return Next("timeout", {"timed_out": True})
        event = ctx.event
        reply = {
            "kind": event.get("type", ctx.event_kind),
            "text": event.get("text") or event.get("reply_title") or "",
            "reply_id": event.get("reply_id", ""),
            "reply_title": event.get("reply_title", ""),
        }
        ctx.run.context["reply"] = reply
        if ctx.config.get("save_as"):
            ctx.vars[ctx.config["save_as"]] = reply["reply_title"] or reply["text"]
        return Next("reply", {"reply": reply})
