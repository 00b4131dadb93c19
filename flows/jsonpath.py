"""A small, safe JSON path subset for mapping response fields into flow variables.

    path    := [ "$" ] segment*            (a leading name without "$." is fine too: data.id)
    segment := "." name | "." "*" | "[" index "]" | "[" quoted "]" | "[*]"

``index`` may be negative (``[-1]`` is the last item). ``*`` maps the rest of the path over every
item of a list (or value of an object) and gives a list. No filters, no scripts, no recursion
(``..``): evaluation is linear in the size of the selected data.
"""

from __future__ import annotations

import re
from typing import Any

MAX_PATH_LENGTH = 500
MAX_SEGMENTS = 32
_TOKEN = re.compile(
    r"""\.(?P<name>[A-Za-z_$][A-Za-z0-9_$-]*)|\.(?P<star>\*)|\[(?P<index>-?\d+)\]|\[(?P<quoted>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]|\[(?P<all>\*)\]"""
)


class JSONPathError(ValueError):
    pass


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def parse(path: str) -> list[tuple[str, Any]]:
    """Parse into ``[("key", name) | ("index", n) | ("all", None)]``; raises :class:`JSONPathError`."""
    text = (path or "").strip()
    if len(text) > MAX_PATH_LENGTH:
        raise JSONPathError(f"path longer than {MAX_PATH_LENGTH} characters")
    if text.startswith("$"):
        text = text[1:]
    elif text and not text.startswith((".", "[")):
        text = "." + text
    segments: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise JSONPathError(f"cannot read the path at '{text[pos:pos + 20]}' (use e.g. $.order.items[0].sku)")
        if match.group("name") is not None:
            segments.append(("key", match.group("name")))
        elif match.group("index") is not None:
            segments.append(("index", int(match.group("index"))))
        elif match.group("quoted") is not None:
            quoted = match.group("quoted")
            segments.append(("key", re.sub(r"\\(.)", r"\1", quoted[1:-1])))
        else:
            segments.append(("all", None))
        pos = match.end()
        if len(segments) > MAX_SEGMENTS:
            raise JSONPathError(f"at most {MAX_SEGMENTS} steps in a path")
    return segments


def _walk(value: Any, segments: list[tuple[str, Any]]) -> Any:
    for position, (kind, arg) in enumerate(segments):
        if kind == "all":
            items = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else None
            if items is None:
                return MISSING
            rest = segments[position + 1 :]
            found = [_walk(item, rest) for item in items]
            return [item for item in found if item is not MISSING]
        if kind == "key" and isinstance(value, dict) and arg in value:
            value = value[arg]
        elif kind == "index" and isinstance(value, list) and -len(value) <= arg < len(value):
            value = value[arg]
        elif kind == "key" and isinstance(value, list) and arg == "length":
            value = len(value)
        else:
            return MISSING
    return value


def get(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document``, or :data:`MISSING`."""
    return _walk(document, parse(path))
