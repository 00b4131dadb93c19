"""Flow validation: one test per rule, each checking the error code, node, field and both languages."""

from __future__ import annotations

import pytest

from flows.engine.graph import compile_definition
from flows.spec import CURRENT_SPEC_VERSION, spec_migrate
from flows.validation import BASE_SCOPE, definition_validate
from tests.factories import chain, definition, edge, node

T = node("t", "trigger", event="message", match="any")


def _check_messages(issue) -> None:
    assert set(issue.message) == {"pt-BR", "en"}
    assert issue.message["pt-BR"].strip() and issue.message["en"].strip()
    assert issue.message["pt-BR"] != issue.message["en"]


def the_issue(defn, code, *, node_id=..., field=...):
    """The single issue of ``code`` (others may exist); checks its node, field and messages."""
    result = definition_validate(defn)
    found = [i for i in result.issues if i.code == code]
    assert len(found) == 1, f"expected one {code!r}, got {[i.as_dict() for i in result.issues]}"
    issue = found[0]
    _check_messages(issue)
    if node_id is not ...:
        assert issue.node_id == node_id
    if field is not ...:
        assert issue.field == field
    return issue


def codes(defn) -> list[str]:
    return [i.code for i in definition_validate(defn).issues]


def valid(defn) -> None:
    result = definition_validate(defn)
    assert result.valid, [i.as_dict() for i in result.issues]


# --- A valid flow ----------------------------------------------------------------------------------


def _lead_flow():
    return definition(
        [
            T,
            node("ask", "send_message", text="Olá {{contact.first_name}}! Tem interesse?",
                 buttons=[{"id": "yes", "title": "Sim"}, {"id": "no", "title": "Não"}]),
            node("wait", "wait_for_reply", timeout={"value": 1, "unit": "hours"}, save_as="answer"),
            node("route", "branch", conditions=[
                {"id": "yes", "label": "Sim", "rules": [{"left": "{{reply.reply_id}}", "op": "equals", "right": "yes"}]},
            ]),
            node("set", "set_variable", assignments=[{"target": "contact.attributes.lead", "value": "{{vars.answer}}"}]),
            node("tpl", "send_template", template="lembrete", language="pt_BR", parameters={"body": ["{{contact.name}}"]}),
            node("done", "end"),
        ],
        [edge("t", "ask"), edge("ask", "wait"), edge("wait", "route", "reply"), edge("wait", "tpl", "timeout"),
         edge("route", "set", "yes"), edge("route", "done", "default"), edge("set", "tpl")],
    )


def test_a_complete_flow_is_valid():
    result = definition_validate(_lead_flow())
    assert result.valid
    assert result.as_dict()["valid"] is True
    assert result.as_dict()["errors"] == []


def test_as_dict_shape_of_an_issue():
    data = definition_validate(chain(T, node("x", "nope"))).as_dict()
    assert data["valid"] is False
    error = data["errors"][0]
    assert set(error) <= {"code", "node_id", "field", "message", "severity", "params"}
    assert error["severity"] == "error"
    assert set(error["message"]) == {"pt-BR", "en"}


# --- Shape ---------------------------------------------------------------------------------------


def test_not_an_object():
    the_issue(["nodes"], "not_an_object", node_id=None, field=None)


def test_schema_node_without_config():
    defn = {"spec_version": 1, "nodes": [{"id": "t", "type": "trigger"}], "edges": []}
    issue = the_issue(defn, "definition_shape", node_id="t", field="config")
    assert "config" in issue.message["en"] and "config" in issue.message["pt-BR"]
    assert "is a required property" not in issue.message["en"]  # never jsonschema's own text


def test_schema_bad_node_id_is_pinned_on_the_field():
    defn = {"spec_version": 1, "nodes": [{"id": "a b", "type": "trigger", "config": {}}], "edges": []}
    issue = the_issue(defn, "definition_shape", field="id")
    assert "nodes.0.id" in issue.message["en"]
    assert "nodes.0.id" in issue.message["pt-BR"]


def test_schema_edges_not_a_list():
    defn = {"spec_version": 1, "nodes": [T], "edges": "none"}
    the_issue(defn, "definition_shape", node_id=None, field="edges")


def test_schema_edge_without_port():
    defn = {"spec_version": 1, "nodes": [T], "edges": [{"id": "e1", "source": "t", "target": "t"}]}
    the_issue(defn, "definition_shape", node_id=None, field="edges.0.source_port")


