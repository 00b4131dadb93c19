"""The http_request node against a real local company API: success and mapping, 4xx, 5xx then
success, slow, oversized, credentials from the vault — and the secret never in logs or traces."""

from __future__ import annotations

import json
import logging

import pytest

from flows.jsonpath import MISSING, JSONPathError, get, parse
from flows.models import RunStep
from flows.nodes.base import Next, StepError
from integrations.models import Credential
from integrations.vault.services import credential_create
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import chain, definition, edge, node
from tests.integrations.conftest import ERP_TOKEN, execute, run_flow

pytestmark = pytest.mark.usefixtures("run_in_english")


@pytest.fixture
def erp_credential(db):
    return credential_create(name="erp", kind=Credential.Kind.BEARER, secret=ERP_TOKEN)


def test_success_maps_response_fields_into_variables(flow_run, company_api, allow_local):
    outcome = execute(flow_run, "http_request", {
        "method": "GET", "url": company_api.url + "/orders/{{trigger.order_id}}",
        "response_mapping": [{"variable": "order_status", "path": "$.status"},
                             {"variable": "first_sku", "path": "$.items[0].sku"},
                             {"variable": "skus", "path": "$.items[*].sku"},
                             {"variable": "tier", "path": "customer.tier"},
                             {"variable": "coupon", "path": "$.coupon", "default": "none"}],
        "save_response_as": "order",
    })
    assert isinstance(outcome, Next) and outcome.port == "success"
    expected = {"order_status": "shipped", "first_sku": "A1", "skus": ["A1", "B7"], "tier": "premium", "coupon": "none"}
    assert {k: flow_run.context["vars"][k] for k in expected} == expected
    assert flow_run.context["vars"]["order"]["status"] == 200
    assert company_api.hits("/orders/123")
    assert outcome.output["status"] == 200 and outcome.output["attempts"] == 1


def test_4xx_takes_the_failure_port_with_the_status(flow_run, company_api, allow_local):
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/404", "retries": 3})
    assert info.value.code == "http_status" and info.value.details["status"] == 404
    assert "404" in info.value.message
    assert len(company_api.hits("/orders/404")) == 1  # 4xx is not retried


def test_4xx_can_be_accepted_as_success(flow_run, company_api, allow_local):
    outcome = execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/404",
                                                 "fail_on_error": False, "save_response_as": "resp"})
    assert outcome.port == "success" and flow_run.context["vars"]["resp"]["status"] == 404


def test_5xx_is_retried_with_backoff_until_success(flow_run, company_api, allow_local):
    company_api.state["fail_times"] = 2
    outcome = execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/flaky", "retries": 2,
                                                 "response_mapping": [{"variable": "attempt", "path": "$.attempt"}]})
    assert outcome.output["attempts"] == 3
    assert flow_run.context["vars"]["attempt"] == 3
    assert len(company_api.hits("/flaky")) == 3


def test_5xx_after_all_retries_fails_clearly(flow_run, company_api, allow_local):
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/always-500", "retries": 1})
    assert info.value.code == "http_status"
    assert "after 2 attempts" in info.value.message
    assert len(company_api.hits("/always-500")) == 2


def test_slow_answer_times_out(flow_run, company_api, allow_local):
    company_api.state["delay"] = 2.5
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/slow", "timeout_seconds": 1,
                                           "retries": 1})
    assert info.value.code == "http_timeout"
    assert "did not answer within 1 s" in info.value.message
    assert len(company_api.hits("/slow")) == 2  # timeouts are retried


@pytest.mark.parametrize("hide_length", [False, True])
def test_oversized_response_is_refused(flow_run, company_api, allow_local, hide_length):
    company_api.state.update(big_size=300 * 1024, hide_length=hide_length)
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/big", "max_response_kb": 64})
    assert info.value.code == "http_too_large"


