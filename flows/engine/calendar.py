"""Durations and business hours, in the flow's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

DURATION_SCHEMA = {
    "type": "object",
    "properties": {
        "value": {"type": "number"},
        "unit": {"enum": list(UNITS)},
    },
    "required": ["value", "unit"],
    "additionalProperties": False,
}


def duration_to_timedelta(duration: dict) -> timedelta:
    return timedelta(seconds=float(duration["value"]) * UNITS[duration["unit"]])


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass
class BusinessHours:
    """Opening intervals per weekday, in a time zone, minus holidays."""

    timezone: str = "America/Sao_Paulo"
    hours: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    holidays: set[date] = field(default_factory=set)

    @classmethod
    def parse(cls, spec: str, timezone: str = "America/Sao_Paulo") -> BusinessHours:
        """Parse the compact setting form: ``"mon-fri 09:00-18:00; sat 09:00-13:00"``."""
        hours: dict[str, list[tuple[str, str]]] = {}
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            days, _, span = part.partition(" ")
            start, _, end = span.strip().partition("-")
            if "-" in days:
                first, last = days.split("-")
                selected = WEEKDAYS[WEEKDAYS.index(first) : WEEKDAYS.index(last) + 1]
            else:
                selected = days.split(",")
            for day in selected:
                hours.setdefault(day, []).append((start, end))
        return cls(timezone=timezone, hours=hours)

    @classmethod
    def from_dict(cls, data: dict) -> BusinessHours:
        return cls(
            timezone=data.get("timezone") or "America/Sao_Paulo",
            hours={day: [tuple(span) for span in spans] for day, spans in (data.get("hours") or {}).items()},
            holidays={date.fromisoformat(d) for d in data.get("holidays") or []},
        )

    def _intervals(self, day: date) -> list[tuple[time, time]]:
        if day in self.holidays:
            return []
        return [(_hhmm(a), _hhmm(b)) for a, b in self.hours.get(WEEKDAYS[day.weekday()], [])]

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        now = local.time()
        return any(start <= now < end for start, end in self._intervals(local.date()))

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` itself when open, else the start of the next opening interval (within 366 days)."""
        if self.is_open(moment):
            return moment
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        for offset in range(0, 367):
            day = local.date() + timedelta(days=offset)
            for start, _end in sorted(self._intervals(day)):
                candidate = datetime.combine(day, start, tzinfo=zone)
                if candidate > local:
                    return candidate
        raise ValueError("no business hours in the next year")


def next_time_of_day(moment: datetime, hhmm: str, timezone: str) -> datetime:
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    candidate = datetime.combine(local.date(), _hhmm(hhmm), tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), _hhmm(hhmm), tzinfo=zone)
    return candidate


# --- Checks for the validator: a setting that cannot be read must not reach a run -------------


def time_problem(hhmm: str) -> str | None:
    """Why ``hhmm`` is not a time of day such as ``09:30``, or None."""
    try:
        _hhmm(hhmm)
    except (ValueError, AttributeError):
        return f"'{hhmm}' is not a time of day such as 09:30"
    return None


def timezone_problem(name: str) -> str | None:
    """Why ``name`` is not a time zone such as ``America/Sao_Paulo``, or None."""
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return f"unknown time zone '{name}' (use a name such as America/Sao_Paulo)"
    return None


def business_hours_problem(spec: str) -> str | None:
    """Why a ``"mon-fri 09:00-18:00; sat 09:00-13:00"`` setting cannot be read, or None."""
    try:
        hours = BusinessHours.parse(spec)
    except ValueError:
        return f"cannot read '{spec}': write days and hours such as mon-fri 09:00-18:00; sat 09:00-13:00"
    if not hours.hours:
        return "no opening hours given (e.g. mon-fri 09:00-18:00)"
    for day, spans in hours.hours.items():
        if day not in WEEKDAYS:
            return f"unknown weekday '{day}' (use {', '.join(WEEKDAYS)})"
        for start, end in spans:
            if time_problem(start) or time_problem(end):
                return f"'{start}-{end}' is not a span of hours such as 09:00-18:00"
            if _hhmm(start) >= _hhmm(end):
                return f"'{start}-{end}' closes before it opens"
    return None


MAX_DURATION = timedelta(days=3650)


def duration_problem(duration: dict) -> str | None:
    """Why a duration cannot be waited (beyond ten years either way), or None."""
    seconds = float(duration["value"]) * UNITS[duration["unit"]]
    if not abs(seconds) <= MAX_DURATION.total_seconds():  # also NaN
        return "longer than ten years"
    return None