def test_schema_unknown_top_level_key_and_missing_nodes():
    result = definition_validate({"spec_version": 1, "edges": [], "extra": 1})
    assert [i.code for i in result.issues] == ["definition_shape", "definition_shape"]
    for issue in result.issues:
        _check_messages(issue)


def test_schema_stops_before_semantics():
    # No "no_trigger" or other semantic error while the shape is wrong.
    found = codes({"spec_version": 1, "nodes": [{"id": "x", "type": "end"}], "edges": [{"id": 1}]})
    assert set(found) == {"definition_shape"} and len(found) >= 2


def test_duplicate_node_id():
    defn = definition([T, node("a", "end"), node("a", "end")], [edge("t", "a")])
    the_issue(defn, "duplicate_id", node_id="a", field="id")


def test_unknown_node_type():
    the_issue(chain(T, node("x", "teleport")), "unknown_type", node_id="x", field="type")


# --- Node configs against their type's schema ------------------------------------------------------


def test_config_enum_error():
    issue = the_issue(chain(node("t", "trigger", event="carrier_pigeon")), "not_an_option", node_id="t", field="event")
    assert "carrier_pigeon" in issue.message["en"] and "“Evento”" in issue.message["pt-BR"]
    assert "['message'" not in issue.message["en"]  # not jsonschema's list of values


def test_config_required_property_names_the_field():
    issue = the_issue(chain(node("t", "trigger")), "required", node_id="t", field="event")
    assert issue.message == {"pt-BR": "Preencha “Evento”.", "en": "Fill in “Event”."}


def test_config_nested_field_path():
    the_issue(chain(node("t", "trigger", event="message", match="keyword", keywords=["oi", ""])),
              "required", node_id="t", field="keywords.1")


def test_config_unknown_property():
    issue = the_issue(chain(T, node("e", "end", colour="red")), "unknown_field", node_id="e")
    assert "colour" in issue.message["en"]


def test_config_errors_skip_the_semantic_checks():
    # match=keyword without keywords would be keywords_required, but the config is already invalid.
    assert codes(chain(node("t", "trigger", event="message", match="keyword", bogus=1))) == ["unknown_field"]


def test_send_message_button_limit_is_a_config_error():
    buttons = [{"id": f"b{i}", "title": f"B{i}"} for i in range(4)]
    issue = the_issue(chain(T, node("m", "send_message", text="x", buttons=buttons)), "too_many", node_id="m",
                      field="buttons")
    assert issue.message["pt-BR"] == "“Botões” aceita no máximo 3 itens (tem 4)."


def test_send_template_template_required():
    for config in ({"language": "pt_BR"}, {"template": "", "language": "pt_BR"}):
        issue = the_issue(chain(T, node("s", "send_template", **config)), "required", node_id="s", field="template")
        assert issue.message == {"pt-BR": "Escolha um template.", "en": "Pick a template."}  # not "'' should be non-empty"


# --- Each node type's semantic checks ----------------------------------------------------------------


def test_trigger_keywords_required():
    the_issue(chain(node("t", "trigger", event="message", match="keyword")), "keywords_required", node_id="t",
              field="keywords")
    the_issue(chain(node("t", "trigger", event="message", match="keyword", keywords=[])), "keywords_required")


def test_trigger_invalid_regex():
    the_issue(chain(node("t", "trigger", event="message", match="regex", pattern="(unclosed")), "invalid_regex",
              node_id="t", field="pattern")


def test_trigger_pattern_required():
    the_issue(chain(node("t", "trigger", event="message", match="regex")), "pattern_required", node_id="t",
              field="pattern")


def test_trigger_event_name_required():
    the_issue(chain(node("t", "trigger", event="external")), "event_name_required", node_id="t", field="event_name")
    valid(chain(node("t", "trigger", event="external", event_name="order.created")))


def test_trigger_schedule_required():
    the_issue(chain(node("t", "trigger", event="schedule")), "schedule_required", node_id="t", field="schedule")


@pytest.mark.parametrize("config, missing", [
    ({"mode": "duration"}, "duration"),
    ({"mode": "time_of_day"}, "time"),
    ({"mode": "expression"}, "expression"),
])
def test_delay_fields_required(config, missing):
    issue = the_issue(chain(T, node("d", "delay", **config)), "required", node_id="d", field=missing)
    title = {"duration": "Duração", "time": "Horário", "expression": "Momento (data/hora)"}[missing]
    assert issue.message["pt-BR"] == f"Preencha “{title}”."


