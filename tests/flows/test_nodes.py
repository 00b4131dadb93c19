"""Every node type through the real interpreter over real rows: execute, resume, ports and failures."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from flows.engine import runtime as runtime_module
from flows.engine.interpreter import Interpreter
from flows.models import Flow, FlowRevision, FlowRun, InboundEvent
from flows.nodes.base import StepError
from flows.services import contact_events_process, timers_fire_due
from messaging.models import Contact, Message, MessageTemplate, Tag
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import chain, definition, edge, make_contact, make_flow, make_template, node
from tests.flows.helpers import FrozenRuntime, inbound

pytestmark = pytest.mark.usefixtures("run_in_english")

SP = ZoneInfo("America/Sao_Paulo")
T = node("t", "trigger", event="message", match="any")
START_NODE = node("t", "trigger", event="message", match="keyword", keywords=["start"])


@pytest.fixture(autouse=True)
def _shared_trigger_untouched():
    yield
    assert T == node("t", "trigger", event="message", match="any"), "a test changed the shared trigger node"


def start(flow, contact, runtime=None, **payload) -> FlowRun:
    """Start ``flow`` for ``contact`` at its trigger ``t`` with ``payload`` as {{trigger.*}}."""
    from tests.calls import calls_settle

    run = Interpreter(runtime).run_start(flow=flow, revision=flow.published_revision, contact=contact,
                                         trigger_node_id="t", trigger_payload=payload)
    calls_settle(runtime)  # outside calls are made by the calls worker: here, at once
    run.refresh_from_db()
    return run


def path(run) -> list[tuple[str, str]]:
    return list(run.steps.order_by("seq").values_list("node_id", "port"))


def outbound(contact):
    return list(Message.objects.filter(contact=contact, direction=Message.Direction.OUTBOUND).order_by("id"))


def fire_timers(contact, **delta) -> None:
    """Move the scheduler's clock forward and let the contact's queue run (Celery is not running)."""
    timers_fire_due(now=timezone.now() + timedelta(**delta))
    contact_events_process(contact_id=contact.pk)


@pytest.fixture
def contact(channel):
    return make_contact(channel=channel)


# --- trigger ----------------------------------------------------------------------------------------


def test_trigger_any_starts_on_any_message(contact):
    flow = make_flow(chain(T, node("e", "end")))
    event = inbound(contact, "qualquer coisa")
    run = flow.runs.get()
    assert event.state == InboundEvent.State.DONE
    assert run.status == FlowRun.Status.COMPLETED
    assert run.trigger_event == event
    assert run.context["trigger"]["text"] == "qualquer coisa"
    assert run.context["trigger"]["kind"] == "message"
    assert path(run) == [("t", "next"), ("e", "")]


@pytest.mark.parametrize("text, starts", [
    ("orçamento", True),
    ("ORCAMENTO", True),
    ("  Orçamento  ", True),
    ("orçamento para 3 pessoas", True),  # the first word
    ("quero um orçamento", False),
    ("orçamentos", False),
    ("Orçamento!", True),
    ("orçamento, por favor", True),
    ("PEDIDO-123", True),
    ("#pedido", True),
    ("Segunda via do boleto", True),  # a keyword of two words at the start
    ("segunda", False),
    ("?", False),
    ("", False),
])
def test_trigger_keyword_with_accents_case_and_first_word(contact, text, starts):
    flow = make_flow(chain(node("t", "trigger", event="message", match="keyword", keywords=["pedido", "Orçamento", "segunda via", "?"]),
                           node("e", "end")))
    event = inbound(contact, text)
    assert flow.runs.exists() is starts
    assert event.state == (InboundEvent.State.DONE if starts else InboundEvent.State.IGNORED)


def test_trigger_regex(contact):
    flow = make_flow(chain(node("t", "trigger", event="message", match="regex", pattern=r"\bcep\s*\d{5}-?\d{3}\b"),
                           node("e", "end")))
    inbound(contact, "meu CEP 01310-100")
    inbound(contact, "meu cep é desconhecido")
    assert flow.runs.count() == 1


def test_trigger_interactive_reply_ids(contact):
    flow = make_flow(chain(node("t", "trigger", event="interactive_reply", reply_ids=["promo_yes"]),
                           node("e", "end")))
    inbound(contact, "Não", kind="interactive_reply", reply_id="promo_no", reply_title="Não")
    assert not flow.runs.exists()
    inbound(contact, "Quero", kind="interactive_reply", reply_id="promo_yes", reply_title="Quero")
    assert flow.runs.get().context["trigger"]["reply_id"] == "promo_yes"
    inbound(contact, "promo_yes")  # typed text is not a button reply
    assert flow.runs.count() == 1


def test_trigger_interactive_reply_without_ids_takes_any_reply(contact):
    flow = make_flow(chain(node("t", "trigger", event="interactive_reply"), node("e", "end")))
    inbound(contact, "A", kind="interactive_reply", reply_id="a")
    assert flow.runs.count() == 1


def test_trigger_external_event_name(contact):
    flow = make_flow(chain(node("t", "trigger", event="external", event_name="order.created"), node("e", "end")))
    inbound(contact, kind="external", event="order.paid")
    assert not flow.runs.exists()
    inbound(contact, "", kind="external", event="order.created", order_id="A-1")
    run = flow.runs.get()
    assert run.context["trigger"]["order_id"] == "A-1"
    inbound(contact, "order.created")  # a message is not an external event
    assert flow.runs.count() == 1


def test_trigger_conversation_started(contact):
    flow = make_flow(chain(node("t", "trigger", event="conversation_started"), node("e", "end")))
    inbound(contact, "oi")
    inbound(contact, "tudo bem?")
    assert flow.runs.count() == 1


def test_keyword_flow_wins_over_a_catch_all_flow(contact):
    catch_all = make_flow(chain(T, node("e", "end")), name="A catch-all (older)")
    keyword = make_flow(chain(node("t", "trigger", event="message", match="keyword", keywords=["pedido"]),
                              node("e", "end")), name="B keyword")
    inbound(contact, "pedido 123")
    assert keyword.runs.count() == 1 and catch_all.runs.count() == 0
    inbound(contact, "olá")
    assert keyword.runs.count() == 1 and catch_all.runs.count() == 1


def test_one_message_starts_only_the_oldest_of_equal_flows(contact):
    first = make_flow(chain(T, node("e", "end")), name="first")
    second = make_flow(chain(T, node("e", "end")), name="second")
    inbound(contact, "oi")
    assert first.runs.count() == 1 and second.runs.count() == 0


def test_external_events_start_every_matching_flow(contact):
    trig = node("t", "trigger", event="external", event_name="lead.created")
    flows = [make_flow(chain(trig, node("e", "end")), name=f"f{i}") for i in range(2)]
    inbound(contact, kind="external", event="lead.created")
    assert [f.runs.count() for f in flows] == [1, 1]


def test_unpublished_and_archived_flows_do_not_start(contact):
    draft = make_flow(chain(T, node("e", "end")), publish=False)
    archived = make_flow(chain(T, node("e", "end")))
    archived.status = Flow.Status.ARCHIVED
    archived.save()
    event = inbound(contact, "oi")
    assert event.state == InboundEvent.State.IGNORED
    assert not draft.runs.exists() and not archived.runs.exists()


# --- delay ------------------------------------------------------------------------------------------


def _delay_flow(**config):
    return make_flow(chain(T, node("d", "delay", **config), node("m", "send_message", text="Voltei")))


def test_delay_duration_waits_then_continues_when_the_timer_fires(contact):
    flow = _delay_flow(mode="duration", duration={"value": 2, "unit": "hours"})
    before = timezone.now()
    inbound(contact, "oi")
    run = flow.runs.get()
    assert run.status == FlowRun.Status.WAITING and run.wait_kind == "delay" and run.current_node == "d"
    assert timedelta(hours=2) <= run.wake_at - before < timedelta(hours=2, seconds=30)
    assert run.wait_token

    fire_timers(contact, hours=1)  # not due yet
    run.refresh_from_db()
    assert run.status == FlowRun.Status.WAITING and outbound(contact) == []

    fire_timers(contact, hours=3)
    run.refresh_from_db()
    assert run.status == FlowRun.Status.COMPLETED
    assert [m.content["text"]["body"] for m in outbound(contact)] == ["Voltei"]
    assert path(run) == [("t", "next"), ("d", ""), ("d", "next"), ("m", "next")]
    resumed = run.steps.get(seq=3)
    assert resumed.input["event_kind"] == "timer" and resumed.input["event"]["run_id"] == run.pk
    assert resumed.event is None  # resumed by the timer sweep in place: no event row in between


def test_delay_time_of_day(contact):
    flow = _delay_flow(mode="time_of_day", time="09:00", timezone="America/Sao_Paulo")
    clock = FrozenRuntime(datetime(2026, 11, 23, 10, 0, tzinfo=SP))  # Monday 10:00: 09:00 has passed
    run = start(flow, contact, clock)
    assert run.wake_at == datetime(2026, 11, 24, 9, 0, tzinfo=SP)

    clock = FrozenRuntime(datetime(2026, 11, 23, 7, 30, tzinfo=SP))
    run = start(flow, contact, clock)
    assert run.wake_at == datetime(2026, 11, 23, 9, 0, tzinfo=SP)


def test_delay_until_business_hours(contact):
    flow = _delay_flow(mode="business_hours", business_hours="mon-fri 09:00-18:00", timezone="America/Sao_Paulo")
    saturday = FrozenRuntime(datetime(2026, 11, 28, 11, 0, tzinfo=SP))
    run = start(flow, contact, saturday)
    assert run.status == FlowRun.Status.WAITING
    assert run.wake_at == datetime(2026, 11, 30, 9, 0, tzinfo=SP)  # Monday

    friday_evening = FrozenRuntime(datetime(2026, 11, 27, 18, 0, tzinfo=SP))
    assert start(flow, contact, friday_evening).wake_at == datetime(2026, 11, 30, 9, 0, tzinfo=SP)


def test_delay_business_hours_when_open_continues_at_once(contact):
    flow = _delay_flow(mode="business_hours", business_hours="mon-fri 09:00-18:00", timezone="America/Sao_Paulo")
    run = start(flow, contact, FrozenRuntime(datetime(2026, 11, 25, 10, 0, tzinfo=SP)))
    assert run.status == FlowRun.Status.COMPLETED
    assert run.steps.get(node_id="d").output["skipped"] is True


def test_delay_expression_with_negative_offset(contact):
    flow = _delay_flow(mode="expression", expression="{{trigger.appointment_at}}",
                       offset={"value": -24, "unit": "hours"})
    clock = FrozenRuntime(datetime(2026, 11, 20, 8, 0, tzinfo=SP))
    run = start(flow, contact, clock, appointment_at="2026-11-22T14:00:00-03:00")
    assert run.status == FlowRun.Status.WAITING
    assert run.wake_at == datetime(2026, 11, 21, 14, 0, tzinfo=SP)


def test_delay_expression_naive_moment_is_read_in_the_node_timezone(contact):
    flow = _delay_flow(mode="expression", expression="{{trigger.at}}", timezone="America/Sao_Paulo")
    run = start(flow, contact, FrozenRuntime(datetime(2026, 11, 20, 8, 0, tzinfo=SP)), at="2026-11-21 10:00")
    assert run.wake_at == datetime(2026, 11, 21, 10, 0, tzinfo=SP)


def test_delay_moment_already_past_continues_at_once(contact):
    flow = _delay_flow(mode="expression", expression="{{trigger.appointment_at}}",
                       offset={"value": -24, "unit": "hours"})
    clock = FrozenRuntime(datetime(2026, 11, 22, 12, 0, tzinfo=SP))  # appointment in 2 hours
    run = start(flow, contact, clock, appointment_at="2026-11-22T14:00:00-03:00")
    assert run.status == FlowRun.Status.COMPLETED
    step = run.steps.get(node_id="d")
    assert step.port == "next" and step.output["skipped"] is True
    assert len(outbound(contact)) == 1


def test_delay_bad_date_fails_the_run(contact):
    flow = _delay_flow(mode="expression", expression="{{trigger.appointment_at}}")
    run = start(flow, contact, appointment_at="amanhã de manhã")
    assert run.status == FlowRun.Status.FAILED
    assert "amanhã de manhã" in run.end_reason and "ISO 8601" in run.end_reason
    assert run.end_reason.startswith("node 'd' (Delay)")
    step = run.steps.get(node_id="d")
    assert step.outcome == "error" and step.output["code"] == "bad_datetime"


def test_delay_missing_variable_fails_the_run_with_the_path(contact):
    flow = _delay_flow(mode="expression", expression="{{trigger.appointment_at}}")
    run = start(flow, contact)
    assert run.status == FlowRun.Status.FAILED
    assert "trigger.appointment_at" in run.end_reason
    assert run.steps.get(node_id="d").output["code"] == "expression_error"


# --- branch -----------------------------------------------------------------------------------------


def _branch_flow(*conditions, **extra):
    ends = [node(f"end_{c['id']}", "end") for c in conditions] + [node("end_default", "end")]
    return make_flow(definition(
        [T, node("b", "branch", conditions=list(conditions), **extra), *ends],
        [edge("t", "b"), *[edge("b", f"end_{c['id']}", c["id"]) for c in conditions],
         edge("b", "end_default", "default")],
    ))


def branch_port(contact, conditions, runtime=None, **payload) -> str:
    run = start(_branch_flow(*conditions), contact, runtime, **payload)
    assert run.status == FlowRun.Status.COMPLETED, run.end_reason
    return run.steps.get(node_id="b").port


def when(op, right=None, left="{{trigger.v}}", **extra):
    rule = {"op": op, **extra}
    if left is not None:
        rule["left"] = left
    if right is not None:
        rule["right"] = right
    return [{"id": "yes", "label": "Sim", "rules": [rule]}]


@pytest.mark.parametrize("op, v, right, extra, port", [
    ("equals", "Sim", "sim", {}, "yes"),
    ("equals", " sim ", "SIM", {}, "yes"),
    ("equals", "Sim", "sim", {"case_sensitive": True}, "default"),
    ("equals", "não", "nao", {}, "default"),
    ("equals", 31, "31", {}, "yes"),
    ("not_equals", "a", "b", {}, "yes"),
    ("not_equals", "a", "A", {}, "default"),
    ("contains", "Quero CANCELAR meu pedido", "cancelar", {}, "yes"),
    ("contains", "Quero CANCELAR", "cancelar", {"case_sensitive": True}, "default"),
    ("not_contains", "tudo certo", "cancelar", {}, "yes"),
    ("not_contains", "cancelar já", "cancelar", {}, "default"),
    ("starts_with", "Pedido 123", "pedido", {}, "yes"),
    ("starts_with", "Meu pedido", "pedido", {}, "default"),
    ("regex", "CPF 123.456.789-00", r"\d{3}\.\d{3}\.\d{3}-\d{2}", {}, "yes"),
    ("regex", "ABC", "^abc$", {}, "yes"),
    ("regex", "ABC", "^abc$", {"case_sensitive": True}, "default"),
    ("gt", "10", "9", {}, "yes"),
    ("gt", "9", "10", {}, "default"),  # numbers, not text
    ("gte", "10", "10", {}, "yes"),
    ("lt", "2,5", "3", {}, "yes"),
    ("lt", "3,5", "3", {}, "default"),
    ("lte", "3", "3.0", {}, "yes"),
    ("gt", "1.000,5", "1", {}, None),  # grouping dots are not a number: an error (see below)
    ("in_list", "Ouro", "prata, ouro, bronze", {}, "yes"),
    ("in_list", "platina", "prata, ouro", {}, "default"),
    ("in_list", "b", ["a", "b"], {}, "yes"),
    ("not_in_list", "platina", "prata, ouro", {}, "yes"),
    ("not_in_list", "ouro", ["prata", "ouro"], {}, "default"),
])
def test_branch_operators(contact, op, v, right, extra, port):
    if port is None:
        run = start(_branch_flow(*when(op, right, **extra)), contact, v=v)
        assert run.status == FlowRun.Status.FAILED
        return
    assert branch_port(contact, when(op, right, **extra), v=v) == port


@pytest.mark.parametrize("v, port", [("", "yes"), (None, "yes"), ([], "yes"), ({}, "yes"), ("x", "default"),
                                     (0, "default")])
def test_branch_empty(contact, v, port):
    assert branch_port(contact, when("empty"), v=v) == port
    other = "default" if port == "yes" else "yes"
    assert branch_port(contact, when("not_empty"), v=v) == other


def test_branch_number_with_comma_decimal(contact):
    assert branch_port(contact, when("gt", "10,25"), v="10,3") == "yes"
    assert branch_port(contact, when("gte", "{{trigger.limit}}"), v="7", limit=7.0) == "yes"


def test_branch_not_a_number_fails_with_a_clear_reason(contact):
    run = start(_branch_flow(*when("gt", "18")), contact, v="dezoito")
    assert run.status == FlowRun.Status.FAILED
    assert "'dezoito' is not a number" in run.end_reason
    step = run.steps.get(node_id="b")
    assert step.outcome == "error" and step.output["code"] == "not_a_number"


@pytest.mark.parametrize("text", ["nan", "NaN", "snan"])
def test_branch_nan_is_not_a_number(contact, text):
    run = start(_branch_flow(*when("gt", "18")), contact, v=text)
    assert run.status == FlowRun.Status.FAILED
    assert run.steps.get(node_id="b").output["code"] == "not_a_number"


def test_branch_missing_variable_fails_naming_it(contact):
    run = start(_branch_flow(*when("equals", "x", left="{{vars.nope}}")), contact)
    assert run.status == FlowRun.Status.FAILED
    assert "vars.nope" in run.end_reason


def test_branch_right_side_expression(contact):
    assert branch_port(contact, when("equals", "{{trigger.expected}}"), v="A", expected="a") == "yes"


def test_branch_contact_attribute(contact):
    contact.attributes = {"tier": "gold"}
    contact.save()
    assert branch_port(contact, when("equals", "gold", left="{{contact.attributes.tier}}")) == "yes"
    assert branch_port(contact, when("in_list", "silver,bronze", left="{{contact.attributes.tier}}")) == "default"


def _conditions_all_any(match):
    return [{"id": "yes", "label": "Sim", "match": match, "rules": [
        {"left": "{{trigger.a}}", "op": "equals", "right": "1"},
        {"left": "{{trigger.b}}", "op": "equals", "right": "1"},
    ]}]


@pytest.mark.parametrize("a, b, all_port, any_port", [
    ("1", "1", "yes", "yes"),
    ("1", "0", "default", "yes"),
    ("0", "0", "default", "default"),
])
def test_branch_and_or(contact, a, b, all_port, any_port):
    assert branch_port(contact, _conditions_all_any("all"), a=a, b=b) == all_port
    assert branch_port(contact, _conditions_all_any("any"), a=a, b=b) == any_port


@pytest.mark.parametrize("tier, city, vip, port", [
    ("gold", "SP", "", "yes"),       # gold AND (SP OR vip)
    ("gold", "RJ", "1", "yes"),
    ("gold", "RJ", "", "default"),
    ("silver", "SP", "1", "default"),
])
def test_branch_nested_groups(contact, tier, city, vip, port):
    conditions = [{"id": "yes", "label": "Sim", "match": "all", "rules": [
        {"left": "{{trigger.tier}}", "op": "equals", "right": "gold"},
        {"match": "any", "rules": [
            {"left": "{{trigger.city}}", "op": "equals", "right": "SP"},
            {"left": "{{trigger.vip}}", "op": "not_empty"},
        ]},
    ]}]
    assert branch_port(contact, conditions, tier=tier, city=city, vip=vip) == port


def test_branch_first_matching_condition_wins(contact):
    conditions = [
        {"id": "big", "label": "Grande", "rules": [{"left": "{{trigger.v}}", "op": "gt", "right": 100}]},
        {"id": "some", "label": "Algum", "rules": [{"left": "{{trigger.v}}", "op": "gt", "right": 0}]},
    ]
    assert branch_port(contact, conditions, v=500) == "big"
    assert branch_port(contact, conditions, v=5) == "some"
    assert branch_port(contact, conditions, v=-1) == "default"


def test_branch_has_tag(contact):
    contact.tags.add(Tag.objects.create(name="vip"))
    assert branch_port(contact, when("has_tag", "vip", left=None)) == "yes"
    assert branch_port(contact, when("has_tag", "{{trigger.tag}}", left=None), tag="lead") == "default"


@pytest.mark.parametrize("moment, port", [
    (datetime(2026, 11, 25, 10, 0, tzinfo=SP), "yes"),   # Wednesday 10:00
    (datetime(2026, 11, 25, 18, 0, tzinfo=SP), "default"),  # closing time
    (datetime(2026, 11, 29, 10, 0, tzinfo=SP), "default"),  # Sunday
    (datetime(2026, 11, 25, 13, 30, tzinfo=ZoneInfo("UTC")), "yes"),  # 10:30 in São Paulo
])
def test_branch_business_hours_with_a_frozen_clock(contact, moment, port):
    hours = {"business_hours": "mon-fri 09:00-18:00", "timezone": "America/Sao_Paulo"}
    open_flow = _branch_flow({"id": "yes", "label": "Aberto", "rules": [{"op": "business_hours"}]}, **hours)
    assert start(open_flow, contact, FrozenRuntime(moment)).steps.get(node_id="b").port == port
    closed_flow = _branch_flow({"id": "yes", "label": "Fechado", "rules": [{"op": "outside_business_hours"}]},
                               **hours)
    other = "default" if port == "yes" else "yes"
    assert start(closed_flow, contact, FrozenRuntime(moment)).steps.get(node_id="b").port == other


def test_branch_business_hours_uses_the_setting_by_default(contact, settings):
    settings.FLUXO_BUSINESS_HOURS = "sat 08:00-12:00"
    conditions = [{"id": "yes", "label": "Aberto", "rules": [{"op": "business_hours"}]}]
    assert branch_port(contact, conditions, FrozenRuntime(datetime(2026, 11, 28, 9, 0, tzinfo=SP))) == "yes"
    assert branch_port(contact, conditions, FrozenRuntime(datetime(2026, 11, 27, 9, 0, tzinfo=SP))) == "default"


def test_branch_random_split_takes_both_ports(contact):
    conditions = [{"id": "a", "label": "A", "weight": 1}, {"id": "b", "label": "B", "weight": 1}]
    flow = _branch_flow(*conditions, mode="random")
    ports = {start(flow, contact).steps.get(node_id="b").port for _ in range(40)}
    assert ports == {"a", "b"}


def test_branch_random_split_respects_a_zero_weight(contact):
    conditions = [{"id": "a", "label": "A", "weight": 0}, {"id": "b", "label": "B", "weight": 5}]
    flow = _branch_flow(*conditions, mode="random")
    ports = {start(flow, contact).steps.get(node_id="b").port for _ in range(15)}
    assert ports == {"b"}
    assert start(flow, contact).steps.get(node_id="b").output["random"] is True


# --- send_template ----------------------------------------------------------------------------------


def _template_flow(**config):
    config.setdefault("language", "pt_BR")
    return make_flow(definition(
        [T, node("s", "send_template", **config), node("ok", "end"),
         node("oops", "set_variable", assignments=[{"target": "vars.handled", "value": "yes"}])],
        [edge("t", "s"), edge("s", "ok"), edge("s", "oops", "failure")],
    ))


def test_send_template_builds_components_and_sends(contact):
    make_template("lembrete", body="Olá {{1}}, sua consulta é {{2}}.")
    flow = _template_flow(template="lembrete", parameters={
        "body": ["{{contact.first_name}}", "{{trigger.when|date('%d/%m %H:%M')}}"],
        "buttons": [{"index": 0, "sub_type": "url", "value": "{{trigger.code}}"}],
    })
    contact.last_inbound_at = None  # a template goes outside the 24-hour window too
    contact.save()
    run = start(flow, contact, when="2026-11-22T14:00:00-03:00", code="ABC")
    assert run.status == FlowRun.Status.COMPLETED, run.end_reason
    assert path(run)[1] == ("s", "next")
    [message] = outbound(contact)
    assert message.kind == "template" and message.status == Message.Status.QUEUED and message.run_id == run.pk
    spec = message.content["template"]
    assert spec["name"] == "lembrete" and spec["language"] == {"code": "pt_BR"}
    assert spec["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "Maria"}, {"type": "text", "text": "22/11 14:00"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "ABC"}]},
    ]
    assert message.content["rendered_text"] == "Olá Maria, sua consulta é 22/11 14:00."
    step = run.steps.get(node_id="s")
    assert step.output["message_id"] == message.pk and step.output["components"] == spec["components"]


def test_send_template_named_parameters_and_header(contact):
    MessageTemplate.objects.create(name="pedido", language="pt_BR", status="APPROVED", category="UTILITY",
                                   components=[{"type": "BODY", "text": "Pedido {{order}} de {{name}}"}],
                                   parameter_count=2)
    flow = _template_flow(template="pedido", parameters={
        "header": ["{{trigger.order}}"],
        "body": [{"name": "order", "value": "{{trigger.order}}"}, {"name": "name", "value": "{{contact.name}}"}],
    })
    run = start(flow, contact, order="A-7")
    assert run.status == FlowRun.Status.COMPLETED, run.end_reason
    [message] = outbound(contact)
    components = message.content["template"]["components"]
    assert components[0] == {"type": "header", "parameters": [{"type": "text", "text": "A-7"}]}
    assert components[1]["parameters"][0] == {"type": "text", "text": "A-7", "parameter_name": "order"}
    assert message.content["rendered_text"] == "Pedido A-7 de Maria Silva"


def test_send_template_refused_takes_the_failure_port(contact):
    flow = _template_flow(template="nao_existe")
    run = start(flow, contact)
    assert run.status == FlowRun.Status.COMPLETED
    assert path(run)[1:] == [("s", "failure"), ("oops", "next")]
    assert "nao_existe" in run.context["vars"]["last_error"]
    assert run.context["vars"]["handled"] == "yes"
    step = run.steps.get(node_id="s")
    assert step.outcome == "error" and step.output["code"] == "template_not_found" and "nao_existe" in step.error
    assert outbound(contact) == []


def test_send_template_parameter_count_mismatch(contact):
    make_template("lembrete", body="Olá {{1}}, dia {{2}}")
    run = start(_template_flow(template="lembrete", parameters={"body": ["{{contact.name}}"]}), contact)
    step = run.steps.get(node_id="s")
    assert step.port == "failure" and step.output["code"] == "template_param_count"
    assert "expects 2" in run.context["vars"]["last_error"]


def test_send_template_not_approved(contact):
    make_template("lembrete", status="PENDING")
    run = start(_template_flow(template="lembrete", parameters={"body": ["x"]}), contact)
    assert run.steps.get(node_id="s").output["code"] == "template_not_approved"


def test_send_template_marketing_needs_opt_in(contact):
    make_template("promo", body="Oferta para {{1}}", category="MARKETING")
    flow = _template_flow(template="promo", parameters={"body": ["{{contact.first_name}}"]})
    run = start(flow, contact)
    assert run.steps.get(node_id="s").output["code"] == "marketing_not_opted_in"
    assert "opt" in run.context["vars"]["last_error"]

    contact.consent = {"marketing": {"state": "opted_in", "at": "2026-11-01T00:00:00Z", "source": "test"}}
    contact.save()
    run = start(flow, contact)
    assert run.steps.get(node_id="s").port == "next"
    assert len(outbound(contact)) == 1

    contact.consent = {"marketing": {"state": "opted_out", "at": "2026-11-02T00:00:00Z", "source": "test"}}
    contact.save()
    assert start(flow, contact).steps.get(node_id="s").output["code"] == "opted_out"


def test_send_template_without_failure_edge_fails_the_run(contact):
    flow = make_flow(chain(T, node("s", "send_template", template="nao_existe", language="pt_BR")))
    run = start(flow, contact)
    # An unhandled failure is a failed run, with the reason, not a quiet completion.
    assert run.steps.get(node_id="s").port == "failure"
    assert run.status == FlowRun.Status.FAILED
    assert "(Send template) failed and its 'Failure' port leads nowhere" in run.end_reason and "nao_existe" in run.end_reason


# --- send_message -------------------------------------------------------------------------------------


def _message_flow(**config):
    return make_flow(definition(
        [T, node("m", "send_message", **config), node("ok", "end"), node("oops", "end", status="failed",
                                                                         reason="could not send")],
        [edge("t", "m"), edge("m", "ok"), edge("m", "oops", "failure")],
    ))


def test_send_message_text(contact):
    inbound(contact, "oi")  # opens the window
    flow = _message_flow(text="Olá {{contact.first_name}}, você disse: {{trigger.text}}", preview_url=True)
    run = start(flow, contact, text="quero pizza")
    assert path(run)[1] == ("m", "next")
    [message] = outbound(contact)
    assert message.kind == "text"
    assert message.content["text"] == {"body": "Olá Maria, você disse: quero pizza", "preview_url": True}
    assert message.conversation is not None
    assert run.steps.get(node_id="m").output["text"] == "Olá Maria, você disse: quero pizza"


def test_send_message_buttons(contact):
    flow = _message_flow(text="Confirma?", header="Consulta", footer="Responda",
                         buttons=[{"id": "yes", "title": "Sim"}, {"id": "no", "title": "Não"}])
    start(flow, contact)
    [message] = outbound(contact)
    assert message.kind == "interactive"
    interactive = message.content["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"] == {"text": "Confirma?"}
    assert interactive["header"] == {"type": "text", "text": "Consulta"}
    assert interactive["footer"] == {"text": "Responda"}
    assert interactive["action"]["buttons"] == [{"type": "reply", "reply": {"id": "yes", "title": "Sim"}},
                                                {"type": "reply", "reply": {"id": "no", "title": "Não"}}]


def test_send_message_list(contact):
    sections = [{"title": "Sabores", "rows": [{"id": "p1", "title": "Calabresa"},
                                              {"id": "p2", "title": "Mussarela", "description": "clássica"}]}]
    start(_message_flow(text="Escolha", list={"button": "Ver sabores", "sections": sections}), contact)
    [message] = outbound(contact)
    interactive = message.content["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"] == {"button": "Ver sabores", "sections": sections}


def test_send_message_outside_the_24_hour_window_takes_the_failure_port(channel):
    contact = make_contact(channel=channel, in_window=False)
    run = start(_message_flow(text="Oi"), contact)
    assert path(run)[1:] == [("m", "failure"), ("oops", "")]
    assert run.status == FlowRun.Status.FAILED and run.end_reason == "could not send"
    assert "24-hour window" in run.context["vars"]["last_error"]
    assert run.steps.get(node_id="m").output["code"] == "outside_window"
    assert outbound(contact) == []

    old = make_contact(channel=channel)
    Contact.objects.filter(pk=old.pk).update(last_inbound_at=timezone.now() - timedelta(hours=25))
    old.refresh_from_db()
    assert start(_message_flow(text="Oi"), old).steps.get(node_id="m").port == "failure"


def test_send_message_missing_variable_takes_the_failure_port(contact):
    run = start(_message_flow(text="Seu pedido {{vars.order_id}}"), contact)
    step = run.steps.get(node_id="m")
    assert step.port == "failure" and step.output["code"] == "expression_error"
    assert "vars.order_id" in run.context["vars"]["last_error"]


# --- wait_for_reply -----------------------------------------------------------------------------------


def _wait_flow(**config):
    return make_flow(definition(
        [node("t", "trigger", event="message", match="keyword", keywords=["start"]),
         node("ask", "send_message", text="Qual sabor?"),
         node("w", "wait_for_reply", **config),
         node("echo", "send_message", text="Você escolheu {{reply.text}} ({{reply.kind}}/{{reply.reply_id}})"),
         node("late", "send_message", text="Tempo esgotado")],
        [edge("t", "ask"), edge("ask", "w"), edge("w", "echo", "reply"), edge("w", "late", "timeout")],
    ))


def test_wait_for_reply_takes_the_reply(contact):
    flow = _wait_flow(timeout={"value": 1, "unit": "hours"}, save_as="flavour")
    inbound(contact, "start")
    run = flow.runs.get()
    assert run.status == FlowRun.Status.WAITING and run.wait_kind == "reply" and run.current_node == "w"
    assert run.wake_at is not None

    event = inbound(contact, "Calabresa")
    run.refresh_from_db()
    assert event.state == InboundEvent.State.DONE
    assert run.status == FlowRun.Status.COMPLETED
    assert run.context["vars"]["flavour"] == "Calabresa"
    assert run.context["reply"]["text"] == "Calabresa"
    assert run.wake_at is None and run.wait_token == ""
    assert [m.content["text"]["body"] for m in outbound(contact)] == ["Qual sabor?", "Você escolheu Calabresa (text/)"]
    assert run.steps.get(node_id="w", port="reply").event == event
    assert flow.runs.count() == 1  # the reply did not start the flow again


def test_wait_for_reply_takes_a_button_reply(contact):
    flow = _wait_flow(save_as="choice")
    inbound(contact, "start")
    inbound(contact, "Mussarela", kind="interactive_reply", reply_id="p2", reply_title="Mussarela")
    run = flow.runs.get()
    assert run.context["reply"] == {"kind": "interactive_reply", "text": "Mussarela", "reply_id": "p2",
                                    "reply_title": "Mussarela"}
    assert run.context["vars"]["choice"] == "Mussarela"
    assert outbound(contact)[-1].content["text"]["body"] == "Você escolheu Mussarela (interactive_reply/p2)"


def test_wait_for_reply_without_timeout_sets_no_timer(contact):
    flow = _wait_flow(timeout=None)
    inbound(contact, "start")
    run = flow.runs.get()
    assert run.status == FlowRun.Status.WAITING and run.wake_at is None
    fire_timers(contact, days=30)
    run.refresh_from_db()
    assert run.status == FlowRun.Status.WAITING


def test_wait_for_reply_timeout(contact):
    flow = _wait_flow(timeout={"value": 30, "unit": "minutes"})
    inbound(contact, "start")
    run = flow.runs.get()
    token = run.wait_token
    fire_timers(contact, minutes=10)
    run.refresh_from_db()
    assert run.status == FlowRun.Status.WAITING and run.wait_token == token

    fire_timers(contact, minutes=31)
    run.refresh_from_db()
    assert run.status == FlowRun.Status.COMPLETED
    assert path(run)[-2:] == [("w", "timeout"), ("late", "next")]
    assert outbound(contact)[-1].content["text"]["body"] == "Tempo esgotado"
    timeout = run.steps.get(node_id="w", port="timeout")
    assert timeout.input["event_kind"] == "timer" and timeout.input["event"]["token"] == token

    inbound(contact, "Calabresa")  # too late: the run has ended, nothing takes it
    run.refresh_from_db()
    assert "reply" not in run.context


def test_a_reply_before_the_timeout_cancels_it(contact):
    flow = _wait_flow(timeout={"value": 30, "unit": "minutes"})
    inbound(contact, "start")
    inbound(contact, "Calabresa")
    fire_timers(contact, hours=2)
    run = flow.runs.get()
    assert run.status == FlowRun.Status.COMPLETED
    assert [p for _, p in path(run)].count("timeout") == 0
    assert not InboundEvent.objects.filter(kind=InboundEvent.Kind.TIMER).exists()


def test_a_delay_wait_ignores_messages(contact):
    flow = make_flow(chain(node("t", "trigger", event="message", match="keyword", keywords=["start"]),
                           node("d", "delay", mode="duration", duration={"value": 1, "unit": "hours"}),
                           node("m", "send_message", text="Pronto")))
    inbound(contact, "start")
    event = inbound(contact, "oi, ainda aí?")
    run = flow.runs.get()
    assert event.state == InboundEvent.State.IGNORED
    assert run.status == FlowRun.Status.WAITING and run.wait_kind == "delay" and run.step_count == 2
    fire_timers(contact, hours=2)
    run.refresh_from_db()
    assert run.status == FlowRun.Status.COMPLETED


# --- ai_reply -------------------------------------------------------------------------------------------

AI_CALLS: list[dict] = []


def fake_assistant(*, run, assistant, text, memory_turns):
    AI_CALLS.append({"run": run.pk, "assistant": assistant, "text": text, "memory_turns": memory_turns})
    if "erro" in text:
        raise StepError("the assistant is unavailable", code="ai_unavailable")
    if "silêncio" in text:
        return {"text": "", "confidence": 0.0}
    return {"text": f"Resposta sobre {text}", "confidence": 0.9, "tokens": 12, "latency_ms": 5, "provider": "fake"}


@pytest.fixture
def assistant():
    saved = dict(runtime_module.SERVICES)
    runtime_module.register_service("ai_reply", f"{__name__}:fake_assistant")
    AI_CALLS.clear()
    yield AI_CALLS
    runtime_module.SERVICES.clear()
    runtime_module.SERVICES.update(saved)


def _ai_flow():
    return make_flow(definition(
        [T, node("ai", "ai_reply", assistant="suporte", input="{{trigger.text}}", output_variable="answer",
                 memory_turns=3),
         node("say", "send_message", text="{{vars.answer}}"),
         node("human", "send_message", text="Um atendente vai responder: {{vars.last_error}}")],
        [edge("t", "ai"), edge("ai", "say"), edge("ai", "human", "failure")],
    ))


def test_ai_reply_answers(contact, assistant):
    flow = _ai_flow()
    inbound(contact, "horário de funcionamento")
    run = flow.runs.get()
    assert run.status == FlowRun.Status.COMPLETED
    assert run.context["vars"]["answer"] == "Resposta sobre horário de funcionamento"
    assert assistant == [{"run": run.pk, "assistant": "suporte", "text": "horário de funcionamento",
                          "memory_turns": 3}]
    asked, step = run.steps.filter(node_id="ai").order_by("seq")  # the call goes out, then its answer resumes
    assert asked.outcome == "wait" and asked.output == {"input": "horário de funcionamento"}
    assert step.port == "next" and step.output["confidence"] == 0.9 and step.output["provider"] == "fake"
    assert outbound(contact)[-1].content["text"]["body"] == "Resposta sobre horário de funcionamento"


def test_ai_reply_error_takes_the_failure_port(contact, assistant):
    flow = _ai_flow()
    inbound(contact, "erro")
    run = flow.runs.get()
    assert path(run)[1:] == [("ai", ""), ("ai", "failure"), ("human", "next")]
    assert run.context["vars"]["last_error"] == "the assistant is unavailable"
    assert "answer" not in run.context["vars"]
    assert outbound(contact)[-1].content["text"]["body"] == "Um atendente vai responder: the assistant is unavailable"


def test_ai_reply_without_an_answer_takes_the_failure_port(contact, assistant):
    flow = _ai_flow()
    inbound(contact, "silêncio")
    run = flow.runs.get()
    assert run.steps.get(node_id="ai", port="failure").output["code"] == "ai_no_answer"


def test_ai_reply_without_the_service_takes_the_failure_port(contact):
    saved = dict(runtime_module.SERVICES)
    runtime_module.SERVICES.pop("ai_reply", None)
    try:
        flow = _ai_flow()
        inbound(contact, "oi")
    finally:
        runtime_module.SERVICES.clear()
        runtime_module.SERVICES.update(saved)
    run = flow.runs.get()
    assert run.steps.get(node_id="ai", port="failure").output["code"] == "no_service"
    assert "ai_reply" in run.context["vars"]["last_error"]


# --- set_variable -----------------------------------------------------------------------------------


def _set_flow(*assignments, then="{{contact.name}}"):
    return make_flow(chain(T, node("s", "set_variable", assignments=list(assignments)),
                           node("m", "send_message", text=then)))


def test_set_variable_vars_with_types(contact):
    flow = _set_flow(
        {"target": "vars.name", "value": "{{trigger.name|upper}}"},
        {"target": "vars.count", "value": "{{trigger.count}}", "type": "number"},
        {"target": "vars.price", "value": "10,5", "type": "number"},
        {"target": "vars.ok", "value": "Sim", "type": "boolean"},
        {"target": "vars.off", "value": "não", "type": "boolean"},
        {"target": "vars.order", "value": '{"id": 7, "items": ["a"]}', "type": "json"},
        {"target": "vars.raw", "value": "{{trigger.obj}}", "type": "json"},
        {"target": "vars.text_of_obj", "value": "{{trigger.obj}}"},
        then="{{vars.order.items.0}} {{vars.count}}",
    )
    run = start(flow, contact, name="ana", count="3", obj={"k": 1})
    assert run.status == FlowRun.Status.COMPLETED, run.end_reason
    assert run.context["vars"] == {"name": "ANA", "count": 3, "price": 10.5, "ok": True, "off": False,
                                   "order": {"id": 7, "items": ["a"]}, "raw": {"k": 1}, "text_of_obj": '{"k": 1}'}
    assert outbound(contact)[-1].content["text"]["body"] == "a 3"
    assert run.steps.get(node_id="s").output["assigned"]["vars.count"] == 3


def test_set_variable_contact_name_and_attributes(contact):
    contact.attributes = {"keep": "me"}
    contact.save()
    flow = _set_flow({"target": "contact.name", "value": "{{trigger.name}}"},
                     {"target": "contact.attributes.tier", "value": "gold"},
                     {"target": "contact.attributes.age", "value": "41", "type": "number"},
                     then="{{contact.first_name}} {{contact.attributes.tier}}")
    start(flow, contact, name="Joana Prado")
    contact.refresh_from_db()
    assert contact.name == "Joana Prado"
    assert contact.attributes == {"keep": "me", "tier": "gold", "age": 41}
    assert outbound(contact)[-1].content["text"]["body"] == "Joana gold"  # the next node sees the new values


def test_set_variable_tags_add_and_remove(contact):
    contact.tags.add(Tag.objects.create(name="old"))
    flow = _set_flow({"target": "contact.tags", "value": "vip", "operation": "add_tag"},
                     {"target": "contact.tags", "value": "{{trigger.drop}}", "operation": "remove_tag"},
                     then="{{contact.tags|json}}")
    start(flow, contact, drop="old")
    assert sorted(contact.tags.values_list("name", flat=True)) == ["vip"]
    assert outbound(contact)[-1].content["text"]["body"] == '["vip"]'


@pytest.mark.parametrize("value, kind, code", [
    ("abc", "number", "not_a_number"),
    ("nan", "number", "not_a_number"),
    ("1e999", "number", "not_a_number"),
    ("{bad json", "json", "bad_json"),
    ("NaN", "json", "bad_json"),
])
def test_set_variable_conversion_errors_fail_the_run(contact, value, kind, code):
    run = start(_set_flow({"target": "vars.x", "value": value, "type": kind}), contact)
    assert run.status == FlowRun.Status.FAILED
    assert run.end_reason.startswith("node 's' (Set variable)")
    step = run.steps.get(node_id="s")
    assert step.outcome == "error" and step.output["code"] == code


# --- end --------------------------------------------------------------------------------------------


def test_end_completed_with_reason(contact):
    run = start(make_flow(chain(T, node("e", "end", reason="tudo certo"))), contact)
    assert run.status == FlowRun.Status.COMPLETED and run.end_reason == "tudo certo"
    assert run.ended_at is not None and run.wait_kind == "" and run.wake_at is None
    assert run.steps.get(node_id="e").outcome == "end"


def test_end_failed_with_reason(contact):
    run = start(make_flow(chain(T, node("e", "end", status="failed", reason="cliente bloqueado"))), contact)
    assert run.status == FlowRun.Status.FAILED and run.end_reason == "cliente bloqueado"


def test_a_port_without_an_edge_completes_the_run(contact):
    run = start(make_flow(chain(T)), contact)
    assert run.status == FlowRun.Status.COMPLETED
    assert "leads nowhere" in run.end_reason


# --- subflow ------------------------------------------------------------------------------------------


def _parent_flow(child_id, trigger=T, **config):
    return make_flow(definition(
        [trigger, node("sub", "subflow", flow_id=child_id, **config),
         node("ok", "send_message", text="Filho ok: {{vars.child.x|default('-')}}"),
         node("bad", "send_message", text="Filho falhou")],
        [edge("t", "sub"), edge("sub", "ok", "completed"), edge("sub", "bad", "failed")],
    ), name="parent")


def test_subflow_child_completes_at_once(contact):
    child = make_flow(chain(node("t", "trigger", event="external", event_name="never"),
                            node("s", "set_variable", assignments=[{"target": "vars.x", "value": "{{trigger.v}}"}])),
                      name="child")
    parent = _parent_flow(child.pk, output_variable="child")
    run = start(parent, contact, v="42")
    assert run.status == FlowRun.Status.COMPLETED, run.end_reason
    assert run.context["vars"]["child"] == {"x": "42"}
    child_run = child.runs.get()
    assert child_run.parent_run_id == run.pk and child_run.status == FlowRun.Status.COMPLETED
    assert child_run.context["trigger"]["parent_run_id"] == run.pk
    assert run.steps.get(node_id="sub").port == "completed"
    assert outbound(contact)[-1].content["text"]["body"] == "Filho ok: 42"


def test_subflow_child_failure_takes_the_failed_port(contact):
    child = make_flow(chain(node("t", "trigger", event="external", event_name="never"),
                            node("e", "end", status="failed", reason="não deu")), name="child")
    run = start(_parent_flow(child.pk), contact)
    assert run.steps.get(node_id="sub").port == "failed"
    assert outbound(contact)[-1].content["text"]["body"] == "Filho falhou"


def test_subflow_parent_resumes_after_the_child_wait_is_answered(contact):
    child = make_flow(definition(
        [node("t", "trigger", event="external", event_name="never"), node("w", "wait_for_reply", save_as="x")],
        [edge("t", "w")]), name="child")
    parent_def = _parent_flow(child.pk, output_variable="child",
                              trigger=node("t", "trigger", event="message", match="keyword", keywords=["start"]))

    inbound(contact, "start")
    parent_run = parent_def.runs.get()
    child_run = child.runs.get()
    assert parent_run.status == FlowRun.Status.WAITING and parent_run.wait_kind == "subflow"
    assert child_run.status == FlowRun.Status.WAITING and child_run.wait_kind == "reply"
    assert parent_run.steps.get(node_id="sub").output["child_run_id"] == child_run.pk

    inbound(contact, "sete")
    parent_run.refresh_from_db()
    child_run.refresh_from_db()
    assert child_run.status == FlowRun.Status.COMPLETED
    assert parent_run.status == FlowRun.Status.COMPLETED, parent_run.end_reason
    assert parent_run.context["vars"]["child"] == {"x": "sete"}
    assert path(parent_run)[-2:] == [("sub", "completed"), ("ok", "next")]
    assert outbound(contact)[-1].content["text"]["body"] == "Filho ok: sete"


def test_subflow_depth_cap(contact):
    flow = make_flow(chain(T), name="recursive")
    recursive = definition([T, node("sub", "subflow", flow_id=flow.pk), node("e", "end")],
                           [edge("t", "sub"), edge("sub", "e", "completed")])
    revision = FlowRevision.objects.create(flow=flow, revision=2, spec_version=1, definition=recursive)
    flow.published_revision = revision
    flow.save()
    run = start(flow, contact)
    runs = FlowRun.objects.filter(flow=flow)
    assert runs.count() == 6  # the top run and five nested levels
    failed = runs.get(status=FlowRun.Status.FAILED)
    assert "deeper than 5" in failed.end_reason
    assert run.status == FlowRun.Status.COMPLETED  # the deepest failure came back through a "failed" port


def test_subflow_missing_flow(contact):
    run = start(_parent_flow(987654), contact)
    assert run.status == FlowRun.Status.FAILED
    assert "flow 987654 does not exist" in run.end_reason
    assert run.steps.get(node_id="sub").output["code"] == "subflow_missing"


def test_subflow_unpublished_flow(contact):
    child = make_flow(chain(node("t", "trigger", event="external", event_name="x")), publish=False)
    run = start(_parent_flow(child.pk), contact)
    assert run.status == FlowRun.Status.FAILED
    assert run.steps.get(node_id="sub").output["code"] == "subflow_no_revision"


def test_subflow_pinned_revision(contact):
    child = make_flow(chain(node("t", "trigger", event="external", event_name="x"),
                            node("s", "set_variable", assignments=[{"target": "vars.x", "value": "r1"}])))
    FlowRevision.objects.create(flow=child, revision=2, spec_version=1, definition=chain(
        node("t", "trigger", event="external", event_name="x"),
        node("s", "set_variable", assignments=[{"target": "vars.x", "value": "r2"}])))
    run = start(_parent_flow(child.pk, revision=2, output_variable="child"), contact)
    assert run.context["vars"]["child"] == {"x": "r2"}
    run = start(_parent_flow(child.pk, output_variable="child"), contact)
    assert run.context["vars"]["child"] == {"x": "r1"}  # "published"


def test_subflow_changes_to_the_contact_are_seen_by_the_parent(contact):
    child = make_flow(chain(node("t", "trigger", event="external", event_name="never"),
                            node("s", "set_variable", assignments=[
                                {"target": "contact.name", "value": "Joana Prado"},
                                {"target": "contact.tags", "value": "cliente", "operation": "add_tag"}])),
                      name="child")
    parent = make_flow(definition(
        [T, node("before", "send_message", text="Antes: {{contact.first_name}}"), node("sub", "subflow", flow_id=child.pk),
         node("after", "send_message", text="Depois: {{contact.first_name}} {{contact.tags|json}}")],
        [edge("t", "before"), edge("before", "sub"), edge("sub", "after", "completed")]), name="parent")
    run = start(parent, contact)
    assert run.status == FlowRun.Status.COMPLETED, run.end_reason
    assert [m.content["text"]["body"] for m in outbound(contact)] == ["Antes: Maria", 'Depois: Joana ["cliente"]']


def test_narrower_event_triggers_win_over_an_older_catch_all(contact):
    catch_all = make_flow(chain(T, node("e", "end")), name="A catch-all (older)")
    welcome = make_flow(chain(node("t", "trigger", event="conversation_started"), node("e", "end")), name="B welcome")
    buttons = make_flow(chain(node("t", "trigger", event="interactive_reply"), node("e", "end")), name="C buttons")
    inbound(contact, "oi")  # starts a conversation
    assert (welcome.runs.count(), catch_all.runs.count()) == (1, 0)
    inbound(contact, "tudo bem?")
    assert (welcome.runs.count(), catch_all.runs.count()) == (1, 1)
    inbound(contact, "Sim", kind="interactive_reply", reply_id="yes", reply_title="Sim")
    assert (buttons.runs.count(), catch_all.runs.count()) == (1, 1)


def test_send_message_to_a_contact_without_channel_takes_the_failure_port(db):
    contact = Contact.objects.create(phone="+5511987650001", name="Sem Canal", last_inbound_at=timezone.now())
    run = start(_message_flow(text="Oi"), contact)
    step = run.steps.get(node_id="m")
    assert step.port == "failure" and step.output["code"] == "no_channel"


def test_send_message_on_a_paused_channel_takes_the_failure_port(contact):
    contact.channel.paused_at = timezone.now()
    contact.channel.pause_reason = "190: token expirado"
    contact.channel.save()
    run = start(_message_flow(text="Oi"), contact)
    step = run.steps.get(node_id="m")
    assert step.port == "failure" and step.output["code"] == "channel_paused"
    assert "token expirado" in run.context["vars"]["last_error"]


def test_a_retried_send_step_does_not_send_twice(contact):
    flow = _message_flow(text="Uma vez")
    run = start(flow, contact)
    step = run.steps.get(node_id="m")
    from messaging.services import message_queue_outbound

    sent = Message.objects.get(run=run)
    assert sent.idempotency_key == f"run:{run.context['_key']}:step:{step.seq}"
    again = message_queue_outbound(contact=contact, conversation=None, kind="text",
                                   content={"text": {"body": "Uma vez"}}, run=run,
                                   idempotency_key=sent.idempotency_key)
    assert again.pk == sent.pk
    assert len(outbound(contact)) == 1


def test_now_is_in_the_local_time_zone(contact):
    flow = _message_flow(text="{{now|date('%d/%m %H:%M')}}")
    start(flow, contact, FrozenRuntime(datetime(2026, 11, 23, 1, 30, tzinfo=ZoneInfo("UTC"))))
    assert outbound(contact)[-1].content["text"]["body"] == "22/11 22:30"  # still the 22nd in São Paulo


def test_the_most_specific_trigger_of_one_flow_is_its_entry(contact):
    flow = make_flow(definition(
        [T, node("greet", "send_message", text="Olá"),
         node("t2", "trigger", event="message", match="keyword", keywords=["pedido"]),
         node("order", "send_message", text="Qual o número do pedido?")],
        [edge("t", "greet"), edge("t2", "order")]))
    inbound(contact, "pedido")
    inbound(contact, "bom dia")
    assert [r.steps.order_by("seq").first().node_id for r in flow.runs.order_by("id")] == ["t2", "t"]
    assert [m.content["text"]["body"] for m in outbound(contact)] == ["Qual o número do pedido?", "Olá"]


def test_two_subflows_in_a_row_after_a_wait(contact):
    waits = make_flow(definition([node("t", "trigger", event="external", event_name="never"),
                                  node("w", "wait_for_reply", save_as="x")], [edge("t", "w")]), name="waits")
    quick = make_flow(chain(node("t", "trigger", event="external", event_name="never"),
                            node("s", "set_variable", assignments=[{"target": "vars.y", "value": "rápido"}])),
                      name="quick")
    parent = make_flow(definition(
        [START_NODE, node("sub1", "subflow", flow_id=waits.pk, output_variable="a"),
         node("sub2", "subflow", flow_id=quick.pk, output_variable="b"),
         node("m", "send_message", text="{{vars.a.x}} / {{vars.b.y}}")],
        [edge("t", "sub1"), edge("sub1", "sub2", "completed"), edge("sub2", "m", "completed")]), name="parent")
    inbound(contact, "start")
    inbound(contact, "resposta")
    parent_run = parent.runs.get()
    assert parent_run.status == FlowRun.Status.COMPLETED, parent_run.end_reason
    assert quick.runs.count() == 1 and waits.runs.count() == 1
    assert [m.content["text"]["body"] for m in outbound(contact)] == ["resposta / rápido"]
    assert [n for n, _ in path(parent_run)] == ["t", "sub1", "sub1", "sub2", "m"]


def test_set_variable_an_empty_tag_fails_instead_of_tagging_with_nothing(contact):
    flow = _set_flow({"target": "contact.tags", "value": "{{trigger.tag}}", "operation": "add_tag"})
    run = start(flow, contact, tag="  ")
    assert run.status == FlowRun.Status.FAILED
    assert run.steps.get(node_id="s").output["code"] == "empty_tag"
    assert not Tag.objects.filter(name__in=["", "  "]).exists()
    start(flow, contact, tag=" vip ")
    assert list(contact.tags.values_list("name", flat=True)) == ["vip"]