def test_json_body_keeps_types_and_form_body(flow_run, company_api, allow_local):
    flow_run.context["vars"]["qty"] = 3
    outcome = execute(flow_run, "http_request", {
        "method": "POST", "url": company_api.url + "/echo", "body_type": "json",
        "body": {"order": "{{trigger.order_id}}", "qty": "{{vars.qty}}", "who": "{{contact.name | upper}}",
                 "tags": ["vip", "{{contact.attributes.tier}}"]},
        "headers": {"X-Trace": "run-{{run.id}}"}, "query": {"src": "fluxo"},
        "response_mapping": [{"variable": "echo", "path": "$"}],
    })
    echo = flow_run.context["vars"]["echo"]
    assert json.loads(echo["body"]) == {"order": "123", "qty": 3, "who": "MARIA SILVA", "tags": ["vip", "premium"]}
    assert echo["headers"]["x-trace"] == f"run-{flow_run.pk}"
    assert echo["query"] == {"src": ["fluxo"]}
    assert echo["headers"]["idempotency-key"] == f"run:{flow_run.pk}:step:1"
    assert outcome.port == "success"
    execute(flow_run, "http_request", {"method": "POST", "url": company_api.url + "/echo", "body_type": "form",
                                       "body": {"name": "{{contact.first_name}}"},
                                       "response_mapping": [{"variable": "echo", "path": "$.body"}]})
    assert flow_run.context["vars"]["echo"] == "name=Maria"


@pytest.mark.parametrize(("kind", "extra", "check"), [
    ("bearer", {}, lambda r: r["headers"]["authorization"] == f"Bearer {ERP_TOKEN}"),
    ("header", {"header_name": "X-Api-Key"}, lambda r: r["headers"]["x-api-key"] == ERP_TOKEN),
    ("query", {"query_param": "token"}, lambda r: r["query"] == {"token": [ERP_TOKEN]}),
    ("basic", {"username": "fluxo"}, lambda r: r["headers"]["authorization"].startswith("Basic ")),
])
def test_credentials_are_applied_and_never_shown(flow_run, company_api, allow_local, caplog, kind, extra, check):
    credential_create(name="erp", kind=kind, secret=ERP_TOKEN, **extra)
    caplog.set_level(logging.DEBUG)
    outcome = execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/1",
                                                 "credential": "erp"})
    assert check(company_api.hits("/orders/1")[0])
    assert ERP_TOKEN not in json.dumps(outcome.output, ensure_ascii=False)
    assert ERP_TOKEN not in caplog.text
    assert "••••" in json.dumps(outcome.output["request"], ensure_ascii=False)


def test_credential_header_is_not_sent_to_another_origin_on_redirect(flow_run, company_api, erp_credential, fake_dns,
                                                                     settings):
    fake_dns["erp.test"] = ["127.0.0.1"]
    fake_dns["other.test"] = ["127.0.0.1"]
    settings.FLUXO_HTTP_ALLOWLIST = ["erp.test", "other.test"]
    execute(flow_run, "http_request", {
        "method": "GET", "credential": "erp",
        "url": f"http://erp.test:{company_api.port}/redirect?to=http://other.test:{company_api.port}/echo"})
    first, second = company_api.requests
    assert first["headers"]["authorization"] == f"Bearer {ERP_TOKEN}"
    assert "authorization" not in second["headers"]


def test_missing_credential_is_a_clear_error(flow_run, company_api, allow_local):
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/1", "credential": "nope"})
    assert info.value.code == "credential_missing" and "nope" in info.value.message
    assert company_api.requests == []


def test_credential_allowed_hosts_widen_the_guard_for_that_credential_only(flow_run, company_api):
    credential_create(name="onprem", kind="bearer", secret=ERP_TOKEN, allowed_hosts=["127.0.0.1"])
    ok = execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/1",
                                            "credential": "onprem"})
    assert ok.port == "success"
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/1"})
    assert info.value.code == "http_blocked"


def test_required_field_missing_from_the_response(flow_run, company_api, allow_local):
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/1",
                                           "response_mapping": [{"variable": "x", "path": "$.nope", "required": True}]})
    assert info.value.code == "http_missing_field"


def test_through_the_interpreter_secret_stays_out_of_steps_and_logs(db, company_api, allow_local, erp_credential, caplog):
    from tests.factories import make_contact

    caplog.set_level(logging.DEBUG)
    contact = make_contact()
    defn = definition(
        [node("t", "trigger", event="message", match="any"),
         node("call", "http_request", method="GET", url=company_api.url + "/orders/404?token={{trigger.text}}",
              credential="erp", retries=0),
         node("ok", "end"), node("ko", "end", status="completed", reason="erp said no")],
        [edge("t", "call"), edge("call", "ok", "success"), edge("call", "ko", "failure")],
    )
    run = run_flow(defn, contact, trigger={"text": "abc"})
    steps = list(RunStep.objects.filter(run=run).order_by("seq"))
    assert [(s.node_id, s.outcome) for s in steps] == [("t", "next"), ("call", "wait"), ("call", "error"), ("ko", "end")]
    assert steps[2].port == "failure" and "404" in steps[2].error
    assert run.context["vars"]["last_error"].endswith("answered 404")
    dumped = json.dumps([[s.input, s.output, s.error] for s in steps]) + json.dumps(run.context)
    assert ERP_TOKEN not in dumped and ERP_TOKEN not in caplog.text
    assert company_api.hits("/orders/404")[0]["headers"]["authorization"] == f"Bearer {ERP_TOKEN}"