def test_delay_duration_must_be_positive():
    the_issue(chain(T, node("d", "delay", mode="duration", duration={"value": 0, "unit": "hours"})),
              "duration_positive", node_id="d", field="duration")
    the_issue(chain(T, node("d", "delay", mode="duration", duration={"value": -5, "unit": "minutes"})),
              "duration_positive")


def test_delay_valid_modes():
    valid(chain(T, node("d", "delay", mode="duration", duration={"value": 2, "unit": "days"})))
    valid(chain(T, node("d", "delay", mode="time_of_day", time="09:30", timezone="America/Sao_Paulo")))
    valid(chain(T, node("d", "delay", mode="business_hours", business_hours="mon-fri 09:00-18:00")))
    valid(chain(node("t", "trigger", event="external", event_name="appointment.scheduled"),
                node("d", "delay", mode="expression", expression="{{trigger.appointment_at}}",
                     offset={"value": -24, "unit": "hours"})))


def test_delay_bad_time_is_a_config_error():
    issue = the_issue(chain(T, node("d", "delay", mode="time_of_day", time="9h")), "bad_format", node_id="d",
                      field="time")
    assert "HH:MM" in issue.message["pt-BR"]


def _branch(*conditions, **extra):
    return chain(T, node("b", "branch", conditions=list(conditions), **extra))


def _rule(op, left="{{trigger.text}}", right="x", **extra):
    rule = {"op": op, **extra}
    if left is not None:
        rule["left"] = left
    if right is not None:
        rule["right"] = right
    return rule


def test_branch_duplicate_condition_ids():
    cond = {"id": "a", "label": "A", "rules": [_rule("equals")]}
    the_issue(_branch(cond, dict(cond, label="B")), "duplicate_condition", node_id="b", field="conditions")


def test_branch_condition_id_default_is_reserved():
    the_issue(_branch({"id": "default", "label": "D", "rules": [_rule("equals")]}), "duplicate_condition")


def test_branch_rules_required():
    issue = the_issue(_branch({"id": "a", "label": "Alfa"}), "rules_required", node_id="b", field="conditions.a.rules")
    assert "Alfa" in issue.message["en"] and "Alfa" in issue.message["pt-BR"]
    the_issue(_branch({"id": "a", "label": "Alfa", "rules": []}), "rules_required")


def test_branch_left_required():
    the_issue(_branch({"id": "a", "label": "A", "rules": [_rule("equals", left=None)]}), "left_required",
              node_id="b", field="conditions.a.rules.0.left")


def test_branch_right_required():
    the_issue(_branch({"id": "a", "label": "A", "rules": [_rule("contains", right="")]}), "right_required",
              node_id="b", field="conditions.a.rules.0.right")
    the_issue(_branch({"id": "a", "label": "A", "rules": [_rule("in_list", right=[])]}), "right_required")


def test_branch_unary_and_left_less_operators_need_less():
    valid(_branch({"id": "a", "label": "A", "rules": [_rule("empty", right=None)]},
                  {"id": "b", "label": "B", "rules": [_rule("has_tag", left=None, right="vip")]},
                  {"id": "c", "label": "C", "rules": [_rule("business_hours", left=None, right=None)]},
                  {"id": "d", "label": "D", "rules": [_rule("outside_business_hours", left=None, right=None)]},
                  {"id": "e", "label": "E", "rules": [_rule("not_empty", right=None)]}))


def test_branch_invalid_regex():
    the_issue(_branch({"id": "a", "label": "A", "rules": [_rule("regex", right="[a-")]}), "invalid_regex",
              node_id="b", field="conditions.a.rules.0.right")


def test_branch_invalid_regex_in_a_nested_group():
    group = {"match": "any", "rules": [_rule("equals"), _rule("regex", right="(")]}
    the_issue(_branch({"id": "a", "label": "A", "rules": [group]}), "invalid_regex", node_id="b",
              field="conditions.a.rules.0.rules.1.right")


def test_branch_random_weights_required():
    the_issue(_branch({"id": "a", "label": "A", "weight": 0}, {"id": "z", "label": "Z"}, mode="random"),
              "weights_required", node_id="b", field="conditions")
    the_issue(_branch(mode="random"), "weights_required")
    valid(_branch({"id": "a", "label": "A", "weight": 1}, {"id": "z", "label": "Z", "weight": 3}, mode="random"))


