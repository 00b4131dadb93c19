"""The ``{{ path | filter(arg) }}`` language: parsing, filters, errors, caps, and that it runs no code."""

from __future__ import annotations

import pytest

from flows import expressions as ex
from flows.expressions import ExpressionError, MissingVariable, parse_expression, parse_template, render, render_value
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)

pytestmark = pytest.mark.usefixtures("run_in_english")

SCOPE = {
    "contact": {"name": "maria da silva", "attributes": {"tier": "gold", "age": 31}, "tags": ["vip", "lead"]},
    "trigger": {"text": "  Olá Mundo  ", "appointment_at": "2026-11-22T14:00:00-03:00"},
    "vars": {"total": "1234.5", "items": [{"sku": "A1"}, {"sku": "B2"}], "flag": True, "nothing": None,
             "empty": "", "obj": {"a": "é", "n": 1}},
}


# --- Parsing ------------------------------------------------------------------------------------


def test_parse_expression_path_and_filters():
    parsed = parse_expression("  contact.name | upper | truncate(5) | default('x')  ")
    assert parsed.path == "contact.name"
    assert [(f.name, f.args) for f in parsed.filters] == [("upper", ()), ("truncate", (5,)), ("default", ("x",))]


def test_parse_literals_of_every_kind():
    parsed = parse_expression("""a | replace("x", 'y')""")
    assert parsed.filters[0].args == ("x", "y")
    assert parse_expression("a | default(-1.5)").filters[0].args == (-1.5,)
    assert parse_expression("a | default(true)").filters[0].args == (True,)
    assert parse_expression("a | default(false)").filters[0].args == (False,)
    assert parse_expression("a | default(null)").filters[0].args == (None,)


def test_quotes_inside_arguments_are_kept():
    assert render("""{{ x | default("it's") }}""", {}) == "it's"
    assert render("""{{ x | default('say "hi"') }}""", {}) == 'say "hi"'
    assert render("""{{ x | default("a|b") }}""", {}) == "a|b"


def test_parse_template_splits_text_and_expressions():
    pieces = parse_template("Olá {{contact.name}}, total {{vars.total|number}}!")
    assert pieces[0] == "Olá "
    assert isinstance(pieces[1], ex.Expression) and pieces[1].path == "contact.name"
    assert pieces[2] == ", total "
    assert pieces[3].filters[0].name == "number"
    assert pieces[4] == "!"
    assert ex.template_paths("{{a.b}} {{ c | upper }}") == ["a.b", "c"]


def test_list_index_in_path():
    assert render("{{vars.items.1.sku}}", SCOPE) == "B2"
    with pytest.raises(MissingVariable):
        render("{{vars.items.5.sku}}", SCOPE)


@pytest.mark.parametrize("template, fragment", [
    ("{{}}", "empty expression"),
    ("{{ | upper }}", "empty expression"),
    ("{{ contact name }}", "not a variable path"),
    ("{{ 1abc }}", "not a variable path"),
    ("{{ contact..name }}", "not a variable path"),
    ("{{ a | upper( }}", "cannot read the filter"),
    ("{{ a | default(\"x) }}", "quote is not closed"),
    ("{{ a | default(x) }}", "cannot read the filter arguments"),
    ("{{ a | default(\"a\" \"b\") }}", "cannot read the filter arguments"),
    ("{{ a | default(\"bad \\q escape\") }}", "cannot read the filter arguments"),
])
def test_parse_errors(template, fragment):
    with pytest.raises(ExpressionError) as info:
        parse_template(template)
    assert fragment in info.value.message


def test_unclosed_braces():
    with pytest.raises(ExpressionError, match="not closed"):
        parse_template("Olá {{contact.name")
    with pytest.raises(ExpressionError, match="not closed"):
        parse_template("{{a}} e {{b}")
    # Closing braces alone are just text.
    assert render("a }} b", {}) == "a }} b"


def test_unknown_filter_names_the_known_ones():
    with pytest.raises(ExpressionError) as info:
        parse_expression("a | shout")
    assert "unknown filter 'shout'" in info.value.message
    assert "upper" in info.value.message


