"""reagir: an emoji reaction to the customer's message (by default the one that started the run)."""

from __future__ import annotations

from flows.nodes.base import FAILURE, NEXT, Next, NodeType, StepError, labels
from flows.nodes.fields import field
from flows.nodes.registry import register


@register
class SendReactionNode(NodeType):
    key = "send_reaction"
    label = labels("Reagir à mensagem", "React to message")
    description = labels("Reage com um emoji à mensagem do cliente. Só dentro da janela de 24 horas.",
                         "Reacts with an emoji to the customer's message. Only inside the 24-hour window.")
    category = "messaging"
    icon = "smile"
    ports = [NEXT, FAILURE]
    default_config = {"emoji": "👍", "message_id": "{{trigger.message_id}}"}
    summary = ["emoji"]
    fields = {
        "emoji": field("Emoji", "Emoji", placeholder="👍"),
        "message_id": field("Mensagem", "Message", placeholder="{{trigger.message_id}}",
                            help=("O id da mensagem do cliente (wamid).", "The customer's message id (wamid).")),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "emoji": {"type": "string", "minLength": 1, "maxLength": 16},
            "message_id": {"type": "string", "minLength": 1, "maxLength": 300},
        },
        "required": ["emoji", "message_id"],
        "additionalProperties": False,
    }

    def expressions(self, config):
        return [(n, config[n]) for n in ("emoji", "message_id") if "{{" in (config.get(n) or "")]

    def execute(self, ctx):
        message_id = ctx.render(ctx.config["message_id"], field_name="message_id").strip()
        if not message_id:
            raise StepError("no message to react to (the message id is empty)", code="no_message")
        emoji = ctx.render(ctx.config["emoji"], field_name="emoji").strip()
        result = ctx.runtime.send(run=ctx.run, kind="reaction",
                                  content={"reaction": {"message_id": message_id, "emoji": emoji}},
                                  idempotency_key=ctx.idempotency_key())
        return Next("next", {**result, "emoji": emoji})