def test_branch_unknown_operator_is_a_config_error():
    the_issue(_branch({"id": "a", "label": "A", "rules": [_rule("sounds_like")]}), "invalid_value", node_id="b")


def test_send_message_buttons_or_list():
    defn = chain(T, node("m", "send_message", text="x", buttons=[{"id": "a", "title": "A"}],
                         list={"button": "Ver", "sections": [{"rows": [{"id": "r", "title": "R"}]}]}))
    the_issue(defn, "buttons_or_list", node_id="m", field="buttons")


def test_send_message_duplicate_button_ids():
    defn = chain(T, node("m", "send_message", text="x", buttons=[{"id": "a", "title": "A"}, {"id": "a", "title": "B"}]))
    the_issue(defn, "duplicate_button", node_id="m", field="buttons")


def test_send_message_list_of_more_than_ten_rows():
    sections = [{"title": f"S{s}", "rows": [{"id": f"r{s}{r}", "title": "R"} for r in range(6)]} for s in range(2)]
    the_issue(chain(T, node("m", "send_message", text="x", list={"button": "Ver", "sections": sections})),
              "too_many_rows", node_id="m", field="list")


@pytest.mark.parametrize("target", ["foo", "vars.", "vars.a.b", "contact.phone", "contact.attributes.", "vars.1x",
                                    "trigger.text"])
def test_set_variable_bad_target(target):
    defn = chain(T, node("s", "set_variable", assignments=[{"target": "vars.ok", "value": "1"},
                                                           {"target": target, "value": "1"}]))
    issue = the_issue(defn, "bad_target", node_id="s", field="assignments.1.target")
    assert target in issue.message["en"]


def test_set_variable_good_targets():
    valid(chain(T, node("s", "set_variable", assignments=[
        {"target": "vars.order_id", "value": "1", "type": "number"},
        {"target": "contact.name", "value": "Ana"},
        {"target": "contact.attributes.tier", "value": "gold"},
        {"target": "contact.tags", "value": "vip", "operation": "add_tag"},
    ])))


# --- Edges and the graph ---------------------------------------------------------------------------


def test_dangling_edge_to_a_missing_target():
    issue = the_issue(definition([T], [edge("t", "ghost")]), "dangling_edge", node_id="t", field="edges")
    assert "ghost" in issue.message["en"] and "ghost" in issue.message["pt-BR"]


def test_dangling_edge_from_a_missing_source():
    the_issue(definition([T], [edge("ghost", "t")]), "dangling_edge", node_id=None, field="edges")


def test_unknown_port():
    issue = the_issue(definition([T, node("e", "end")], [edge("t", "e", "yes")]), "unknown_port", node_id="t",
                      field="ports.yes")
    assert "yes" in issue.message["en"]


def test_unknown_port_of_an_end_node():
    defn = definition([T, node("e", "end"), node("f", "end")], [edge("t", "e"), edge("e", "f")])
    the_issue(defn, "unknown_port", node_id="e", field="ports.next")


def test_branch_ports_come_from_its_conditions():
    defn = definition([T, node("b", "branch", conditions=[{"id": "vip", "label": "VIP",
                                                           "rules": [_rule("equals")]}]),
                       node("x", "end"), node("y", "end")],
                      [edge("t", "b"), edge("b", "x", "vip"), edge("b", "y", "default")])
    valid(defn)
    defn["edges"].append(edge("b", "x", "gold"))
    the_issue(defn, "unknown_port", node_id="b", field="ports.gold")


def test_port_reused():
    defn = definition([T, node("a", "end"), node("b", "end")], [edge("t", "a"), edge("t", "b")])
    issue = the_issue(defn, "port_reused", node_id="t", field="ports.next")
    assert "next" in issue.message["en"]
    assert "unreachable" in codes(defn)  # the second edge is not followed


def test_no_trigger():
    the_issue(definition([node("e", "end")], []), "no_trigger", node_id=None, field=None)
    assert "unreachable" not in codes(definition([node("e", "end")], []))


def test_trigger_with_input():
    defn = definition([T, node("w", "wait_for_reply"), node("t2", "trigger", event="message", match="keyword",
                                                                 keywords=["oi"])],
                      [edge("t", "w"), edge("w", "t2", "reply")])
    the_issue(defn, "trigger_has_input", node_id="t2", field=None)


def test_unreachable_node():
    defn = definition([T, node("a", "end"), node("lost", "end")], [edge("t", "a")])
    the_issue(defn, "unreachable", node_id="lost", field=None)


