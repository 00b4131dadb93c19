"""``{{ path | filter(arg) }}`` expressions: a tiny grammar, evaluated without ``eval``.

    template   := text ( "{{" expression "}}" text )*
    expression := path ( "|" filter )*
    path       := name ( "." ( name | digits ) )*
    filter     := name [ "(" literal ( "," literal )* ")" ]
    literal    := "double" | 'single' | number | true | false | null

Cost is bounded: templates, paths and filter chains have size caps, every filter runs in time
linear in its input, and rendered output is capped. A missing variable raises
:class:`MissingVariable` with the path, which the interpreter turns into a clear step error.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext

MAX_TEMPLATE_LENGTH = 20_000
MAX_FILTERS = 10
MAX_OUTPUT_LENGTH = 50_000
MAX_PATH_DEPTH = 12

_EXPR_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PATH_RE = re.compile(rf"^{_NAME}(\.({_NAME}|\d+))*$")
_FILTER_RE = re.compile(rf"^({_NAME})\s*(?:\((.*)\))?$", re.DOTALL)
_LITERAL_RE = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?|true|false|null)\s*(,|$)""")


class ExpressionError(ValueError):
    """The text of an expression is wrong (found when validating, or at run time).

    ``message`` is the English text run traces show; ``code`` and ``params`` let the validator
    say the same in the user's language (flows/messages.py, ``expr_*``), and ``position`` is the
    1-based character where the faulty expression starts in its field.
    """

    def __init__(self, message: str, *, expression: str = "", code: str = "expr_invalid",
                 params: dict[str, Any] | None = None, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.code = code
        self.params = params or {}
        self.position = position


class MissingVariable(ExpressionError):
    def __init__(self, path: str):
        super().__init__(f"variable '{path}' has no value here", expression=path)
        self.path = path


@dataclass(frozen=True)
class Filter:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Expression:
    source: str
    path: str
    filters: tuple[Filter, ...]


# --- Filters ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ExpressionError(gettext("'%(value)s' is not a date/time (use ISO 8601, e.g. 2026-11-22T14:00:00-03:00)")
                              % {"value": value}) from exc


def _to_number(value: Any) -> Decimal:
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, AttributeError) as exc:
        raise ExpressionError(gettext("'%(value)s' is not a number") % {"value": value}) from exc


def _f_default(value: Any, fallback: Any = "") -> Any:
    return fallback if value is None or value == "" else value


def _f_truncate(value: Any, length: int = 100) -> str:
    text = _text(value)
    return text if len(text) <= int(length) else text[: max(int(length) - 1, 0)] + "…"


def _f_date(value: Any, fmt: str = "%d/%m/%Y") -> str:
    if len(fmt) > 64:
        raise ExpressionError(gettext("date format too long"))
    return _to_datetime(value).strftime(fmt)


def _f_add_hours(value: Any, hours: Any = 0) -> str:
    return (_to_datetime(value) + timedelta(hours=float(hours))).isoformat()


def _f_number(value: Any, decimals: int = 2) -> str:
    number = _to_number(value)
    if not 0 <= int(decimals) <= 10:
        raise ExpressionError(gettext("number() takes 0 to 10 decimals"))
    formatted = f"{number:,.{int(decimals)}f}"
    # pt-BR grouping: 1.234,56
    return formatted.replace(",", "_").replace(".", ",").replace("_", ".")


def _f_first_name(value: Any) -> str:
    parts = _text(value).strip().split()
    return parts[0] if parts else ""