@pytest.mark.parametrize("expression", [
    "a | upper(1)",
    "a | truncate(1, 2)",
    "a | add_hours",
    "a | replace('x')",
    "a | replace('x', 'y', 'z')",
    "a | default(1, 2)",
])
def test_filter_arity(expression):
    with pytest.raises(ExpressionError, match="takes"):
        parse_expression(expression)


# --- Filters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("template, expected", [
    ("{{contact.name|upper}}", "MARIA DA SILVA"),
    ("{{trigger.text|lower}}", "  olá mundo  "),
    ("{{contact.name|title}}", "Maria Da Silva"),
    ("[{{trigger.text|trim}}]", "[Olá Mundo]"),
    ("{{contact.name|first_name}}", "maria"),
    ("[{{vars.empty|first_name}}]", "[]"),
    ("{{vars.empty|default('nada')}}", "nada"),
    ("{{vars.nothing|default('nada')}}", "nada"),
    ("{{contact.name|default('nada')}}", "maria da silva"),
    ("{{contact.name|truncate(5)}}", "mari…"),
    ("{{contact.name|truncate(100)}}", "maria da silva"),
    ("{{contact.name|truncate}}", "maria da silva"),
    ("{{trigger.appointment_at|date}}", "22/11/2026"),
    ("{{trigger.appointment_at|date('%H:%M')}}", "14:00"),
    ("{{trigger.appointment_at|add_hours(-24)}}", "2026-11-21T14:00:00-03:00"),
    ("{{trigger.appointment_at|add_hours(1.5)}}", "2026-11-22T15:30:00-03:00"),
    ("{{vars.total|number}}", "1.234,50"),
    ("{{vars.total|number(0)}}", "1.234"),
    ("{{contact.attributes.age|number(1)}}", "31,0"),
    ("{{vars.items|length}}", "2"),
    ("{{contact.name|length}}", "14"),
    ("{{contact.attributes.age|length}}", "2"),
    ("{{vars.obj|json}}", '{"a": "é", "n": 1}'),
    ("{{trigger.text|slug}}", "ola-mundo"),
    ("{{contact.name|replace('silva', 'souza')}}", "maria da souza"),
    ("{{contact.name|replace('', 'x')}}", "maria da silva"),
    ("{{contact.name|first_name|upper|truncate(3)}}", "MA…"),
])
def test_every_filter(template, expected):
    assert render(template, SCOPE) == expected


def test_every_filter_is_covered_above():
    covered = {"upper", "lower", "title", "trim", "first_name", "default", "truncate", "date", "add_hours",
               "number", "length", "json", "slug", "replace"}
    assert set(ex.FILTERS) == covered


def test_number_reads_comma_decimals():
    assert render("{{v|number}}", {"v": "1234,5"}) == "1.234,50"
    assert render("{{v|number}}", {"v": 1234567.891}) == "1.234.567,89"


def test_filter_failures_are_expression_errors():
    with pytest.raises(ExpressionError, match="not a number"):
        render("{{v|number}}", {"v": "abc"})
    with pytest.raises(ExpressionError, match="not a date"):
        render("{{v|date}}", {"v": "amanhã"})
    with pytest.raises(ExpressionError, match="filter 'truncate' failed"):
        render("{{v|truncate('x')}}", {"v": "abc"})
    with pytest.raises(ExpressionError, match="filter 'add_hours' failed"):
        render("{{v|add_hours('x')}}", {"v": "2026-01-01T00:00:00"})


# --- Variables ---------------------------------------------------------------------------------------


def test_missing_variable_is_a_clear_error():
    with pytest.raises(MissingVariable) as info:
        render("Olá {{contact.nickname}}", SCOPE)
    assert info.value.path == "contact.nickname"
    assert "contact.nickname" in info.value.message
    assert isinstance(info.value, ExpressionError)