def test_unreachable_island_with_its_own_edges():
    defn = definition([T, node("a", "end"), node("x", "set_variable", assignments=[{"target": "vars.a", "value": "1"}]),
                       node("y", "end")], [edge("t", "a"), edge("x", "y")])
    result = definition_validate(defn)
    assert sorted(i.node_id for i in result.issues if i.code == "unreachable") == ["x", "y"]


def test_two_triggers_are_two_entry_points():
    defn = definition([T, node("t2", "trigger", event="external", event_name="x"), node("a", "end")],
                      [edge("t", "a"), edge("t2", "a")])
    valid(defn)


def _setvar(node_id, name="x"):
    return node(node_id, "set_variable", assignments=[{"target": f"vars.{name}", "value": "1"}])


def test_cycle_without_pause():
    loop = node("b", "branch", conditions=[{"id": "again", "label": "Again", "rules": [_rule("empty", right=None)]}])
    defn = definition([T, _setvar("a"), loop, node("e", "end")],
                      [edge("t", "a"), edge("a", "b"), edge("b", "a", "again"), edge("b", "e", "default")])
    result = definition_validate(defn)
    cycle = [i for i in result.issues if i.code == "cycle_without_pause"]
    assert sorted(i.node_id for i in cycle) == ["a", "b"]
    for issue in cycle:
        _check_messages(issue)
    assert [i.code for i in result.issues] == ["cycle_without_pause"] * 2


def test_self_loop_without_pause():
    loop = node("b", "branch", conditions=[])
    defn = definition([T, loop], [edge("t", "b"), edge("b", "b", "default")])
    the_issue(defn, "cycle_without_pause", node_id="b", field=None)


def test_cycle_through_wait_for_reply_is_allowed():
    loop = node("b", "branch", conditions=[{"id": "ok", "label": "OK",
                                            "rules": [_rule("equals", left="{{reply.text}}", right="sim")]}])
    defn = definition([T, node("ask", "send_message", text="Confirma?"), node("w", "wait_for_reply"), loop,
                       node("e", "end")],
                      [edge("t", "ask"), edge("ask", "w"), edge("w", "b", "reply"), edge("b", "e", "ok"),
                       edge("b", "ask", "default")])
    valid(defn)


def test_cycle_through_delay_is_allowed():
    defn = definition([T, _setvar("a"), node("d", "delay", mode="duration", duration={"value": 1, "unit": "days"})],
                      [edge("t", "a"), edge("a", "d"), edge("d", "a")])
    valid(defn)


def test_two_separate_cycles_one_paused():
    # a<->b pauses nowhere; c<->d pauses at d.
    br = node("b", "branch", conditions=[{"id": "c", "label": "c", "rules": [_rule("empty", right=None)]}])
    defn = definition([T, _setvar("a"), br, _setvar("c"), node("d", "wait_for_reply")],
                      [edge("t", "a"), edge("a", "b"), edge("b", "a", "default"), edge("b", "c", "c"),
                       edge("c", "d"), edge("d", "c", "reply")])
    result = definition_validate(defn)
    assert sorted(i.node_id for i in result.issues if i.code == "cycle_without_pause") == ["a", "b"]


# --- Expressions and variables -------------------------------------------------------------------------


def test_bad_expression():
    issue = the_issue(chain(T, node("m", "send_message", text="Olá {{contact.name | shout}}")), "expr_unknown_filter",
                      node_id="m", field="text")
    assert "shout" in issue.message["en"] and "shout" in issue.message["pt-BR"]
    assert "(posição 5)" in issue.message["pt-BR"] and "(position 5)" in issue.message["en"]


def test_bad_expression_unclosed_in_a_branch_rule():
    defn = _branch({"id": "a", "label": "A", "rules": [_rule("equals", left="{{trigger.text")]})
    issue = the_issue(defn, "expr_unclosed", node_id="b", field="conditions.a.rules.0.left")
    assert issue.message["pt-BR"] == "O “{{” da posição 1 não foi fechado com “}}”."


def test_bad_expression_in_template_parameters():
    defn = chain(T, node("s", "send_template", template="x", language="pt_BR",
                         parameters={"body": ["{{contact.name}}", {"name": "n", "value": "{{ a b }}"}]}))
    the_issue(defn, "expr_not_a_path", node_id="s", field="parameters.body.1")


def test_unknown_variable():
    issue = the_issue(chain(T, node("m", "send_message", text="{{vars.order_id}}")), "unknown_variable",
                      node_id="m", field="text")
    assert "vars.order_id" in issue.message["en"] and "vars.order_id" in issue.message["pt-BR"]


