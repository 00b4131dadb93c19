"""The contract every node type fulfils.

A node type is one module in ``flows/nodes/`` holding a subclass of :class:`NodeType` decorated
with :func:`flows.nodes.registry.register`. The editor reads the registry through
``GET /api/node-types/``; the validator and the interpreter read it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

# What execute() returns lives in the engine; node modules import it from here for convenience.
from flows.engine.outcomes import End, Next, Outcome, StepError, Wait  # noqa: F401

if TYPE_CHECKING:
    from flows.engine.context import StepContext


Labels = dict[str, str]  # {"pt-BR": "...", "en": "..."}


@dataclass(frozen=True)
class Port:
    key: str
    label: Labels

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label}


@dataclass
class ValidationIssue:
    """One problem of a definition, pinned on a node (or the flow) and a config field."""

    code: str
    message: Labels
    node_id: str | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "node_id": self.node_id, "field": self.field, "message": self.message}


# --- The node type ----------------------------------------------------------------------------


class NodeType:
    key: ClassVar[str]
    label: ClassVar[Labels]
    description: ClassVar[Labels] = {"pt-BR": "", "en": ""}
    category: ClassVar[str]  # trigger | flow | messaging | ai | data | integration | routing
    icon: ClassVar[str] = "circle"
    config_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    ports: ClassVar[list[Port]] = []
    # A trigger is an entry point of the flow; ``can_pause`` nodes make cycles legal.
    is_trigger: ClassVar[bool] = False
    can_pause: ClassVar[bool] = False
    # Where ports come from the config (branch conditions): the editor reads this hint.
    dynamic_ports: ClassVar[dict[str, str] | None] = None
    default_config: ClassVar[dict[str, Any]] = {}

    # -- description for the editor and the validator

    def ports_for(self, config: dict[str, Any]) -> list[Port]:
        """The output ports of a node with this config (static by default)."""
        return list(self.ports)

    def expressions(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        """(field, template) pairs holding ``{{ }}`` expressions, to be parsed and checked."""
        return []

    def defines(self, config: dict[str, Any]) -> list[str]:
        """Variable paths this node makes available downstream, e.g. ``vars.order_id``."""
        return []

    def defines_on_port(self, config: dict[str, Any], port: str) -> list[str]:
        """The variables available past one output port (all of :meth:`defines` by default)."""
        return self.defines(config)

    def validate(self, node_id: str, config: dict[str, Any]) -> list[ValidationIssue]:
        """Semantic checks beyond the JSON Schema of the config."""
        return []

    # -- execution

    def execute(self, ctx: StepContext) -> Outcome:
        raise NotImplementedError

    def resume(self, ctx: StepContext) -> Outcome:
        """Called when an event or the timer answers a :class:`Wait` of this node.

        ``ctx.event`` holds the answering event (``ctx.event_kind == "timer"`` for the timer).
        """
        return Next()

    def accepts(self, ctx: StepContext) -> bool:
        """Whether the incoming event answers this node's wait (defaults: timers only)."""
        return ctx.event_kind == "timer"

    def describe(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "description": self.description,
            "category": self.category,
            "icon": self.icon,
            "config_schema": self.config_schema,
            "default_config": self.default_config,
            "ports": [p.as_dict() for p in self.ports],
            "dynamic_ports": self.dynamic_ports,
            "is_trigger": self.is_trigger,
            "can_pause": self.can_pause,
        }


def labels(pt: str, en: str) -> Labels:
    return {"pt-BR": pt, "en": en}


NEXT = Port("next", labels("Próximo", "Next"))
FAILURE = Port("failure", labels("Falha", "Failure"))
