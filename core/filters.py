"""Reading list filters from a query string: typed, bounded, and a 400 (not a 500) when malformed.

``?channel=abc`` reached ``filter(channel_id="abc")`` and ``?q=%00`` reached PostgreSQL, which
refuses NUL in text: both were 500s (issue 9). Views read their query parameters through these
helpers; each raises DRF's ``ValidationError`` (→ 400 in the error shape of ``core.errors``) naming
the parameter. An absent or empty parameter is "no filter" (``None``, or the given default).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

MAX_TEXT = 200
MAX_ID = 2**63 - 1  # bigint: a larger id can match no row, and PostgreSQL refuses to compare with it
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() accepts "²", which int() refuses
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _invalid(name: str, message: str) -> ValidationError:
    return ValidationError({name: [message]})


def _raw(params: Mapping, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def text_param(params: Mapping, name: str, *, default: str | None = None, max_length: int = MAX_TEXT) -> str | None:
    """Free text (a search): at most ``max_length`` characters, no NUL or lone surrogate."""
    value = _raw(params, name)
    if value is None:
        return default
    if _UNSTORABLE.search(value):
        raise _invalid(name, _("%(name)s may not contain NUL characters.") % {"name": name})
    if len(value) > max_length:
        raise _invalid(name, _("%(name)s is at most %(max)d characters.") % {"name": name, "max": max_length})
    return value


def int_param(params: Mapping, name: str, *, default: int | None = None, min_value: int = 0,
              max_value: int = MAX_ID) -> int | None:
    """A whole number between ``min_value`` and ``max_value`` (an id, a limit, an offset)."""
    value = _raw(params, name)
    if value is None:
        return default
    negative = value.startswith("-")
    digits = value[1:] if negative else value
    if not _DIGITS.fullmatch(digits) or len(digits) > 19:
        raise _invalid(name, _("%(name)s must be a whole number.") % {"name": name})
    number = -int(digits) if negative else int(digits)
    if not min_value <= number <= max_value:
        raise _invalid(name, _("%(name)s must be between %(min)d and %(max)d.")
                       % {"name": name, "min": min_value, "max": max_value})
    return number


def choice_param(params: Mapping, name: str, choices: Iterable[str], *, default: str | None = None) -> str | None:
    """One of ``choices`` (compared as given: the values are the stored ones)."""
    value = _raw(params, name)
    if value is None:
        return default
    allowed = list(choices)
    if value not in allowed:
        raise _invalid(name, _("%(name)s must be one of: %(choices)s.") % {"name": name, "choices": ", ".join(allowed)})
    return value


def bool_param(params: Mapping, name: str, *, default: bool = False) -> bool:
    """``1``/``true``/``yes`` or ``0``/``false``/``no``."""
    value = _raw(params, name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes"}:
        return True
    if value.lower() in {"0", "false", "no"}:
        return False
    raise _invalid(name, _("%(name)s must be true or false.") % {"name": name})
