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
    """One problem of a definition, pinned on a node (or the flow) and a config field.

    ``severity`` is ``error`` (blocks publishing) or ``warning`` (publishing asks to confirm).
    ``params`` keeps the values the message was built from (e.g. a suggestion), for the editor.
    """

    code: str
    message: Labels
    node_id: str | None = None
    field: str | None = None
    severity: str = "error"
    params: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {"code": self.code, "node_id": self.node_id, "field": self.field, "message": self.message,
                "severity": self.severity}
        if self.params:
            data["params"] = {k: v for k, v in self.params.items() if isinstance(v, (str, int, float, bool, list))}
        return data


def issue(code: str, node_id: str | None = None, field_path: str | None = None, /, *, severity: str = "error",
          **params: Any) -> ValidationIssue:
    """A :class:`ValidationIssue` whose message comes from the catalogue (flows/messages.py)."""
    from flows.messages import render

    return ValidationIssue(code, render(code, params), node_id, field_path, severity, params or None)


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
    dynamic_ports: ClassVar[dict[str, Any] | None] = None
    default_config: ClassVar[dict[str, Any]] = {}
    # Editor facts about config fields, by dotted path ("schedule.time", "conditions.*.label") or by
    # name: title, help, enum labels, placeholder, widget, visible_when, required_message. Titles of
    # common field names come from flows/nodes/fields.py; see there.
    fields: ClassVar[dict[str, dict[str, Any]]] = {}
    # Config paths summarised on the canvas card, in order (values shown with their enum labels).
    summary: ClassVar[list[str]] = []

    # -- description for the editor and the validator

    def ports_for(self, config: dict[str, Any]) -> list[Port]:
        """The output ports of a node with this config: static, or by the ``dynamic_ports`` rule.

        The rule is data (served to the editor, which applies it with the same algorithm), so
        the ports a card shows and the ones the validator accepts are one rule, not two.
        """
        if self.dynamic_ports:
            return ports_from_rule(self.dynamic_ports, config)
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
        """Everything the editor knows about this type (GET /api/node-types/)."""
        from flows.nodes.fields import category_info, glyph_for, resolve_fields

        return {
            "key": self.key,
            "label": self.label,
            "description": self.description,
            "category": self.category,
            "category_info": category_info(self.category),
            "icon": self.icon,
            "glyph": glyph_for(self.icon),
            "config_schema": self.config_schema,
            "default_config": self.default_config,
            "ports": [p.as_dict() for p in self.ports],
            "dynamic_ports": self.dynamic_ports,
            "fields": resolve_fields(self),
            "summary": list(self.summary),
            "is_trigger": self.is_trigger,
            "can_pause": self.can_pause,
        }


def labels(pt: str, en: str) -> Labels:
    return {"pt-BR": pt, "en": en}


def ports_from_rule(rule: dict[str, Any], config: dict[str, Any]) -> list[Port]:
    """Ports from a ``dynamic_ports`` rule: one per item of ``config[rule["from"]]`` (key and label
    from the item), then the default port, labelled by ``config[rule["default_label_from"]]`` or
    ``rule["default_label"]``. frontend/src/editor/ports.ts applies the same rule to the same data;
    the generated fixture carries examples both sides are tested against."""
    ports = []
    seen = set()
    for item in config.get(rule["from"]) or []:
        if not isinstance(item, dict):
            continue
        key = item.get(rule["key"])
        if not isinstance(key, str) or not key or key in seen:
            continue
        seen.add(key)
        text = item.get(rule["label"])
        text = text if isinstance(text, str) and text else key
        ports.append(Port(key, labels(text, text)))
    custom = config.get(rule.get("default_label_from") or "")
    default = labels(custom, custom) if isinstance(custom, str) and custom else rule["default_label"]
    ports.append(Port(rule["default"], dict(default)))
    return ports


NEXT = Port("next", labels("Próximo", "Next"))
FAILURE = Port("failure", labels("Falha", "Failure"))