def test_unknown_contact_field():
    the_issue(chain(T, node("m", "send_message", text="{{contact.nickname}}")), "unknown_variable")


def test_reply_is_unknown_before_a_wait():
    the_issue(chain(T, node("m", "send_message", text="{{reply.text}}")), "unknown_variable", node_id="m")


def test_a_variable_set_downstream_is_unknown_upstream():
    defn = chain(T, node("m", "send_message", text="{{vars.x}}"), _setvar("s", "x"))
    issue = the_issue(defn, "variable_not_yet", node_id="m")
    assert "só existe depois de" in issue.message["pt-BR"]


def test_known_base_and_open_variables():
    text = ("{{trigger.text}} {{trigger.reply_id}} {{contact.attributes.plan}} {{contact.name}} "
            "{{contact.first_name}} {{contact.phone}} {{contact.tags}} {{contact.id}} {{run.id}} {{run.flow}} "
            "{{now}} {{contact.opted_in_marketing}} {{run.started_at}}")
    valid(chain(T, node("m", "send_message", text=text)))
    # An external event whose fields are not declared is open-ended.
    external = node("t", "trigger", event="external", event_name="order.created")
    valid(chain(external, node("m", "send_template", template="x", language="pt_BR",
                                parameters={"body": ["{{trigger.anything.deep.0}}"]})))


def test_variables_defined_upstream_are_known():
    defn = chain(
        T,
        node("s", "set_variable", assignments=[{"target": "vars.order", "value": "{}", "type": "json"}]),
        node("ai", "ai_reply", assistant="suporte", input="{{trigger.text}} {{vars.order.items.0}}",
             output_variable="answer_ai"),
        node("w", "wait_for_reply", save_as="choice"),
        node("m", "send_message", text="{{vars.answer_ai}} {{vars.choice}} {{reply.text}} {{reply.reply_id}} "
                                       "{{reply.kind}} {{reply.reply_title}}"),
    )
    defn["edges"][-1]["source_port"] = "reply"  # wait_for_reply leaves through "reply"
    valid(defn)
    assert codes(defn) == []


def test_reply_fields_do_not_go_deeper():
    defn = definition([T, node("w", "wait_for_reply"), node("m", "send_message", text="{{reply.text.x}}")],
                      [edge("t", "w"), edge("w", "m", "reply")])
    the_issue(defn, "unknown_variable", node_id="m")


def test_a_variable_set_on_one_path_only_is_known_after_the_join():
    br = node("b", "branch", conditions=[{"id": "y", "label": "y", "rules": [_rule("equals")]}])
    defn = definition([T, br, _setvar("s", "coupon"), node("m", "send_message", text="{{vars.coupon|default('-')}}")],
                      [edge("t", "b"), edge("b", "s", "y"), edge("b", "m", "default"), edge("s", "m")])
    valid(defn)


def test_delay_expression_is_checked():
    defn = chain(T, node("d", "delay", mode="expression", expression="{{vars.when}}"))
    the_issue(defn, "unknown_variable", node_id="d", field="expression")


# --- Scope per node --------------------------------------------------------------------------------------


def test_scope_per_node():
    defn = chain(T, _setvar("s", "order_id"), node("w", "wait_for_reply", save_as="answer"),
                 node("m", "send_message", text="x"))
    defn["edges"][-1]["source_port"] = "reply"
    scope = definition_validate(defn).scope
    assert set(scope) == {"t", "s", "w", "m"}
    for names in scope.values():
        assert set(BASE_SCOPE) <= set(names)
        assert names == sorted(names)
    assert "vars.order_id" not in scope["t"] and "vars.order_id" not in scope["s"]
    assert "vars.order_id" in scope["w"]
    assert "reply.text" not in scope["w"]
    assert {"vars.order_id", "vars.answer", "reply.text", "reply.reply_id"} <= set(scope["m"])


def test_scope_is_computed_even_when_there_are_errors():
    result = definition_validate(chain(T, _setvar("s", "a"), node("m", "send_message", text="{{vars.b}}")))
    assert not result.valid
    assert "vars.a" in result.scope["m"]


# --- Spec versions and migration ----------------------------------------------------------------------


def test_spec_version_newer_than_supported():
    defn = dict(chain(T), spec_version=CURRENT_SPEC_VERSION + 1)
    issue = the_issue(defn, "spec_version", node_id=None, field="spec_version")
    assert str(CURRENT_SPEC_VERSION + 1) in issue.message["en"]


