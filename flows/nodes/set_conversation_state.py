"""mudar estado da conversa: new → triaged → in service → pending → completed, by the state machine."""

from __future__ import annotations

from flows.nodes.base import FAILURE, NEXT, Next, NodeType, labels
from flows.nodes.registry import register

STATES = ["new", "triaged", "in_service", "pending", "completed"]


@register
class SetConversationStateNode(NodeType):
    key = "set_conversation_state"
    label = labels("Mudar estado da conversa", "Set conversation state")
    description = labels(
        "Move a conversa para nova, triada, em atendimento, pendente ou concluída. "
        "Mudanças não permitidas (ex.: reabrir uma concluída) seguem por 'Falha'.",
        "Moves the conversation to new, triaged, in service, pending or completed. "
        "Moves the state machine refuses (e.g. reopening a completed one) follow 'Failure'.",
    )
    category = "routing"
    icon = "flag"
    ports = [NEXT, FAILURE]
    default_config = {"state": "in_service"}
    summary = ["state"]
    config_schema = {
        "type": "object",
        "properties": {
            "state": {"enum": STATES},
            "reason": {"type": "string", "maxLength": 500},
        },
        "required": ["state"],
        "additionalProperties": False,
    }

    def expressions(self, config):
        return [("reason", config["reason"])] if "{{" in (config.get("reason") or "") else []

    def execute(self, ctx):
        config = ctx.config
        reason = ctx.render(config.get("reason") or "", field_name="reason")
        result = ctx.runtime.call("set_conversation_state", run=ctx.run, state=config["state"], reason=reason)
        return Next("next", result)
