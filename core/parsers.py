"""Reading JSON that anyone may send: one safe loader for the API parser and for hand-parsed views.

Python's ``json`` accepts things Fluxo cannot store or use, and fails on others with errors that
are not ``ValueError``; each became a 500 (issue 9). :func:`json_loads_safe` refuses them all with
:class:`BadJSON` (a ``ValueError``), which :class:`SafeJSONParser` turns into a 400 ``parse_error``:

* nesting deeper than ``MAX_JSON_DEPTH``: counted on the text *before* parsing, without recursion
  (the C decoder raises ``RecursionError`` near 1,000 levels; a 3,000-deep body must not reach it);
* ``NaN``/``Infinity`` and numbers out of range (``1e999`` parses to ``inf``; PostgreSQL's jsonb
  refuses both), and integers beyond 64 bits (no column or counter of ours holds them);
* NUL (``\\u0000``) and lone surrogates (``\\ud800``) in strings or keys: a text or jsonb column
  refuses NUL, and a lone surrogate cannot be encoded as UTF-8 at all;
* bytes that are not UTF-8.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

MAX_JSON_DEPTH = 64
MAX_JSON_INT = 2**63 - 1

# A JSON string (skipped whole, escapes included) or one bracket; strings are matched first so a
# bracket inside a string is not counted. The engine loops, it does not recurse per character.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BadJSON(ValueError):
    """The text is not JSON Fluxo accepts; the message says why (shown to the caller)."""


def json_depth_check(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`BadJSON` if arrays/objects nest deeper than ``max_depth`` (counted without parsing)."""
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot nest deeper than its brackets: the common small body skips the scan
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                raise BadJSON(_("JSON nested deeper than %(max)d levels.") % {"max": max_depth})
        elif token in "]}":
            depth -= 1


def _constant(name: str) -> Any:
    raise BadJSON(_("%(name)s is not a valid JSON number.") % {"name": name})


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJSON(_("The number %(number)s is too large.") % {"number": text[:20]})
    return value


def _int(text: str) -> int:
    value = int(text)  # Python refuses more than 4,300 digits itself (ValueError)
    if abs(value) > MAX_JSON_INT:
        raise BadJSON(_("The number %(number)s is too large.") % {"number": text[:20]})
    return value


def _strings_check(value: Any) -> None:
    """Every string and key of ``value`` is storable text (walked with a stack: no recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                raise BadJSON(_("Text may not contain NUL characters (\\u0000) or lone surrogates (\\ud800)."))
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def json_loads_safe(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH, encoding: str = "utf-8") -> Any:
    """Parse ``raw`` as JSON Fluxo can store, or raise :class:`BadJSON` saying why not."""
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode(encoding)
        except UnicodeDecodeError as exc:
            raise BadJSON(_("The body is not valid %(encoding)s.") % {"encoding": encoding}) from exc
    else:
        text = raw
    json_depth_check(text, max_depth=max_depth)
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except BadJSON:
        raise
    except RecursionError as exc:  # not reachable after the depth check; kept as a last guard
        raise BadJSON(_("JSON nested too deeply.")) from exc
    except ValueError as exc:
        raise BadJSON(_("Malformed JSON: %(error)s") % {"error": exc}) from exc
    _strings_check(value)
    return value


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with :func:`json_loads_safe`: every refusal is a 400 ``parse_error``."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            return json_loads_safe(raw, encoding=get_encoding(parser_context or {}))
        except BadJSON as exc:
            raise ParseError(str(exc)) from exc
