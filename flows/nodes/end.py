"""Finish the run, as completed or failed, with an optional reason."""

from __future__ import annotations

from flows.nodes.base import End, NodeType, labels
from flows.nodes.registry import register


@register
class EndNode(NodeType):
    key = "end"
    label = labels("Fim", "End")
    description = labels("Encerra o fluxo.", "Ends the flow.")
    category = "flow"
    icon = "square"
    ports = []
    default_config = {"status": "completed"}
    config_schema = {
        "type": "object",
        "properties": {"status": {"enum": ["completed", "failed"], "default": "completed"},
                       "reason": {"type": "string", "maxLength": 500}},
        "additionalProperties": False,
    }

    def execute(self, ctx):
        return End(ctx.config.get("status", "completed"), ctx.config.get("reason", ""))