@pytest.mark.parametrize("version", ["1", -1, 1.5])
def test_spec_version_not_a_whole_number(version):
    the_issue(dict(chain(T), spec_version=version), "spec_version", field="spec_version")


V0 = {
    "nodes": [
        {"id": "t", "type": "trigger", "position": {"x": 10, "y": 20}, "config": {"event": "message", "match": "any"}},
        {"id": "b", "type": "branch", "position": {"x": 200, "y": 20},
         "data": {"conditions": [{"id": "yes", "label": "Sim",
                                  "rules": [{"left": "{{trigger.text}}", "op": "equals", "right": "sim"}]}]}},
        {"id": "m", "type": "send_message", "config": {"text": "Ótimo"}},
        {"id": "e", "type": "end", "position": {"x": 400, "y": 100}, "config": {}},
    ],
    "edges": [
        {"source": "t", "target": "b"},
        {"source": "b", "sourceHandle": "yes", "target": "m"},
        {"id": "keep", "source": "b", "sourceHandle": "default", "target": "e"},
    ],
}


def test_spec_migration_v0_to_v1():
    migrated = spec_migrate(V0)
    assert migrated["spec_version"] == 1
    assert all("position" not in n for n in migrated["nodes"])
    assert migrated["ui"]["nodes"] == {"t": {"position": {"x": 10, "y": 20}}, "b": {"position": {"x": 200, "y": 20}},
                                       "e": {"position": {"x": 400, "y": 100}}}
    assert migrated["nodes"][1]["config"]["conditions"][0]["id"] == "yes"  # "data" became "config"
    assert "data" not in migrated["nodes"][1]
    assert [(e["source"], e["source_port"], e["target"]) for e in migrated["edges"]] == [
        ("t", "next", "b"), ("b", "yes", "m"), ("b", "default", "e")]
    assert all("sourceHandle" not in e for e in migrated["edges"])
    assert [e["id"] for e in migrated["edges"]] == ["e0", "e1", "keep"]
    assert "spec_version" not in V0 and "position" in V0["nodes"][0]  # the input is not changed


def test_v0_definition_validates_after_migration():
    valid(V0)
    compiled = compile_definition(V0)
    assert compiled.target("b", "yes") == "m"
    assert compiled.trigger_ids == ("t",)


def test_current_version_is_not_migrated():
    defn = chain(T)
    assert spec_migrate(defn) is defn


@pytest.mark.parametrize("garbage", [
    {"nodes": ["x"], "edges": []},
    {"nodes": "abc", "edges": []},
    {"nodes": [{"id": "t", "type": "trigger", "config": {"event": "message"}}], "edges": [5]},
    {"nodes": [], "edges": [], "ui": ["x"]},
    {"nodes": [], "edges": [], "ui": {"nodes": []}},
    {"nodes": [{"id": ["x"], "type": "end", "position": {}}], "edges": []},
])
def test_broken_v0_definitions_are_reported_not_crashed(garbage):
    result = definition_validate(garbage)
    assert not result.valid
    assert {i.code for i in result.issues} == {"definition_shape"}


# --- Times, business hours and time zones that would only fail at run time --------------------------


@pytest.mark.parametrize("hours", ["seg-sex 09:00-18:00", "mon-fri", "mon-fri 9-18", "mon 18:00-09:00",
                                   "mon-fri 09:00-25:00", "mon,xyz 09:00-10:00", ";"])
def test_delay_invalid_business_hours(hours):
    issue = the_issue(chain(T, node("d", "delay", mode="business_hours", business_hours=hours)),
                      "invalid_business_hours", node_id="d", field="business_hours")
    assert issue.message["en"].startswith("Invalid business hours: ")
    assert issue.message["pt-BR"].startswith("Horário comercial inválido: ")


def test_branch_invalid_business_hours_and_timezone():
    defn = _branch({"id": "a", "label": "A", "rules": [{"op": "business_hours"}]},
                   business_hours="segunda a sexta", timezone="Brasil/SaoPaulo")
    the_issue(defn, "invalid_business_hours", node_id="b", field="business_hours")
    issue = the_issue(defn, "invalid_timezone", node_id="b", field="timezone")
    assert "Brasil/SaoPaulo" in issue.message["en"] and "Brasil/SaoPaulo" in issue.message["pt-BR"]
    valid(_branch({"id": "a", "label": "A", "rules": [{"op": "business_hours"}]},
                  business_hours="mon-fri 08:00-12:00; mon-fri 13:00-18:00; sat 09:00-13:00",
                  timezone="America/Manaus"))


