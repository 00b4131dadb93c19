"""Finish the run, as completed or failed, with an optional reason."""

from __future__ import annotations

from flows.nodes.base import End, NodeType, labels
from flows.nodes.fields import field
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
    summary = ["status", "reason"]
    fields = {"status": field("Resultado", "Result", enum={"completed": ("concluído", "completed"), "failed": ("com falha", "failed")}),
              "reason": field("Motivo", "Reason")}
    config_schema = {
        "type": "object",
        "properties": {"status": {"enum": ["completed", "failed"], "default": "completed"},
                       "reason": {"type": "string", "maxLength": 500}},
        "additionalProperties": False,
    }

    def execute(self, ctx):
        return End(ctx.config.get("status", "completed"), ctx.config.get("reason", ""))
