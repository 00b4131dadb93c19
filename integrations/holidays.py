"""Public holidays from the ``holidays`` library (kept up to date by its maintainers, with Brazil's
national and state holidays), so teams do not type them in by hand every year."""

from __future__ import annotations

from functools import lru_cache

import holidays as holidays_lib

# The countries offered in the team form; any code the library knows also works through the API.
COUNTRIES = ("BR", "PT", "US", "AR", "MX")


class UnknownCalendar(ValueError):
    pass


def subdivisions(country: str) -> list[str]:
    """State codes of a country (Brazil: AC … TO)."""
    try:
        cls = holidays_lib.country_holidays(country.upper()).__class__
    except NotImplementedError as exc:
        raise UnknownCalendar(f"no holiday calendar for country '{country}'") from exc
    return sorted(getattr(cls, "subdivisions", ()) or ())


@lru_cache(maxsize=256)
def _dates(country: str, subdivision: str, year: int, language: str) -> tuple[tuple[str, str], ...]:
    try:
        calendar = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=year,
                                                 language=language or None)
    except NotImplementedError as exc:
        raise UnknownCalendar(f"no holiday calendar for country '{country}' / '{subdivision}'") from exc
    return tuple(sorted((day.isoformat(), name) for day, name in calendar.items()))


def public_holidays(*, country: str, subdivision: str = "", year: int, language: str = "") -> list[dict[str, str]]:
    """``[{"date": "2026-04-21", "name": "Tiradentes"}, ...]`` for one year (national + the state's)."""
    country, subdivision = country.upper(), subdivision.upper()
    states = subdivisions(country)  # raises UnknownCalendar for a country the library does not know
    if subdivision and subdivision not in states:
        raise UnknownCalendar(f"'{subdivision}' is not a subdivision of {country}")
    supported = getattr(holidays_lib.country_holidays(country).__class__, "supported_languages", ()) or ()
    lang = language if language in supported else ""
    return [{"date": day, "name": name} for day, name in _dates(country, subdivision, year, lang)]
