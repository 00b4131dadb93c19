"""The publish-time WhatsApp policy check (flows/policy.py): one test per rule, both ways."""

from __future__ import annotations

import pytest

from flows import publishing, services
from flows.models import Flow, FlowPublication
from flows.policy import policy_check
from tests.factories import chain, definition, edge, make_flow, make_template, make_user, node

pytestmark = pytest.mark.django_db

MESSAGE = node("t", "trigger", event="message", match="any")
EXTERNAL = node("t", "trigger", event="external", event_name="call.finished")
SCHEDULE = node("t", "trigger", event="schedule", schedule={"time": "09:00", "tag": "clientes"})


def delay(hours, node_id="d"):
    return node(node_id, "delay", mode="duration", duration={"value": hours, "unit": "hours"})


def text(node_id="m"):
    return node(node_id, "send_message", text="Oi!")


def policy(defn, flow=None):
    issues, conflicts = policy_check(defn, flow=flow)
    return [(i.code, i.node_id, i.severity) for i in issues], issues, conflicts


def test_free_form_right_after_the_customers_message_is_fine():
    assert policy(chain(MESSAGE, text()))[0] == []
    assert policy(chain(MESSAGE, delay(23), text()))[0] == []


def test_free_form_after_a_25_hour_delay_is_a_warning_naming_the_delay():
    found, issues, _ = policy(chain(MESSAGE, delay(25), text()))
    assert found == [("policy_window_delay", "m", "warning")]
    assert "“Aguardar”" in issues[0].message["pt-BR"] and "25 h" in issues[0].message["pt-BR"]
    assert issues[0].params["source_id"] == "d"


def test_delays_add_up_and_a_reply_opens_the_window_again():
    assert policy(chain(MESSAGE, delay(12, "d1"), delay(12, "d2"), text()))[0] == [("policy_window_delay", "m", "warning")]
    reopened = definition([MESSAGE, delay(30), node("w", "wait_for_reply", timeout={"value": 1, "unit": "hours"}), text()],
                          [edge("t", "d"), edge("d", "w"), edge("w", "m", "reply")])
    assert policy(reopened)[0] == []
    timeout = definition([MESSAGE, node("w", "wait_for_reply", timeout={"value": 2, "unit": "days"}), text()],
                         [edge("t", "w"), edge("w", "m", "timeout")])
    assert policy(timeout)[0] == [("policy_window_delay", "m", "warning")]


def test_a_delay_to_a_computed_moment_may_exceed_the_window():
    defn = chain(MESSAGE, node("d", "delay", mode="expression", expression="{{now}}"), text())
    assert policy(defn)[0] == [("policy_window_unbounded", "m", "warning")]


def test_free_form_from_an_external_event_is_a_warning():
    found, issues, _ = policy(chain(EXTERNAL, text()))
    assert found == [("policy_window_trigger", "m", "warning")]
    assert "não vem de uma mensagem" in issues[0].message["pt-BR"]


def test_a_schedule_starting_free_form_text_is_an_error_unless_it_asks_first():
    assert policy(chain(SCHEDULE, text()))[0] == [("policy_schedule_free_form", "m", "error")]
    asks = definition([SCHEDULE, node("tpl", "send_template", template="x", language="pt_BR"),
                       node("w", "wait_for_reply"), text()],
                      [edge("t", "tpl"), edge("tpl", "w"), edge("w", "m", "reply")])
    assert policy(asks)[0] == []


def test_marketing_templates_need_an_opt_in_check_on_every_path():
    make_template("promo", category="MARKETING", body="Oferta para {{1}}")
    send = node("p", "send_template", template="promo", language="pt_BR", parameters={"body": ["{{contact.name}}"]})
    found, issues, _ = policy(chain(MESSAGE, send))
    assert found == [("policy_marketing_opt_in", "p", "warning")]
    assert "contact.opted_in_marketing" in issues[0].message["pt-BR"]
    check = node("b", "branch", conditions=[{"id": "yes", "label": "Aceitou", "rules": [
        {"left": "{{contact.opted_in_marketing}}", "op": "equals", "right": "true"}]}])
    guarded = definition([MESSAGE, check, send], [edge("t", "b"), edge("b", "p", "yes")])
    assert policy(guarded)[0] == []
    leaky = definition([MESSAGE, check, send], [edge("t", "b"), edge("b", "p", "yes"), edge("b", "p", "default")])
    assert policy(leaky)[0] == [("policy_marketing_opt_in", "p", "warning")]
    assert policy(chain(node("t", "trigger", event="opt_in"), send))[0] == []
    make_template("aviso", category="UTILITY")
    assert policy(chain(MESSAGE, node("u", "send_template", template="aviso", language="pt_BR")))[0] == []


def test_two_active_flows_on_the_same_external_event_conflict():
    other = make_flow(chain(EXTERNAL, node("x", "end")), name="Pós-ligação antigo")
    make_flow(chain(node("t", "trigger", event="external", event_name="order.created"), node("x", "end")), name="Pedidos")
    mine = Flow.objects.create(name="Pós-ligação novo")
    found, issues, conflicts = policy(chain(EXTERNAL, node("x", "end")), flow=mine)
    assert found == [("policy_same_event", "t", "warning")]
    assert conflicts == [{"flow_id": other.pk, "flow_name": "Pós-ligação antigo", "event": "external",
                          "event_name": "call.finished", "node_id": "t", "event_label": conflicts[0]["event_label"]}]
    assert "Pós-ligação antigo" in issues[0].message["pt-BR"]
    # The flow itself, archived flows and message triggers (one flow wins) never conflict.
    assert policy(chain(EXTERNAL, node("x", "end")), flow=other)[0] == []
    assert policy(chain(MESSAGE, node("x", "end")), flow=mine)[0] == []


def test_publishing_needs_confirmation_then_replaces_the_other_flow():
    user = make_user("ana")
    other = make_flow(chain(EXTERNAL, node("x", "end")), name="Antigo")
    mine = services.flow_create(name="Novo", definition=chain(EXTERNAL, delay(25), text()), author=user)
    with pytest.raises(publishing.NeedsConfirmation) as refused:
        publishing.flow_publish_checked(flow=mine, revision_number=1, user=user)
    assert {w.code for w in refused.value.warnings} == {"policy_window_delay", "policy_same_event"}
    with pytest.raises(publishing.NeedsConfirmation):  # warnings accepted, but no choice for "Antigo"
        publishing.flow_publish_checked(flow=mine, revision_number=1, user=user, accept_warnings=True)
    publishing.flow_publish_checked(flow=mine, revision_number=1, user=user, accept_warnings=True,
                                    decisions={str(other.pk): "replace"})
    other.refresh_from_db()
    mine.refresh_from_db()
    assert mine.status == Flow.Status.ACTIVE and other.status == Flow.Status.ARCHIVED
    publication = FlowPublication.objects.get(flow=mine)
    assert publication.decisions == {str(other.pk): "replace"}
    assert {w["code"] for w in publication.warnings} == {"policy_window_delay", "policy_same_event"}
    assert mine.published_revision.sealed


def test_errors_block_publishing_even_when_warnings_are_accepted():
    user = make_user("ana")
    flow = services.flow_create(name="Campanha", definition=chain(SCHEDULE, text()), author=user)
    with pytest.raises(services.InvalidFlow) as refused:
        publishing.flow_publish_checked(flow=flow, revision_number=1, user=user, accept_warnings=True)
    assert [i.code for i in refused.value.issues] == ["policy_schedule_free_form"]