def test_node_definition_validation(db):
    from flows.validation import definition_validate

    bad = chain(node("t", "trigger", event="message", match="any"),
                node("call", "http_request", method="GET", url="https://erp.example.com/{{vars.nope}}",
                     body_type="json", body={"a": 1}, credential="ghost",
                     response_mapping=[{"variable": "x", "path": "$.a[?(@.b)]"}]))
    codes = {(i.code, i.field) for i in definition_validate(bad).issues}
    assert ("invalid_json_path", "response_mapping.0.path") in codes
    assert ("body_with_get", "body_type") in codes
    assert ("credential_unknown", "credential") in codes
    good = definition([node("t", "trigger", event="message", match="any"),
                       node("call", "http_request", method="GET", url="https://erp.example.com/o/{{trigger.text}}",
                            response_mapping=[{"variable": "status", "path": "$.status"}]),
                       node("say", "send_message", text="Status: {{vars.status}}"),
                       node("sorry", "send_message", text="Não consegui consultar agora.")],
                      [edge("t", "call"), edge("call", "say", "success"), edge("call", "sorry", "failure")])
    result = definition_validate(good)
    assert result.valid, [i.as_dict() for i in result.issues]


@pytest.mark.parametrize(("path", "expected"), [
    ("$.a.b", 1), ("a.b", 1), ("$['a']['b']", 1), ("$.list[-1]", 30), ("$.list[*]", [10, 20, 30]),
    ("$.rows[*].id", ["x", "y"]), ("$.list.length", 3), ("$", {"a": {"b": 1}, "list": [10, 20, 30],
                                                              "rows": [{"id": "x"}, {"id": "y"}, {"z": 1}]}),
])
def test_jsonpath_subset(path, expected):
    doc = {"a": {"b": 1}, "list": [10, 20, 30], "rows": [{"id": "x"}, {"id": "y"}, {"z": 1}]}
    assert get(doc, path) == expected


def test_jsonpath_missing_and_invalid():
    assert get({"a": 1}, "$.b") is MISSING
    assert get({"a": [1]}, "$.a[5]") is MISSING
    for bad in ("$..a", "$.a[?(@.x)]", "$.a[", "$.a b"):
        with pytest.raises(JSONPathError):
            parse(bad)


def test_connection_errors_never_echo_the_url_and_its_secret(flow_run, allow_local):
    import socket

    awkward = "tok/with+special=chars&more-0123456789"
    credential_create(name="q", kind="query", secret=awkward, query_param="key")
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": f"http://127.0.0.1:{port}/x", "credential": "q",
                                           "retries": 1})
    assert info.value.code == "http_connection" and "connection refused" in info.value.message
    from urllib.parse import quote, quote_plus

    text = info.value.message + json.dumps(info.value.details, ensure_ascii=False)
    for form in (awkward, quote(awkward), quote_plus(awkward), quote(awkward, safe="")):
        assert form not in text


def test_retries_stop_at_the_total_time_budget(flow_run, company_api, allow_local, settings):
    settings.FLUXO_HTTP_MAX_TOTAL_SECONDS = 1.5
    company_api.state["delay"] = 1.2
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/slow", "timeout_seconds": 1,
                                           "retries": 5})
    assert info.value.code == "http_timeout"
    assert len(company_api.hits("/slow")) == 1 and "after 1 attempt" in info.value.message


def test_failure_keeps_the_status_for_the_failure_path(flow_run, company_api, allow_local):
    with pytest.raises(StepError):
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/404",
                                           "save_response_as": "resp"})
    assert flow_run.context["vars"]["resp"] == {"status": 404, "body": None, "error": "http_status"}


def test_unknown_host_name_fails_clearly(flow_run, fake_dns):
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": "http://erp.nowhere.test/orders/1", "retries": 0})
    assert info.value.code == "http_connection" and "could not be resolved" in info.value.message


