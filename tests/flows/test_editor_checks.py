"""The editor's second-pass checks: template parameters, suggestions, declared trigger data,
autosave sessions, the revision diff, test contacts and production-shaped test messages."""

from __future__ import annotations

import pytest

from flows import drafts, services, testruns
from flows.diff import definition_diff
from flows.expressions import filter_suggestion
from flows.validation import definition_validate
from tests.factories import chain, make_channel, make_template, make_user, node

pytestmark = pytest.mark.django_db

T = node("t", "trigger", event="message", match="any")
CALL = node("t", "trigger", event="external", event_name="call.finished",
            fields=[{"name": "call_result", "type": "text", "sample": "no_answer"},
                    {"name": "customer_name", "type": "text", "sample": "Maria"}])


def issues_of(defn, code=None):
    found = definition_validate(defn).issues
    return [i for i in found if code is None or i.code == code]


def template_node(*params, name="retorno_ligacao", language="pt_BR"):
    return node("s", "send_template", template=name, language=language, parameters={"body": list(params)})


def test_an_empty_template_variable_is_an_error_on_its_field():
    make_template("retorno_ligacao", body="Olá {{1}}, tentamos falar com você.")
    [found] = issues_of(chain(T, template_node("")), "template_param_empty")
    assert found.node_id == "s" and found.field == "parameters.body.0"
    assert found.message["pt-BR"].startswith("A variável {{1}} do template está vazia")
    assert issues_of(chain(T, template_node("{{contact.first_name}}"))) == []


def test_template_parameters_are_counted_against_the_template():
    make_template("pedido", body="Olá {{1}}, o pedido {{2}} saiu.")
    [missing] = issues_of(chain(T, template_node("{{contact.name}}", name="pedido")), "template_param_missing")
    assert missing.field == "parameters.body.1" and "{{2}}" in missing.message["pt-BR"]
    [extra] = issues_of(chain(T, template_node("a", "b", "c", name="pedido")), "template_param_extra")
    assert "só 2" in extra.message["pt-BR"]


def test_unknown_template_and_unknown_language():
    make_template("retorno_ligacao", language="pt_BR")
    [unknown] = issues_of(chain(T, template_node("x", name="nao_existe")), "template_unknown")
    assert unknown.field == "template"
    [language] = issues_of(chain(T, template_node("x", language="en_US")), "template_language_unknown")
    assert "pt_BR" in language.message["pt-BR"] and language.field == "language"


def test_a_pending_template_is_a_warning_not_an_error():
    make_template("novo", status="PENDING", body="Oi")
    result = definition_validate(chain(T, node("s", "send_template", template="novo", language="pt_BR")))
    assert result.valid and [w.code for w in result.warnings] == ["template_not_approved"]


def test_unknown_variables_get_a_suggestion():
    defn = chain(CALL, template_node("{{trigger.custmer_name}}"))
    [found] = issues_of(defn, "unknown_variable")
    assert found.message["pt-BR"] == ("Variável desconhecida aqui: “trigger.custmer_name”. "
                                      "Você quis dizer “trigger.customer_name”?")
    assert found.message["en"].endswith("Did you mean “trigger.customer_name”?")
    assert found.params["suggested"] == "trigger.customer_name"


def test_declared_event_fields_are_in_scope_and_typos_in_message_fields_are_flagged():
    result = definition_validate(chain(CALL, template_node("{{trigger.call_result}}")))
    assert "trigger.call_result" in result.scope["s"] and "trigger.event" in result.scope["s"]
    assert result.variables["trigger.call_result"]["sample"] == "no_answer"
    [typo] = issues_of(chain(T, node("m", "send_message", text="{{trigger.txt}}")), "unknown_variable")
    assert "trigger.text" in typo.message["pt-BR"]


def test_expression_errors_are_readable_with_their_position():
    [found] = issues_of(chain(T, node("m", "send_message", text="Oi {{contact.name | maiusculas}}")))
    assert found.code == "expr_unknown_filter"
    assert "Você quis dizer “upper”?" in found.message["pt-BR"] and "(posição 4)" in found.message["pt-BR"]
    assert filter_suggestion("minúsculas") == "lower" and filter_suggestion("uper") == "upper"
    [unclosed] = issues_of(chain(T, node("m", "send_message", text="Olá {{contact.name")))
    assert unclosed.message["pt-BR"] == "O “{{” da posição 5 não foi fechado com “}}”."


def test_friendly_messages_never_repeat_a_long_value():
    [found] = issues_of(chain(T, node("m", "send_message", text="x" * 6000)))
    assert found.code == "too_long" and found.message["pt-BR"] == "“Texto” passa do limite de 4096 caracteres (tem 6000)."