def test_default_makes_a_missing_variable_legal_only_as_first_filter():
    assert render("{{vars.nope|default('x')|upper}}", SCOPE) == "X"
    assert render("[{{vars.nope|default}}]", SCOPE) == "[]"
    with pytest.raises(MissingVariable):
        render("{{vars.nope|upper|default('x')}}", SCOPE)


def test_render_formats_values_as_text():
    assert render("{{vars.flag}} {{vars.nothing}}|{{contact.attributes.age}}", SCOPE) == "true |31"
    assert render("{{vars.items}}", SCOPE) == '[{"sku": "A1"}, {"sku": "B2"}]'


def test_render_value_keeps_types():
    assert render_value("{{contact.attributes.age}}", SCOPE) == 31
    assert render_value("{{vars.flag}}", SCOPE) is True
    assert render_value("{{vars.nothing}}", SCOPE) is None
    assert render_value("{{vars.items}}", SCOPE) == [{"sku": "A1"}, {"sku": "B2"}]
    assert render_value("  {{contact.attributes.age}}", SCOPE) == "  31"  # with text around: a string
    assert render_value("idade {{contact.attributes.age}}", SCOPE) == "idade 31"
    assert render_value(42, SCOPE) == 42  # a non-string passes through
    assert render_value("plain", SCOPE) == "plain"


# --- Caps --------------------------------------------------------------------------------------------


def test_template_length_cap():
    parse_template("x" * ex.MAX_TEMPLATE_LENGTH)
    with pytest.raises(ExpressionError, match="longer than"):
        parse_template("x" * (ex.MAX_TEMPLATE_LENGTH + 1))


def test_filter_count_cap():
    parse_expression("a" + " | trim" * ex.MAX_FILTERS)
    with pytest.raises(ExpressionError, match=f"at most {ex.MAX_FILTERS} filters"):
        parse_expression("a" + " | trim" * (ex.MAX_FILTERS + 1))


def test_path_depth_cap():
    parse_expression(".".join(["a"] * ex.MAX_PATH_DEPTH))
    with pytest.raises(ExpressionError, match="not a variable path"):
        parse_expression(".".join(["a"] * (ex.MAX_PATH_DEPTH + 1)))


def test_rendered_output_cap():
    big = {"v": "x" * 30_000}
    assert len(render("{{v}}", big)) == 30_000
    with pytest.raises(ExpressionError, match="rendered text longer"):
        render("{{v}}{{v}}", big)


def test_filters_that_could_blow_up_are_bounded():
    with pytest.raises(ExpressionError, match="decimals"):
        render("{{v|number(100000000)}}", {"v": "1"})
    with pytest.raises(ExpressionError, match="replace"):
        render("{{v|replace('a', '" + "b" * 1000 + "')}}", {"v": "a" * 1000})
    with pytest.raises(ExpressionError, match="date format too long"):
        render("{{v|date('" + "%Y" * 40 + "')}}", {"v": "2026-01-01"})


# --- No code execution ---------------------------------------------------------------------------


@pytest.mark.parametrize("template", [
    "{{__import__}}",
    "{{__builtins__}}",
    "{{contact.__class__}}",
    "{{contact.name.__class__.__mro__}}",
    "{{vars.items.__len__}}",
    "{{contact.keys}}",
    "{{contact.name.upper}}",
])
def test_dunder_and_attribute_access_are_only_missing_variables(template):
    with pytest.raises(MissingVariable):
        render(template, SCOPE)


@pytest.mark.parametrize("template", [
    "{{__import__('os').system('echo hacked')}}",
    "{{ contact.name.upper() }}",
    "{{ [c for c in ().__class__.__bases__] }}",
    "{{ 1 + 1 }}",
    "{{ contact['name'] }}",
    "{{ a | __class__ }}",
    "{{ a | eval('1') }}",
    "{{ lambda: 1 }}",
])
def test_code_is_a_parse_error(template):
    with pytest.raises(ExpressionError) as info:
        render(template, {"a": 1, "contact": {"name": "x"}})
    assert not isinstance(info.value, MissingVariable)
