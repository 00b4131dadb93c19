"""Route by ordered conditions (AND/OR groups) or by a weighted random split."""

from __future__ import annotations

import random
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import regex
from django.conf import settings
from django.utils.translation import gettext

from flows.engine.calendar import BusinessHours
from flows.engine.safe_regex import RegexTooSlow, regex_search
from flows.nodes.base import Next, NodeType, StepError, ValidationIssue, labels
from flows.nodes.fields import field
from flows.nodes.registry import register

OPERATORS = {
    "equals": labels("é igual a", "equals"),
    "not_equals": labels("é diferente de", "does not equal"),
    "contains": labels("contém", "contains"),
    "not_contains": labels("não contém", "does not contain"),
    "starts_with": labels("começa com", "starts with"),
    "regex": labels("combina com a expressão regular", "matches regex"),
    "gt": labels("maior que", "greater than"),
    "gte": labels("maior ou igual a", "greater or equal"),
    "lt": labels("menor que", "less than"),
    "lte": labels("menor ou igual a", "less or equal"),
    "empty": labels("está vazio", "is empty"),
    "not_empty": labels("não está vazio", "is not empty"),
    "in_list": labels("está na lista", "is in list"),
    "not_in_list": labels("não está na lista", "is not in list"),
    "has_tag": labels("contato tem a etiqueta", "contact has tag"),
    "in_segment": labels("contato está no segmento (id)", "contact is in segment (id)"),
    "not_in_segment": labels("contato não está no segmento (id)", "contact is not in segment (id)"),
    "business_hours": labels("em horário comercial", "within business hours"),
    "outside_business_hours": labels("fora do horário comercial", "outside business hours"),
}
UNARY = {"empty", "not_empty", "business_hours", "outside_business_hours"}
NO_LEFT = {"has_tag", "in_segment", "not_in_segment", "business_hours", "outside_business_hours"}
NUMERIC = {"gt", "gte", "lt", "lte"}

RULE_SCHEMA = {
    "type": "object",
    "properties": {
        "left": {"type": "string", "description": "An expression, e.g. {{contact.attributes.tier}}"},
        "op": {"enum": list(OPERATORS)},
        "right": {"type": ["string", "number", "array", "null"]},
        "case_sensitive": {"type": "boolean"},
    },
    "required": ["op"],
    "additionalProperties": False,
}
GROUP_SCHEMA = {
    "type": "object",
    "properties": {
        "match": {"enum": ["all", "any"]},
        "rules": {"type": "array", "items": RULE_SCHEMA, "minItems": 1},
    },
    "required": ["match", "rules"],
    "additionalProperties": False,
}


def _number(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, AttributeError):
        number = None
    if number is None or number.is_nan():  # "nan" parses, but cannot be compared
        raise StepError(gettext("'%(value)s' is not a number, so it cannot be compared") % {"value": value},
                        code="not_a_number")
    return number


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