def test_autosaves_of_one_session_coalesce_into_one_revision():
    ana = make_user("ana")
    flow = services.flow_create(name="F", definition=chain(T), author=ana)
    first = drafts.revision_autosave(flow=flow, definition=chain(T, node("m", "send_message", text="a")),
                                     base_revision=1, base_saves=None, session="tab-a", author=ana)
    again = drafts.revision_autosave(flow=flow, definition=chain(T, node("m", "send_message", text="ab")),
                                     base_revision=first.revision, base_saves=first.saves, session="tab-a", author=ana)
    assert (first.revision, again.revision, again.saves) == (2, 2, 2) and not again.sealed
    assert flow.revisions.count() == 2 and flow.latest_revision.definition["nodes"][1]["config"]["text"] == "ab"
    # Another tab that saw saves=1 is refused; after it reloads, it seals the first session's revision.
    with pytest.raises(services.StaleRevision) as stale:
        drafts.revision_autosave(flow=flow, definition=chain(T), base_revision=2, base_saves=1, session="tab-b",
                                 author=ana)
    assert stale.value.latest.session == "tab-a"
    third = drafts.revision_autosave(flow=flow, definition=chain(T), base_revision=2, base_saves=2, session="tab-b",
                                     author=ana)
    assert third.revision == 3 and flow.revisions.get(revision=2).sealed
    # An explicit save (checkpoint) seals the session's revision with its comment.
    sealed = drafts.revision_autosave(flow=flow, definition=chain(T), base_revision=3, base_saves=1, session="tab-b",
                                      author=ana, comment="Versão revisada", checkpoint=True)
    assert sealed.revision == 3 and sealed.sealed and sealed.comment == "Versão revisada"
    # A checkpoint with other content (a restore) keeps the session's edits as their own revision.
    edited = drafts.revision_autosave(flow=flow, definition=chain(T, node("x", "end")), base_revision=3,
                                      base_saves=sealed.saves, session="tab-b", author=ana)
    restored = drafts.revision_autosave(flow=flow, definition=chain(T), base_revision=edited.revision,
                                        base_saves=edited.saves, session="tab-b", author=ana,
                                        comment="Restaurado da revisão 3", checkpoint=True)
    assert (edited.revision, restored.revision) == (4, 5)
    assert flow.revisions.get(revision=4).sealed and len(flow.revisions.get(revision=4).definition["nodes"]) == 2


def test_the_diff_lists_blocks_added_removed_and_changed():
    old = chain(T, node("m", "send_message", text="a"), node("x", "end"))
    named = {**node("m", "send_message", text="b"), "name": "Boas-vindas"}
    new = chain(T, named, node("n", "delay", mode="duration", duration={"value": 1, "unit": "hours"}))
    diff = definition_diff(old, new)
    assert [a["id"] for a in diff["added"]] == ["n"] and [r["id"] for r in diff["removed"]] == ["x"]
    assert diff["changed"] == [{"id": "m", "type": "send_message", "name": "Boas-vindas", "fields": ["name", "text"]}]
    assert ["m", "next", "n"] in diff["edges_added"]


def test_test_messages_are_normalized_as_production_does():
    make_channel()
    ana = make_user("ana")
    flow = services.flow_create(name="F", definition=chain(T, node("w", "wait_for_reply")), author=ana)
    contact = testruns.test_contact_create(name="Cliente Teste", attributes={"plano": "ouro"}, opted_in=True, user=ana)
    assert contact.is_test and contact.consent_state("marketing") == "opted_in"
    test = testruns.test_run_start(flow=flow, contact=contact, user=ana)
    event = testruns.test_run_inbound(test=test, text="oi")
    assert event.payload["conversation_id"] and event.payload["channel_id"] == contact.channel_id
    assert event.payload["type"] == "text" and event.payload["contact_name"] == "Cliente Teste"
    tap = testruns.test_run_inbound(test=test, reply_id="opt_2", reply_title="Segunda", reply_kind="list")
    assert tap.kind == "interactive_reply" and tap.payload["reply_kind"] == "list"
    assert tap.payload["interactive_type"] == "list_reply"
    # Reusing the contact stops its previous test run.
    second = testruns.test_run_start(flow=flow, contact=contact, user=ana)
    test.refresh_from_db()
    assert test.status == "stopped" and second.status == "open"
    assert flow.latest_revision.sealed  # a test run pins a sealed revision


def test_a_real_customers_phone_cannot_become_a_test_contact():
    from tests.factories import make_contact

    real = make_contact(phone="+5511987650000")
    with pytest.raises(testruns.TestContactError) as refused:
        testruns.test_contact_create(phone=real.phone)
    assert refused.value.field == "phone" and "contato real" in refused.value.message["pt-BR"]


def test_external_test_payload_is_shaped_like_the_events_api():
    ana = make_user("ana")
    flow = services.flow_create(name="F", definition=chain(CALL, node("x", "end")), author=ana)
    test = testruns.test_run_start(flow=flow, payload={"call_result": "no_answer"}, user=ana)
    assert test.run.context["trigger"] == {"event": "call.finished", "call_result": "no_answer", "kind": "external"}
