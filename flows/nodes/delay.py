"""Pause the run: for a duration, until a time of day, until business hours, or until a computed moment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext

from flows.engine.calendar import (
    DURATION_SCHEMA,
    BusinessHours,
    business_hours_problem,
    duration_problem,
    duration_to_timedelta,
    next_time_of_day,
    time_problem,
    timezone_problem,
)
from flows.nodes.base import NEXT, Next, NodeType, StepError, ValidationIssue, Wait, issue, labels
from flows.nodes.fields import field, field_title
from flows.nodes.registry import register


def calendar_issues(node_id: str, config: dict[str, Any], *, time_field: str | None = None,
                    hours_field: str | None = None, tz_field: str = "timezone") -> list[ValidationIssue]:
    """Times, business hours and time zones that would only fail when a run reaches the node."""
    issues = []
    if time_field and config.get(time_field) and (problem := time_problem(config[time_field])):
        issues.append(ValidationIssue("invalid_time", labels(f"Horário inválido: {problem}.", f"Invalid time: {problem}."),
                                      node_id, time_field))
    if hours_field and config.get(hours_field) and (problem := business_hours_problem(config[hours_field])):
        issues.append(ValidationIssue("invalid_business_hours",
                                      labels(f"Horário comercial inválido: {problem}.", f"Invalid business hours: {problem}."),
                                      node_id, hours_field))
    if config.get(tz_field) and (problem := timezone_problem(config[tz_field])):
        issues.append(ValidationIssue("invalid_timezone", labels(f"Fuso horário inválido: {problem}.",
                                                                 f"Invalid time zone: {problem}."), node_id, tz_field))
    return issues


@register
class DelayNode(NodeType):
    key = "delay"
    label = labels("Aguardar", "Delay")
    description = labels(
        "Espera um tempo, até um horário, até o horário comercial ou até um momento calculado.",
        "Waits for a duration, until a time of day, until business hours or until a computed moment.",
    )
    category = "flow"
    icon = "clock"
    can_pause = True
    ports = [NEXT]
    default_config = {"mode": "duration", "duration": {"value": 1, "unit": "hours"}}
    summary = ["mode", "duration", "time", "expression"]
    fields = {
        "mode": field("Esperar", "Wait", enum={
            "duration": ("Por um tempo", "For a duration"), "time_of_day": ("Até um horário", "Until a time of day"),
            "business_hours": ("Até o horário comercial", "Until business hours"),
            "expression": ("Até um momento calculado", "Until a computed moment")}),
        "duration": field("Duração", "Duration", visible_when={"mode": "duration"}),
        "time": field("Horário", "Time", widget="time", visible_when={"mode": "time_of_day"}),
        "business_hours": field("Horário comercial", "Business hours", placeholder="mon-fri 09:00-18:00",
                                visible_when={"mode": "business_hours"}, widget="plain",
                                help=("Vazio: o horário comercial padrão.", "Empty: the default business hours.")),
        "expression": field("Momento (data/hora)", "Moment (date/time)", placeholder="{{trigger.appointment_at}}",
                            visible_when={"mode": "expression"}),
        "offset": field("Deslocamento (opcional)", "Offset (optional)", visible_when={"mode": "expression"},
                        help=("Ex.: -24 horas para um dia antes.", "E.g. -24 hours for a day before.")),
        "timezone": field("Fuso horário", "Time zone", placeholder="America/Sao_Paulo", widget="plain",
                          visible_when={"mode": ["time_of_day", "business_hours", "expression"]}),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "mode": {"enum": ["duration", "time_of_day", "business_hours", "expression"], "default": "duration"},
            "duration": DURATION_SCHEMA,
            "time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
            "timezone": {"type": "string"},
            "business_hours": {"type": "string", "description": "e.g. mon-fri 09:00-18:00; sat 09:00-13:00"},
            "expression": {"type": "string", "description": "A date/time, e.g. {{trigger.appointment_at}}"},
            "offset": DURATION_SCHEMA,
        },
        "required": ["mode"],
        "additionalProperties": False,
    }

    def max_wait_hours(self, config: dict[str, Any]) -> float | None:
        """The longest this delay can pause, in hours (None: no bound known, e.g. a computed moment)."""
        mode = config.get("mode", "duration")
        if mode == "duration" and config.get("duration"):
            return duration_to_timedelta(config["duration"]).total_seconds() / 3600
        if mode == "time_of_day":
            return 24.0
        return None

    def expressions(self, config):
        return [("expression", config["expression"])] if config.get("mode") == "expression" and config.get("expression") else []

    def validate(self, node_id: str, config: dict[str, Any]) -> list[ValidationIssue]:
        mode = config.get("mode")
        needed = {"duration": "duration", "time_of_day": "time", "expression": "expression"}.get(mode)
        if needed and not config.get(needed):
            return [issue("required", node_id, needed, field=field_title(self, needed))]
        for name in ("duration", "offset"):
            if config.get(name) and duration_problem(config[name]):
                return [ValidationIssue("duration_too_long", labels("A duração passa de dez anos.",
                                                                    "The duration is longer than ten years."), node_id, name)]
        if mode == "duration" and duration_to_timedelta(config["duration"]).total_seconds() <= 0:
            return [ValidationIssue("duration_positive",
                                    labels("A duração deve ser maior que zero.", "The duration must be above zero."),
                                    node_id, "duration")]
        return calendar_issues(node_id, config, time_field="time" if mode == "time_of_day" else None,
                               hours_field="business_hours" if mode == "business_hours" else None)

    def wake_time(self, ctx) -> datetime:
        config, now = ctx.config, ctx.now()
        mode = config.get("mode", "duration")
        tz = config.get("timezone") or settings.TIME_ZONE
        if mode == "duration":
            return now + duration_to_timedelta(config["duration"])
        if mode == "time_of_day":
            return next_time_of_day(now, config["time"], tz)
        if mode == "business_hours":
            return BusinessHours.parse(config.get("business_hours") or settings.FLUXO_BUSINESS_HOURS, tz).next_open(now)
        value = ctx.render_value(config.get("expression", ""), field_name="expression")
        try:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise StepError(
                gettext("'%(value)s' is not a date/time; use ISO 8601 such as 2026-11-22T14:00:00-03:00")
                % {"value": value},
                code="bad_datetime") from exc
        if moment.tzinfo is None:
            from zoneinfo import ZoneInfo

            moment = moment.replace(tzinfo=ZoneInfo(tz))
        if config.get("offset"):
            moment += duration_to_timedelta(config["offset"])
        return moment

    def execute(self, ctx):
        wake_at = self.wake_time(ctx)
        if wake_at <= ctx.now():
            # The moment has passed already (e.g. "24 h before" an appointment that is 2 h away).
            return Next("next", {"skipped": True, "wake_at": wake_at.isoformat()})
        return Wait("delay", wake_at=wake_at, output={"wake_at": wake_at.isoformat()})

    def resume(self, ctx):
        return Next("next", {"woke_at": ctx.now().isoformat()})
