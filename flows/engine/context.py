"""What a node sees while it executes: its config, the run's variables, the event, the runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext

from flows import expressions
from flows.engine.outcomes import StepError

if TYPE_CHECKING:
    from flows.engine.runtime import Runtime
    from flows.models import FlowRun


class ContactScope(dict):
    """``{{contact.*}}``: a dict whose ``tags`` are read from the database only when an expression asks."""

    def __init__(self, contact) -> None:
        name = contact.name or ""
        super().__init__({
            "id": contact.pk,
            "name": name,
            "first_name": name.split()[0] if name.strip() else "",
            "phone": contact.phone,
            "attributes": dict(contact.attributes or {}),
            "opted_in_marketing": contact.consent_state("marketing") == "opted_in",
        })
        self._contact = contact

    def __contains__(self, key: object) -> bool:
        return key == "tags" or super().__contains__(key)

    def __missing__(self, key: str) -> Any:
        if key != "tags":
            raise KeyError(key)
        contact = self._contact
        tags = sorted(contact.tags.values_list("name", flat=True)) if contact.pk else []
        self["tags"] = tags
        return tags


class RunScope(dict):
    """``{{run.*}}``; the id of a run still in the unit of work is written out when an expression asks."""

    def __init__(self, run) -> None:
        super().__init__({"flow": run.flow.name, "started_at": (run.context or {}).get("started_at", "")})
        self._run = run

    def __contains__(self, key: object) -> bool:
        return key == "id" or super().__contains__(key)

    def __missing__(self, key: str) -> Any:
        if key != "id":
            raise KeyError(key)
        if self._run.pk is None:
            from core.unit import flush_current

            flush_current()
        self["id"] = self._run.pk
        return self._run.pk


def contact_scope(contact) -> dict[str, Any]:
    return ContactScope(contact)


def _expression_message(exc, field_name: str) -> str:
    """An expression's run-time error, naming the field it is in."""
    if not field_name:
        return exc.message
    return gettext("%(error)s in '%(field)s'") % {"error": exc.message, "field": field_name}


@dataclass
class StepContext:
    run: FlowRun
    node: dict[str, Any]
    runtime: Runtime
    step_seq: int
    event_kind: str | None = None
    event: dict[str, Any] = field(default_factory=dict)
    _contact_scope: dict[str, Any] | None = None

    @property
    def node_id(self) -> str:
        return self.node["id"]

    @property
    def config(self) -> dict[str, Any]:
        return self.node.get("config") or {}

    @property
    def vars(self) -> dict[str, Any]:
        return self.run.context.setdefault("vars", {})

    def now(self) -> datetime:
        return self.runtime.now()

    def scope(self) -> dict[str, Any]:
        if self._contact_scope is None:
            self._contact_scope = contact_scope(self.run.contact)
        ctx = self.run.context
        return {
            "trigger": ctx.get("trigger", {}),
            "vars": ctx.get("vars", {}),
            "reply": ctx.get("reply", {}),
            "contact": self._contact_scope,
            "run": RunScope(self.run),
            "now": timezone.localtime(self.now()).isoformat(),  # in TIME_ZONE, so {{now|date}} is the local day
        }

    def invalidate_contact(self) -> None:
        self._contact_scope = None

    def render(self, template: str, *, field_name: str = "") -> str:
        try:
            return expressions.render(template or "", self.scope())
        except expressions.ExpressionError as exc:
            raise StepError(_expression_message(exc, field_name), code="expression_error",
                            details={"field": field_name, "expression": exc.expression}) from exc

    def render_value(self, template: Any, *, field_name: str = "") -> Any:
        try:
            return expressions.render_value(template, self.scope())
        except expressions.ExpressionError as exc:
            raise StepError(_expression_message(exc, field_name), code="expression_error",
                            details={"field": field_name, "expression": exc.expression}) from exc

    def idempotency_key(self, suffix: str = "") -> str:
        """Stable for this step of this run: the run's own key (ids of new runs come at the unit's end)."""
        base = self.run.context.get("_key") or self.run.pk
        return f"run:{base}:step:{self.step_seq}{':' + suffix if suffix else ''}"