@register
class BranchNode(NodeType):
    key = "branch"
    label = labels("Condição", "Branch")
    description = labels(
        "Segue pelo primeiro caminho cuja condição for verdadeira; senão, pelo caminho padrão.",
        "Follows the first path whose condition holds; otherwise the default path.",
    )
    category = "flow"
    icon = "git-branch"
    dynamic_ports = {"from": "conditions", "key": "id", "label": "label", "default": "default",
                     "default_label_from": "default_label", "default_label": labels("Outro", "Other")}
    default_config = {"mode": "conditions", "conditions": []}
    summary = ["conditions"]
    fields = {
        "mode": field("Tipo de divisão", "Split by", enum={"conditions": ("Por condições", "Conditions"),
                                                           "random": ("Divisão aleatória", "Random split")}),
        "conditions": field("Caminhos", "Paths"),
        "conditions.*.id": field("Id do caminho", "Path id"),
        "conditions.*.label": field("Nome do caminho", "Path name"),
        "conditions.*.match": field("Combinar regras", "Match rules", enum={"all": ("todas (E)", "all (AND)"),
                                                                           "any": ("qualquer uma (OU)", "any (OR)")}),
        "conditions.*.rules": field("Regras", "Rules"),
        "conditions.*.rules.*.left": field("Valor", "Value", placeholder="{{trigger.text}}",
                                           required_message=("Escolha o valor a comparar.", "Pick the value to compare.")),
        "conditions.*.rules.*.op": field("Operador", "Operator", enum={k: (v["pt-BR"], v["en"]) for k, v in OPERATORS.items()}),
        "conditions.*.rules.*.right": field("Comparar com", "Compare with"),
        "conditions.*.rules.*.case_sensitive": field("Diferenciar maiúsculas", "Case sensitive"),
        "conditions.*.rules.*.match": field("Combinar regras", "Match rules", enum={"all": ("todas (E)", "all (AND)"),
                                                                                   "any": ("qualquer uma (OU)", "any (OR)")}),
        "conditions.*.rules.*.rules": field("Regras do grupo", "Group rules"),
        "conditions.*.rules.*.rules.*.left": field("Valor", "Value", placeholder="{{trigger.text}}"),
        "conditions.*.rules.*.rules.*.op": field("Operador", "Operator",
                                                 enum={k: (v["pt-BR"], v["en"]) for k, v in OPERATORS.items()}),
        "conditions.*.rules.*.rules.*.right": field("Comparar com", "Compare with"),
        "conditions.*.rules.*.rules.*.case_sensitive": field("Diferenciar maiúsculas", "Case sensitive"),
        "conditions.*.weight": field("Peso", "Weight"),
        "default_label": field("Nome do caminho padrão", "Default path name", placeholder="Outro"),
        "business_hours": field("Horário comercial", "Business hours", placeholder="mon-fri 09:00-18:00",
                                help=("Usado pelos operadores de horário comercial.", "Used by the business-hours operators.")),
        "timezone": field("Fuso horário", "Time zone", placeholder="America/Sao_Paulo"),
    }

    def describe(self):
        return {**super().describe(), "operators": [
            {"key": key, "label": label, "needs_left": key not in NO_LEFT, "needs_right": key not in UNARY,
             "numeric": key in NUMERIC} for key, label in OPERATORS.items()]}
    config_schema = {
        "type": "object",
        "properties": {
            "mode": {"enum": ["conditions", "random"], "default": "conditions"},
            "conditions": {
                "type": "array",
                "maxItems": 50,
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
                        "label": {"type": "string", "maxLength": 80},
                        "match": {"enum": ["all", "any"], "default": "all"},
                        "rules": {"type": "array", "items": {"anyOf": [RULE_SCHEMA, GROUP_SCHEMA]}},
                        "weight": {"type": "number", "minimum": 0},
                    },
                    "required": ["id", "label"],
                    "additionalProperties": False,
                },
            },
            "default_label": {"type": "string", "maxLength": 80},
            "business_hours": {"type": "string"},
            "timezone": {"type": "string"},
        },
        "required": ["conditions"],
        "additionalProperties": False,
    }

    def _rules(self, config):
        for condition in config.get("conditions") or []:
            for index, rule in enumerate(condition.get("rules") or []):
                for sub_index, inner in enumerate(rule.get("rules", [rule])):
                    suffix = f".rules.{sub_index}" if "rules" in rule else ""
                    yield condition, f"conditions.{condition.get('id')}.rules.{index}{suffix}", inner

    def expressions(self, config):
        found = []
        for _condition, path, rule in self._rules(config):
            for side in ("left", "right"):
                if isinstance(rule.get(side), str) and "{{" in rule[side]:
                    found.append((f"{path}.{side}", rule[side]))
        return found

    def validate(self, node_id, config):
        from flows.nodes.delay import calendar_issues

        issues = calendar_issues(node_id, config, hours_field="business_hours")
        ids = [c.get("id") for c in config.get("conditions") or []]
        if len(ids) != len(set(ids)) or "default" in ids:
            issues.append(ValidationIssue("duplicate_condition",
                                          labels("Cada condição precisa de um id único (e diferente de 'default').",
                                                 "Each condition needs a unique id (other than 'default')."),
                                          node_id, "conditions"))
        if config.get("mode", "conditions") == "random":
            if not config.get("conditions") or sum(float(c.get("weight", 0)) for c in config["conditions"]) <= 0:
                issues.append(ValidationIssue("weights_required",
                                              labels("Informe pesos positivos para a divisão aleatória.",
                                                     "Give positive weights for the random split."),
                                              node_id, "conditions"))
            return issues
        for condition in config.get("conditions") or []:
            if not condition.get("rules"):
                issues.append(ValidationIssue("rules_required",
                                              labels(f"A condição '{condition.get('label')}' não tem regras.",
                                                     f"Condition '{condition.get('label')}' has no rules."),
                                              node_id, f"conditions.{condition.get('id')}.rules"))
        for _condition, path, rule in self._rules(config):
            op = rule.get("op")
            if op not in NO_LEFT and not rule.get("left"):
                issues.append(ValidationIssue("left_required",
                                              labels("Escolha o valor a comparar.", "Pick the value to compare."),
                                              node_id, f"{path}.left"))
            if op not in UNARY and rule.get("right") in (None, "", []):
                issues.append(ValidationIssue("right_required",
                                              labels("Informe o valor de comparação.", "Give the value to compare with."),
                                              node_id, f"{path}.right"))
            if op == "regex":
                try:
                    re.compile(str(rule.get("right") or ""))
                except re.error as exc:
                    issues.append(ValidationIssue("invalid_regex",
                                                  labels(f"Expressão regular inválida: {exc}", f"Invalid regular expression: {exc}"),
                                                  node_id, f"{path}.right"))
        return issues

    # -- evaluation

    def _rule_holds(self, ctx, rule: dict[str, Any], path: str) -> bool:
        op = rule["op"]
        if op in ("business_hours", "outside_business_hours"):
            hours = BusinessHours.parse(ctx.config.get("business_hours") or settings.FLUXO_BUSINESS_HOURS,
                                        ctx.config.get("timezone") or settings.TIME_ZONE)
            return hours.is_open(ctx.now()) == (op == "business_hours")
        if op == "has_tag":
            tag = ctx.render(str(rule.get("right") or ""), field_name=f"{path}.right")
            return tag in ctx.scope()["contact"]["tags"]
        if op in ("in_segment", "not_in_segment"):
            return self._in_segment(ctx, rule, path) == (op == "in_segment")
        left = ctx.render_value(rule.get("left") or "", field_name=f"{path}.left")
        right = rule.get("right")
        right = ctx.render_value(right, field_name=f"{path}.right") if isinstance(right, str) else right
        if op == "empty":
            return left in (None, "", [], {})
        if op == "not_empty":
            return left not in (None, "", [], {})
        if op in NUMERIC:
            a, b = _number(left), _number(right)
            return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
        sensitive = bool(rule.get("case_sensitive"))
        norm = (lambda s: str(s if s is not None else "").strip()) if sensitive else \
            (lambda s: str(s if s is not None else "").strip().casefold())
        if op == "equals":
            return norm(left) == norm(right)
        if op == "not_equals":
            return norm(left) != norm(right)
        if op == "contains":
            return norm(right) in norm(left)
        if op == "not_contains":
            return norm(right) not in norm(left)
        if op == "starts_with":
            return norm(left).startswith(norm(right))
        if op == "regex":
            try:
                return regex_search(str(right), str(left if left is not None else ""), ignore_case=not sensitive)
            except RegexTooSlow as exc:
                raise StepError(str(exc), code="regex_timeout") from exc
            except regex.error as exc:
                raise StepError(gettext("invalid regular expression '%(pattern)s': %(error)s") % {"pattern": right, "error": exc},
                                code="invalid_regex") from exc
        if op in ("in_list", "not_in_list"):
            inside = norm(left) in {norm(item) for item in _as_list(right)}
            return inside if op == "in_list" else not inside
        raise StepError(gettext("unknown operator '%(operator)s'") % {"operator": op}, code="unknown_operator")

    def _in_segment(self, ctx, rule: dict[str, Any], path: str) -> bool:
        """Whether the run's contact is in the segment (one query: the segment's filter plus its id)."""
        from messaging.campaigns.segments import SegmentInvalid, segment_contacts
        from messaging.models import Segment

        raw = ctx.render(str(rule.get("right") or ""), field_name=f"{path}.right").strip()
        segment = Segment.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if segment is None:
            raise StepError(f"segment '{raw}' does not exist; pick one in '{path}.right'", code="unknown_segment")
        try:
            return segment_contacts(segment.definition).filter(pk=ctx.run.contact_id).exists()
        except SegmentInvalid as exc:
            raise StepError(f"segment '{segment.name}' cannot be read: {exc.message}", code="invalid_segment") from exc

    def _condition_holds(self, ctx, condition: dict[str, Any]) -> bool:
        results = []
        for index, rule in enumerate(condition.get("rules") or []):
            path = f"conditions.{condition['id']}.rules.{index}"
            if "rules" in rule:
                inner = [self._rule_holds(ctx, r, f"{path}.rules.{i}") for i, r in enumerate(rule["rules"])]
                results.append(all(inner) if rule.get("match", "all") == "all" else any(inner))
            else:
                results.append(self._rule_holds(ctx, rule, path))
        if not results:
            return False
        return all(results) if condition.get("match", "all") == "all" else any(results)

    def execute(self, ctx):
        conditions = ctx.config.get("conditions") or []
        if ctx.config.get("mode") == "random":
            weights = [float(c.get("weight", 0)) for c in conditions]
            chosen = random.choices(conditions, weights=weights, k=1)[0]
            return Next(chosen["id"], {"matched": chosen["id"], "random": True})
        for condition in conditions:
            if self._condition_holds(ctx, condition):
                return Next(condition["id"], {"matched": condition["id"], "label": condition.get("label", "")})
        return Next("default", {"matched": "default"})