def test_delay_invalid_time_of_day_and_timezone():
    defn = chain(T, node("d", "delay", mode="time_of_day", time="29:00", timezone="Mars/Olympus"))
    the_issue(defn, "invalid_time", node_id="d", field="time")
    the_issue(defn, "invalid_timezone", node_id="d", field="timezone")


def test_trigger_schedule_invalid_time_and_timezone():
    defn = chain(node("t", "trigger", event="schedule",
                      schedule={"time": "24:30", "tag": "aniversario", "timezone": "Nowhere/City"}))
    the_issue(defn, "invalid_time", node_id="t", field="schedule.time")
    the_issue(defn, "invalid_timezone", node_id="t", field="schedule.timezone")
    valid(chain(node("t", "trigger", event="schedule", schedule={"time": "08:00", "tag": "aniversario",
                                                                 "weekdays": ["mon"]})))


@pytest.mark.parametrize("duration", [{"value": 1e12, "unit": "days"}, {"value": 3651, "unit": "days"},
                                      {"value": 10**9, "unit": "seconds"}])
def test_delay_duration_too_long(duration):
    the_issue(chain(T, node("d", "delay", mode="duration", duration=duration)), "duration_too_long",
              node_id="d", field="duration")
    the_issue(chain(T, node("d", "delay", mode="expression", expression="{{trigger.at}}",
                            offset={**duration, "value": -duration["value"]})),
              "duration_too_long", node_id="d", field="offset")
    valid(chain(T, node("d", "delay", mode="duration", duration={"value": 3650, "unit": "days"})))


def test_wait_for_reply_timeout_checks():
    the_issue(chain(T, node("w", "wait_for_reply", timeout={"value": 1e12, "unit": "days"})), "duration_too_long",
              node_id="w", field="timeout")
    the_issue(chain(T, node("w", "wait_for_reply", timeout={"value": 0, "unit": "minutes"})), "duration_positive",
              node_id="w", field="timeout")
    valid(chain(T, node("w", "wait_for_reply", timeout=None)))
    valid(chain(T, node("w", "wait_for_reply", timeout={"value": 2, "unit": "days"})))


def test_last_error_is_known_after_a_failure_port_only():
    defn = definition([T, node("ai", "ai_reply", assistant="x", input="{{trigger.text}}", output_variable="a"),
                       node("h", "send_message", text="Erro: {{vars.last_error}}"),
                       node("after", "send_message", text="Ainda: {{vars.last_error}}"),
                       node("ok", "send_message", text="{{vars.a}} {{vars.last_error}}")],
                      [edge("t", "ai"), edge("ai", "h", "failure"), edge("h", "after"), edge("ai", "ok")])
    issue = the_issue(defn, "unknown_variable", node_id="ok", field="text")
    assert "vars.last_error" in issue.message["en"]
    scope = definition_validate(defn).scope
    assert "vars.last_error" in scope["h"] and "vars.last_error" in scope["after"]
    assert "vars.last_error" not in scope["ok"] and "vars.last_error" not in scope["ai"]


# --- The node-type registry the validator reads --------------------------------------------------------


def _all_types():
    from flows.nodes import registry

    return registry.all_types()


@pytest.mark.parametrize("node_type", _all_types(), ids=lambda t: t.key)
def test_every_node_type_describes_itself(node_type):
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(node_type.config_schema)
    assert node_type.label["pt-BR"].strip() and node_type.label["en"].strip()
    assert set(node_type.description) == {"pt-BR", "en"}
    assert node_type.category in {"trigger", "flow", "messaging", "ai", "data", "integration", "routing"}
    for port in node_type.ports:
        assert port.label["pt-BR"] and port.label["en"]
    keys = [p.key for p in node_type.ports_for(node_type.default_config)]
    assert len(keys) == len(set(keys))
    assert node_type.is_trigger == (node_type.key == "trigger")


def test_trigger_blank_keyword():
    issue = the_issue(chain(node("t", "trigger", event="message", match="keyword", keywords=["oi", " ?! "])),
                      "blank_keyword", node_id="t", field="keywords")
    assert "?!" in issue.message["en"]
    valid(chain(node("t", "trigger", event="message", match="keyword", keywords=["Olá!", "2ª via"])))
