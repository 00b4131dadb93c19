"""Periodic jobs: stale runs expire (and their parent subflow goes on), schedule triggers start flows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from flows.models import FlowRun, InboundEvent
from flows.services import contact_events_process, runs_expire_stale, schedules_fire_due
from messaging.models import Tag
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import chain, definition, edge, make_contact, make_flow, node
from tests.flows.helpers import inbound

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_in_english")]


def _waiting_forever_flow(name="espera"):
    return make_flow(chain(node("t", "trigger", event="message", match="keyword", keywords=["oi"]),
                           node("w", "wait_for_reply", timeout=None)), name=name)


def test_a_run_waiting_without_timeout_expires_after_the_limit(contact):
    _waiting_forever_flow()
    inbound(contact, "oi")
    run = FlowRun.objects.get()
    assert run.status == "waiting" and run.wake_at is None
    assert runs_expire_stale(max_wait_days=30) == 0  # too young
    FlowRun.objects.filter(pk=run.pk).update(updated_at=timezone.now() - timedelta(days=31))
    assert runs_expire_stale(max_wait_days=30) == 1
    run.refresh_from_db()
    assert run.status == "expired" and "30 days" in run.end_reason
    assert runs_expire_stale(max_wait_days=30) == 0  # idempotent


def test_runs_with_a_timer_never_expire(contact):
    make_flow(chain(node("t", "trigger", event="message", match="any"),
                    node("d", "delay", mode="duration", duration={"value": 90, "unit": "days"})))
    inbound(contact, "oi")
    FlowRun.objects.update(updated_at=timezone.now() - timedelta(days=60))
    assert runs_expire_stale(max_wait_days=30) == 0


def test_an_expired_subflow_resumes_its_parent_through_failed(contact):
    child = _waiting_forever_flow("filho")
    parent = make_flow(definition(
        [node("t", "trigger", event="external", event_name="go"),
         node("sub", "subflow", flow_id=child.pk, revision="published"),
         node("ok", "end", reason="ok"), node("bad", "end", status="failed", reason="filho expirou")],
        [edge("t", "sub"), edge("sub", "ok", "completed"), edge("sub", "bad", "failed")]), name="pai")
    inbound(contact, "x", kind="external", event="go")
    parent_run = FlowRun.objects.get(flow=parent)
    assert parent_run.status == "waiting" and parent_run.wait_kind == "subflow"
    FlowRun.objects.filter(flow=child).update(updated_at=timezone.now() - timedelta(days=40))
    assert runs_expire_stale(max_wait_days=30) == 1
    parent_run.refresh_from_db()
    assert parent_run.status == "failed" and parent_run.end_reason == "filho expirou"


def test_schedule_trigger_starts_the_flow_once_per_tagged_contact_per_day():
    tag = Tag.objects.create(name="clientes-ativos")
    tagged = make_contact()
    tagged.tags.add(tag)
    untagged = make_contact()
    flow = make_flow(chain(node("t", "trigger", event="schedule",
                                schedule={"time": "09:00", "tag": "clientes-ativos", "timezone": "America/Sao_Paulo",
                                          "weekdays": ["mon", "tue", "wed", "thu", "fri"]}),
                           node("v", "set_variable", assignments=[{"target": "vars.when", "value": "{{trigger.scheduled_for}}"}])))
    sp = ZoneInfo("America/Sao_Paulo")
    monday_0903 = datetime(2026, 11, 23, 9, 3, tzinfo=sp)
    assert schedules_fire_due(now=monday_0903 - timedelta(minutes=10)) == 0  # not yet
    assert schedules_fire_due(now=monday_0903) == 1
    assert schedules_fire_due(now=monday_0903 + timedelta(minutes=2)) == 0  # once per day
    assert schedules_fire_due(now=datetime(2026, 11, 22, 9, 3, tzinfo=sp)) == 0  # Sunday: not a chosen weekday
    contact_events_process(contact_id=tagged.pk)
    run = FlowRun.objects.get(flow=flow)
    assert run.contact == tagged and run.status == "completed"
    assert run.context["vars"]["when"].startswith("2026-11-23T09:00")
    assert not InboundEvent.objects.filter(contact=untagged).exists()


def test_last_error_is_in_scope_only_after_a_failure_port():
    from flows.validation import definition_validate

    defn = definition(
        [node("t", "trigger", event="message", match="any"),
         node("tpl", "send_template", template="x", language="pt_BR"),
         node("oops", "send_message", text="Falhou: {{vars.last_error}}"),
         node("fine", "send_message", text="Ok {{vars.last_error}}")],
        [edge("t", "tpl"), edge("tpl", "oops", "failure"), edge("tpl", "fine", "next")])
    result = definition_validate(defn)
    assert [(i.node_id, i.code) for i in result.issues if not i.code.startswith("template_")] == [
        ("fine", "unknown_variable")]
    assert "vars.last_error" in result.scope["oops"] and "vars.last_error" not in result.scope["fine"]
