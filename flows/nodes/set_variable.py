"""Set run variables and contact fields (name, attributes, tags)."""

from __future__ import annotations

import json
import math
import re

from django.utils.translation import gettext

from flows.nodes.base import NEXT, Next, NodeType, StepError, ValidationIssue, labels
from flows.nodes.fields import field
from flows.nodes.registry import register


def _no_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")  # json.loads accepts NaN/Infinity; PostgreSQL does not


TARGET_RE = re.compile(r"^(vars\.[A-Za-z_][A-Za-z0-9_]{0,63}|contact\.name|contact\.attributes\.[A-Za-z_][A-Za-z0-9_]{0,63}|contact\.tags)$")


@register
class SetVariableNode(NodeType):
    key = "set_variable"
    label = labels("Definir variável", "Set variable")
    description = labels(
        "Guarda valores em variáveis do fluxo ou em campos do contato.",
        "Stores values in flow variables or contact fields.",
    )
    category = "data"
    icon = "variable"
    ports = [NEXT]
    default_config = {"assignments": [{"target": "vars.", "value": "", "type": "text"}]}
    summary = ["assignments"]
    fields = {
        "assignments": field("Atribuições", "Assignments"),
        "assignments.*.target": field("Destino", "Target", placeholder="vars.nome", widget="plain",
                                      help=("vars.nome, contact.name, contact.attributes.nome ou contact.tags.",
                                            "vars.name, contact.name, contact.attributes.name or contact.tags.")),
        "assignments.*.value": field("Valor", "Value"),
        "assignments.*.type": field("Tipo", "Type", enum={"text": ("texto", "text"), "number": ("número", "number"),
                                                          "boolean": ("sim/não", "yes/no"), "json": ("JSON", "JSON")}),
        "assignments.*.operation": field("Operação", "Operation", enum={
            "set": ("definir", "set"), "add_tag": ("adicionar etiqueta", "add tag"), "remove_tag": ("remover etiqueta", "remove tag")}),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "assignments": {
                "type": "array", "minItems": 1, "maxItems": 50,
                "items": {"type": "object",
                          "properties": {"target": {"type": "string"},
                                         "value": {"type": "string", "maxLength": 4000},
                                         "type": {"enum": ["text", "number", "boolean", "json"], "default": "text"},
                                         "operation": {"enum": ["set", "add_tag", "remove_tag"], "default": "set"}},
                          "required": ["target", "value"], "additionalProperties": False},
            }
        },
        "required": ["assignments"],
        "additionalProperties": False,
    }

    def expressions(self, config):
        return [(f"assignments.{i}.value", a["value"]) for i, a in enumerate(config.get("assignments") or [])
                if "{{" in a.get("value", "")]

    def defines(self, config):
        return [a["target"] for a in config.get("assignments") or [] if a.get("target", "").startswith("vars.")]

    def validate(self, node_id, config):
        return [ValidationIssue("bad_target",
                                labels(f"Destino inválido '{a.get('target')}': use vars.nome, contact.name, "
                                       "contact.attributes.nome ou contact.tags.",
                                       f"Invalid target '{a.get('target')}': use vars.name, contact.name, "
                                       "contact.attributes.name or contact.tags."),
                                node_id, f"assignments.{i}.target")
                for i, a in enumerate(config.get("assignments") or []) if not TARGET_RE.match(a.get("target", ""))]

    @staticmethod
    def _convert(value, kind: str):
        if kind == "text":
            return "" if value is None else (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                                              if isinstance(value, (dict, list)) else str(value))
        if kind == "number":
            try:
                number = float(str(value).replace(",", "."))
            except ValueError:
                number = math.nan
            if not math.isfinite(number):  # nan/inf cannot be stored as JSON
                raise StepError(gettext("'%(value)s' is not a number") % {"value": value}, code="not_a_number")
            return int(number) if number.is_integer() else number
        if kind == "boolean":
            return str(value).strip().casefold() in {"1", "true", "sim", "yes", "s", "y"}
        if isinstance(value, str):
            try:
                return json.loads(value, parse_constant=_no_constant)
            except ValueError as exc:
                raise StepError(gettext("not valid JSON: %(error)s") % {"error": exc}, code="bad_json") from exc
        return value

    def execute(self, ctx):
        from messaging.models import Tag

        contact = ctx.run.contact
        changed_contact, written = False, {}
        for i, assignment in enumerate(ctx.config["assignments"]):
            target = assignment["target"]
            value = self._convert(ctx.render_value(assignment["value"], field_name=f"assignments.{i}.value"),
                                  assignment.get("type", "text"))
            if target.startswith("vars."):
                ctx.vars[target[5:]] = value
                written[target] = value
                continue
            # The contact changes: later assignments (and nodes) must see it, so drop the cached scope.
            ctx.invalidate_contact()
            if target == "contact.name":
                contact.name = str(value)[:200]
                changed_contact = True
            elif target.startswith("contact.attributes."):
                contact.attributes = {**(contact.attributes or {}), target[19:]: value}
                changed_contact = True
            elif target == "contact.tags":
                if not str(value).strip():
                    raise StepError(gettext("the tag in '%(field)s' is empty") % {"field": f"assignments.{i}.value"},
                                    code="empty_tag")
                tag, _ = Tag.objects.get_or_create(name=str(value).strip()[:64])
                if assignment.get("operation") == "remove_tag":
                    contact.tags.remove(tag)
                else:
                    contact.tags.add(tag)
            written[target] = value
        if changed_contact:
            contact.save(update_fields=["name", "attributes", "updated_at"])
            from messaging.campaigns.events import contact_dates_changed

            contact_dates_changed(contact_ids=[contact.pk])  # date events follow the new dates
        return Next("next", {"assigned": written})