def _f_slug(value: Any) -> str:
    text = unicodedata.normalize("NFKD", _text(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _f_replace(value: Any, old: str = "", new: str = "") -> str:
    text, old, new = _text(value), str(old), str(new)
    if old and len(text) + text.count(old) * max(len(new) - len(old), 0) > MAX_OUTPUT_LENGTH:
        raise ExpressionError(gettext("replace() would make a text longer than %(limit)s characters")
                              % {"limit": MAX_OUTPUT_LENGTH})
    return text.replace(old, new) if old else text


FILTERS: dict[str, Callable[..., Any]] = {
    "upper": lambda v: _text(v).upper(),
    "lower": lambda v: _text(v).lower(),
    "title": lambda v: _text(v).title(),
    "trim": lambda v: _text(v).strip(),
    "first_name": _f_first_name,
    "default": _f_default,
    "truncate": _f_truncate,
    "date": _f_date,
    "add_hours": _f_add_hours,
    "number": _f_number,
    "length": lambda v: len(v) if isinstance(v, (list, dict, str)) else len(_text(v)),
    "json": lambda v: json.dumps(v, ensure_ascii=False),
    "slug": _f_slug,
    "replace": _f_replace,
}
# What pt-BR speakers type for each filter: "maiusculas" means upper, not a typo of anything.
FILTER_SYNONYMS = {
    "maiusculas": "upper", "maiuscula": "upper", "caixa_alta": "upper", "minusculas": "lower", "minuscula": "lower",
    "caixa_baixa": "lower", "titulo": "title", "capitalizar": "title", "aparar": "trim", "limpar": "trim",
    "primeiro_nome": "first_name", "padrao": "default", "truncar": "truncate", "cortar": "truncate", "data": "date",
    "formatar_data": "date", "somar_horas": "add_hours", "adicionar_horas": "add_hours", "numero": "number",
    "tamanho": "length", "comprimento": "length", "substituir": "replace", "trocar": "replace",
}


def filter_suggestion(name: str) -> str:
    """The filter someone probably meant ("maiusculas" → "upper", "uper" → "upper"), or ""."""
    import difflib

    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    if folded in FILTER_SYNONYMS:
        return FILTER_SYNONYMS[folded]
    found = difflib.get_close_matches(folded, sorted(FILTERS), n=1, cutoff=0.6)
    return found[0] if found else ""


FILTER_ARITY = {"default": (0, 1), "truncate": (0, 1), "date": (0, 1), "add_hours": (1, 1),
                "number": (0, 1), "replace": (2, 2)}


# --- Parsing ----------------------------------------------------------------------------------


def _parse_literals(raw: str, source: str) -> tuple[Any, ...]:
    raw = raw.strip()
    if not raw:
        return ()
    values: list[Any] = []
    pos = 0
    while pos < len(raw):
        match = _LITERAL_RE.match(raw, pos)
        if not match:
            raise ExpressionError(f"cannot read the filter arguments '{raw}'", expression=source,
                                  code="expr_bad_arguments", params={"text": raw})
        literal = match.group(1)
        if literal[0] == "'":  # 'single': same escapes as "double", with the quotes swapped
            literal = '"' + literal[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
        try:
            values.append(json.loads(literal))
        except ValueError as exc:
            raise ExpressionError(f"cannot read the filter arguments '{raw}'", expression=source,
                                  code="expr_bad_arguments", params={"text": raw}) from exc
        pos = match.end()
        if match.group(2) == "" and pos < len(raw):
            raise ExpressionError(f"cannot read the filter arguments '{raw}'", expression=source,
                                  code="expr_bad_arguments", params={"text": raw})
    return tuple(values)


def _split_pipes(inner: str) -> list[str]:
    parts, buf, quote = [], [], ""
    for char in inner:
        if quote:
            buf.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            buf.append(char)
        elif char == "|":
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(char)
    if quote:
        raise ExpressionError("a quote is not closed", expression=inner, code="expr_unclosed_quote")
    parts.append("".join(buf))
    return [p.strip() for p in parts]


def parse_expression(inner: str) -> Expression:
    source = inner.strip()
    parts = _split_pipes(source)
    path = parts[0]
    if not path:
        raise ExpressionError("empty expression: write a variable such as {{contact.name}}", expression=source,
                              code="expr_empty")
    if not _PATH_RE.match(path) or path.count(".") >= MAX_PATH_DEPTH:
        raise ExpressionError(f"'{path}' is not a variable path (such as contact.name)", expression=source,
                              code="expr_not_a_path", params={"text": path[:60]})
    if len(parts) - 1 > MAX_FILTERS:
        raise ExpressionError(f"at most {MAX_FILTERS} filters per expression", expression=source,
                              code="expr_too_many_filters", params={"limit": MAX_FILTERS})
    filters = []
    for part in parts[1:]:
        match = _FILTER_RE.match(part)
        if not match:
            raise ExpressionError(f"cannot read the filter '{part}'", expression=source, code="expr_bad_filter",
                                  params={"text": part[:60]})
        name, raw_args = match.group(1), match.group(2) or ""
        if name not in FILTERS:
            raise ExpressionError(
                f"unknown filter '{name}' (known: {', '.join(sorted(FILTERS))})", expression=source,
                code="expr_unknown_filter", params={"name": name, "suggestion": filter_suggestion(name)},
            )
        args = _parse_literals(raw_args, source)
        low, high = FILTER_ARITY.get(name, (0, 0))
        if not low <= len(args) <= high:
            raise ExpressionError(f"filter '{name}' takes {low}–{high} arguments", expression=source,
                                  code="expr_filter_arity", params={"name": name, "low": low, "high": high})
        filters.append(Filter(name, args))
    return Expression(source=source, path=path, filters=tuple(filters))


def parse_template(template: str) -> list[str | Expression]:
    """Split a template into text and parsed expressions (raises ExpressionError)."""
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise ExpressionError(f"text longer than {MAX_TEMPLATE_LENGTH} characters", code="expr_too_long",
                              params={"limit": MAX_TEMPLATE_LENGTH})
    pieces: list[str | Expression] = []
    pos = 0
    for match in _EXPR_RE.finditer(template):
        if match.start() > pos:
            pieces.append(template[pos : match.start()])
        try:
            pieces.append(parse_expression(match.group(1)))
        except ExpressionError as exc:
            exc.position = match.start() + 1
            raise
        pos = match.end()
    rest = template[pos:]
    if "{{" in rest:
        raise ExpressionError("'{{' is not closed with '}}'", expression=rest[:60], code="expr_unclosed",
                              position=pos + rest.index("{{") + 1)
    if rest:
        pieces.append(rest)
    return pieces


def template_paths(template: str) -> list[str]:
    return [p.path for p in parse_template(template) if isinstance(p, Expression)]


# --- Evaluation -------------------------------------------------------------------------------


def resolve_path(scope: Mapping[str, Any], path: str) -> Any:
    current: Any = scope
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise MissingVariable(path)
    return current


def evaluate(expression: Expression, scope: Mapping[str, Any]) -> Any:
    try:
        value = resolve_path(scope, expression.path)
    except MissingVariable:
        # `| default(...)` as the first filter makes a missing variable legal.
        if expression.filters and expression.filters[0].name == "default":
            value = None
        else:
            raise
    for flt in expression.filters:
        try:
            value = FILTERS[flt.name](value, *flt.args)
        except ExpressionError:
            raise
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExpressionError(gettext("filter '%(filter)s' failed on this value: %(error)s")
                                  % {"filter": flt.name, "error": exc}, expression=expression.source) from exc
    return value


def render(template: str, scope: Mapping[str, Any]) -> str:
    """Render a template to text."""
    out = []
    size = 0
    for piece in parse_template(template):
        text = piece if isinstance(piece, str) else _text(evaluate(piece, scope))
        size += len(text)
        if size > MAX_OUTPUT_LENGTH:
            raise ExpressionError(gettext("rendered text longer than %(limit)s characters") % {"limit": MAX_OUTPUT_LENGTH})
        out.append(text)
    return "".join(out)


def render_value(template: Any, scope: Mapping[str, Any]) -> Any:
    """Like :func:`render`, but a template that is exactly one expression keeps the value's type."""
    if not isinstance(template, str):
        return template
    pieces = parse_template(template)
    if len(pieces) == 1 and isinstance(pieces[0], Expression):
        return evaluate(pieces[0], scope)
    return render(template, scope)