def test_percent_encoded_query_secret_is_masked_in_debug_logs(flow_run, company_api, allow_local, caplog):
    from urllib.parse import quote_plus

    from core.logging import MaskSecretsFilter

    awkward = "k3y/with+plus=and&amp-0123456789"
    credential_create(name="q2", kind="query", secret=awkward, query_param="key")
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(MaskSecretsFilter())  # the filter production log handlers carry
    execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/1", "credential": "q2"})
    assert company_api.hits("/orders/1")[0]["query"] == {"key": [awkward]}
    assert quote_plus(awkward) not in caplog.text and awkward not in caplog.text
    assert "urllib3" in caplog.text  # the library's own request line was captured, and masked


def test_an_api_echoing_the_token_back_does_not_leak_it_into_the_trace(db, company_api, allow_local, erp_credential):
    from tests.factories import make_contact

    defn = definition([node("t", "trigger", event="message", match="any"),
                       node("call", "http_request", method="POST", url=company_api.url + "/echo", credential="erp",
                            body_type="json", body={"hello": "world"}),
                       node("ok", "end"), node("ko", "end")],
                      [edge("t", "call"), edge("call", "ok", "success"), edge("call", "ko", "failure")])
    run = run_flow(defn, make_contact())
    step = RunStep.objects.exclude(outcome="wait").get(run=run, node_id="call")  # the answered call
    assert step.port == "success" and "authorization" in step.output["body_preview"]
    assert ERP_TOKEN not in json.dumps(step.output, ensure_ascii=False)


def test_variables_stay_small(flow_run, company_api, allow_local):
    company_api.state.update(big_size=200 * 1024)
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/big", "max_response_kb": 512,
                                           "save_response_as": "everything"})
    assert info.value.code == "http_variable_too_large" and "map only the fields" in info.value.message
    assert "everything" not in flow_run.context["vars"]


@pytest.mark.parametrize("name", ["Evil\r\nX-Injected: 1", "Ana\nSet-Cookie: a=b"])
def test_header_injection_from_contact_data_is_refused(flow_run, company_api, allow_local, name):
    flow_run.contact.name = name
    flow_run.contact.save()
    with pytest.raises(StepError) as info:
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/echo",
                                           "headers": {"X-Customer": "{{contact.name}}"}})
    assert info.value.code == "http_bad_header"
    assert company_api.requests == []


def test_url_with_a_line_break_cannot_inject_a_header(flow_run, company_api, allow_local):
    flow_run.context["vars"]["path"] = "1 HTTP/1.1\r\nHost: evil"
    try:
        execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/{{vars.path}}"})
    except StepError as exc:  # refusing it is fine too
        assert exc.code in ("http_bad_request", "http_bad_url")
    for request in company_api.requests:
        assert request["headers"]["host"] == f"127.0.0.1:{company_api.port}"
        assert "\r" not in request["path"] and "\n" not in request["path"]


def test_multipart_forwards_a_received_file_to_the_company_system(flow_run, company_api, allow_local):
    """The customer's document goes to the ERP as a file (multipart), from its {{trigger.media.url}} link."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from messaging.media import media_facts, media_library_create
    from tests.messaging.fake_graph import parse_multipart

    photo = b"%PDF-1.4 nota fiscal " + b"0" * 300  # text bytes: the fake ERP's /echo decodes the body
    media = media_library_create(upload=SimpleUploadedFile("nota.pdf", photo, content_type="application/pdf"),
                                 direction="in", provider_media_id="wa-1", channel=flow_run.contact.channel)
    flow_run.context["trigger"]["media"] = media_facts(media)
    outcome = execute(flow_run, "http_request", {
        "method": "POST", "url": company_api.url + "/echo", "body_type": "multipart",
        "body": {"order": "{{trigger.order_id}}"}, "files": {"attachment": "{{trigger.media.url}}"}})
    assert isinstance(outcome, Next) and outcome.port == "success", outcome
    [sent] = company_api.hits("/echo")
    fields = parse_multipart(sent["headers"]["content-type"], sent["body"])
    assert fields["attachment"] == ("nota.pdf", "application/pdf", photo)
    assert fields["order"][2] == b"123"


def test_multipart_with_an_unknown_file_takes_the_failure_port(flow_run, company_api, allow_local):
    with pytest.raises(StepError) as exc:
        execute(flow_run, "http_request", {
            "method": "POST", "url": company_api.url + "/echo", "body_type": "multipart",
            "files": {"attachment": "https://elsewhere.example/x.jpg"}})
    assert exc.value.code == "http_file_missing" and "not a Fluxo file link" in exc.value.message
    assert not company_api.hits("/echo")
