"""Reads of the flows app."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from flows.models import Flow, FlowRun
from flows.triggers import flows_triggered_by  # noqa: F401  (moved; the name is kept here)


def flow_list(*, search: str = "", status: str = ""):
    queryset = Flow.objects.select_related("published_revision").annotate(
        runs_active=Count("runs", filter=Q(runs__status=FlowRun.Status.ACTIVE, runs__is_test=False)),
        runs_waiting=Count("runs", filter=Q(runs__status=FlowRun.Status.WAITING, runs__is_test=False)),
        runs_completed=Count("runs", filter=Q(runs__status=FlowRun.Status.COMPLETED, runs__is_test=False)),
        runs_failed=Count("runs", filter=Q(runs__status=FlowRun.Status.FAILED, runs__is_test=False)),
        runs_total=Count("runs", filter=Q(runs__is_test=False)),
    )
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if status:
        queryset = queryset.filter(status=status)
    else:
        queryset = queryset.exclude(status=Flow.Status.ARCHIVED)
    return queryset.order_by("name")


def message_as_dict(message) -> dict[str, Any]:
    return {"id": message.pk, "direction": message.direction, "kind": message.kind, "content": message.content,
            "status": message.status, "error": message.error, "created_at": message.created_at.isoformat()}


def step_as_dict(step) -> dict[str, Any]:
    return {"id": step.pk, "run_id": step.run_id, "seq": step.seq, "node_id": step.node_id,
            "node_type": step.node_type, "port": step.port, "outcome": step.outcome, "input": step.input,
            "output": step.output, "error": step.error, "started_at": step.started_at.isoformat(),
            "duration_us": step.duration_us}


def run_as_dict(run) -> dict[str, Any] | None:
    if run is None:
        return None
    context = {k: v for k, v in (run.context or {}).items() if not k.startswith("_")}
    return {"id": run.pk, "status": run.status, "current_node": run.current_node, "context": context,
            "wake_at": run.wake_at.isoformat() if run.wake_at else None, "wait_kind": run.wait_kind,
            "end_reason": run.end_reason}


def test_run_snapshot(*, test, after_message: int = 0, after_step: int = 0) -> dict[str, Any]:
    """Everything a Test run panel shows: the run, the chat, the step trace (all runs of the test contact)."""
    from flows.models import FlowRun, RunStep
    from messaging.models import Message

    test.refresh_from_db(fields=["run", "status"])
    run = FlowRun.objects.filter(pk=test.run_id).first() if test.run_id else None
    messages = Message.objects.filter(contact_id=test.contact_id, pk__gt=after_message).order_by("id")
    steps = RunStep.objects.filter(run__contact_id=test.contact_id, pk__gt=after_step).order_by("id")
    return {"id": test.pk, "status": test.status, "run": run_as_dict(run),
            "messages": [message_as_dict(m) for m in messages], "steps": [step_as_dict(s) for s in steps]}
