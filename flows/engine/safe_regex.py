"""Regular expressions written by ops staff, run on text written by customers, with a time limit.

Python's ``re`` cannot be interrupted, so a pattern such as ``(a+)+$`` on a long message would
stall a worker; the ``regex`` module accepts a timeout.
"""

from __future__ import annotations

import regex
from django.utils.translation import gettext

REGEX_TIMEOUT_SECONDS = 0.05
MAX_SUBJECT_LENGTH = 4096


class RegexTooSlow(Exception):
    pass


def regex_search(pattern: str, text: str, *, ignore_case: bool = True) -> bool:
    """Whether ``pattern`` occurs in ``text``. Raises ``regex.error`` for a bad pattern and
    :class:`RegexTooSlow` when matching exceeds the time limit."""
    flags = regex.IGNORECASE if ignore_case else 0
    try:
        return regex.search(pattern, text[:MAX_SUBJECT_LENGTH], flags, timeout=REGEX_TIMEOUT_SECONDS) is not None
    except TimeoutError as exc:
        raise RegexTooSlow(gettext("the regular expression '%(pattern)s' took too long on this text; simplify it")
                           % {"pattern": pattern}) from exc
