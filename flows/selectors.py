"""Reads of the flows app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

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
    from messaging.selectors import message_media

    return {"id": message.pk, "direction": message.direction, "kind": message.kind, "content": message.content,
            "status": message.status, "error": message.error, "created_at": message.created_at.isoformat(),
            "media": message_media(message)}


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


def test_runs_visible(*, user):
    """The Test runs ``user`` may read and drive: the ones they started, or all of them for an admin.

    A Test run is its starter's workbench (what they typed as the customer, the event data they
    pasted, the trace of a draft): colleagues do not watch it by default. Admins see every one, to
    help or to check. The REST API (``/api/test-runs/<id>/`` and its actions) and the websocket
    (``/ws/test-runs/<id>/``) apply the same rule; another user's Test run is a 404 / a refused socket.
    """
    from core.permissions import has_role
    from flows.models import TestRun

    runs = TestRun.objects.all()
    if not user or not user.is_authenticated or not has_role(user, "viewer"):
        return runs.none()
    if has_role(user, "admin"):
        return runs
    return runs.filter(created_by=user)


def test_run_snapshot(*, test, after_message: int = 0, after_step: int = 0,
                      also_messages: Iterable[int] = ()) -> dict[str, Any]:
    """Everything a Test run panel shows: the run, the chat, the step trace (all runs of the test contact).

    ``after_message``/``after_step`` keep only newer rows (the websocket's increments);
    ``also_messages`` adds back earlier messages by id (those still on their way, whose status the
    chat must see change: queued → delivered).
    """
    from django.db.models import Q

    from flows.models import FlowRun, RunStep
    from messaging.models import Message

    test.refresh_from_db(fields=["run", "status"])
    run = FlowRun.objects.filter(pk=test.run_id).first() if test.run_id else None
    # A test contact may be reused by later test runs: only what happened since this one started.
    wanted = Q(pk__gt=after_message)
    if also_messages:
        wanted |= Q(pk__in=list(also_messages))
    messages = Message.objects.filter(wanted, contact_id=test.contact_id,
                                      created_at__gte=test.created_at).order_by("id")
    steps = RunStep.objects.filter(run__contact_id=test.contact_id, pk__gt=after_step,
                                   run__started_at__gte=test.created_at).order_by("id")
    return {"id": test.pk, "status": test.status, "run": run_as_dict(run),
            "messages": [message_as_dict(m) for m in messages], "steps": [step_as_dict(s) for s in steps]}


# --- Runs page (issue 10) -----------------------------------------------------------------------


def runs_filtered(filters: dict[str, Any]):
    """Runs matching the Runs page's filters (already parsed: see ``flows.api.runs.RunFilterSerializer``).

    ``filters``: ``flow`` (id), ``status`` (list), ``since``/``until`` (started_at bounds),
    ``contact`` (part of a phone or a name), ``has_error`` (failed, or any step with an error),
    ``q`` (text in the end reason), ``tests`` (test runs only, else real runs only), ``ids``.
    Every filter is served by an index (see ``FlowRun.Meta.indexes`` and bench/runs_dashboard.py).
    """
    from flows.models import RunStep
    from messaging.models import Contact

    queryset = FlowRun.objects.filter(is_test=bool(filters.get("tests")))
    if filters.get("ids"):
        queryset = queryset.filter(pk__in=filters["ids"])
    if filters.get("flow"):
        queryset = queryset.filter(flow_id=filters["flow"])
    statuses = filters.get("status") or []
    if len(statuses) == 1:
        queryset = queryset.filter(status=statuses[0])
    elif statuses:
        queryset = queryset.filter(status__in=statuses)
    if filters.get("since"):
        queryset = queryset.filter(started_at__gte=filters["since"])
    if filters.get("until"):
        queryset = queryset.filter(started_at__lt=filters["until"])
    contact = (filters.get("contact") or "").strip()
    if contact:
        digits = "".join(c for c in contact if c.isdigit())
        looks_like_phone = digits and len(digits) >= 4 and not any(c.isalpha() for c in contact)
        people = Contact.objects.filter(phone__contains=digits) if looks_like_phone else \
            Contact.objects.filter(name__icontains=contact)
        queryset = queryset.filter(contact_id__in=people.values("id"))
    if filters.get("has_error"):
        # EXISTS probes runstep_errors row by row while the newest runs are read: a page of 50
        # stops early, instead of first collecting every step that ever failed.
        with_errors = RunStep.objects.filter(run_id=OuterRef("pk")).exclude(error="")
        queryset = queryset.filter(Q(status=FlowRun.Status.FAILED) | Exists(with_errors))
    if filters.get("q"):
        # The "<> ''" lets PostgreSQL use the partial trigram index (run_end_reason_trgm).
        queryset = queryset.exclude(end_reason="").filter(end_reason__icontains=filters["q"])
    return queryset


def run_list_rows(queryset):
    """The columns of the Runs page, one query (flow, contact and revision joined)."""
    return queryset.select_related("flow", "contact", "revision").only(
        "id", "status", "current_node", "end_reason", "started_at", "ended_at", "step_count", "is_test", "wait_kind",
        "wake_at", "flow__id", "flow__name", "contact__id", "contact__phone", "contact__name", "revision__id",
        "revision__revision")


def run_detail(*, run_id: int) -> dict[str, Any] | None:
    """Everything the run view shows: the run, its steps, messages, trigger event, audit and revision."""
    from flows.models import RunAction

    # The actions are read before the run: each statement sees its own snapshot, and an action read
    # as "done" must never come with the run as it was before the action (the page would stop
    # following a run that is still moving). Read this way, a pending action may come with a run
    # that has already moved on, which only means one more poll.
    actions = list(RunAction.objects.filter(run_id=run_id).select_related("requested_by").order_by("-id")[:50])
    run = (FlowRun.objects.select_related("flow", "contact", "revision", "trigger_event", "parent_run",
                                          "flow__published_revision").filter(pk=run_id).first())
    if run is None:
        return None
    context = {k: v for k, v in (run.context or {}).items() if not k.startswith("_")}
    steps = list(run.steps.order_by("seq"))
    messages = list(run.messages.order_by("id"))
    event = run.trigger_event
    published = run.flow.published_revision
    return {
        "id": run.pk, "status": run.status, "is_test": run.is_test, "current_node": run.current_node,
        "wait_kind": run.wait_kind, "wake_at": _iso(run.wake_at), "end_reason": run.end_reason,
        "started_at": _iso(run.started_at), "ended_at": _iso(run.ended_at), "step_count": run.step_count,
        "flow": {"id": run.flow_id, "name": run.flow.name,
                 "published_revision": published.revision if published else None},
        "revision": {"id": run.revision_id, "revision": run.revision.revision, "definition": run.revision.definition},
        "contact": {"id": run.contact_id, "phone": run.contact.phone, "name": run.contact.name},
        "parent_run": run.parent_run_id,
        "child_runs": list(run.child_runs.order_by("id").values("id", "status", "flow_id")),
        "vars": context.get("vars") or {}, "trigger": context.get("trigger") or {}, "context": context,
        "trigger_event": {"id": event.pk, "kind": event.kind, "payload": event.payload,
                          "received_at": _iso(event.received_at), "state": event.state} if event else None,
        "steps": [step_as_dict(step) for step in steps],
        "messages": [{**message_as_dict(m), "sent_at": _iso(m.sent_at), "delivered_at": _iso(m.delivered_at),
                      "read_at": _iso(m.read_at), "error_code": m.error_code, "attempts": m.attempts}
                     for m in messages],
        "actions": [run_action_as_dict(a) for a in actions],
    }


def run_action_as_dict(action) -> dict[str, Any]:
    return {"id": action.id, "run_id": action.run_id, "action": action.action, "state": action.state,
            "result": action.result, "options": action.options,
            "requested_by": action.requested_by.username if action.requested_by else None,
            "requested_at": _iso(action.requested_at), "applied_at": _iso(action.applied_at),
            "new_run": action.new_run_id, "batch": action.batch_id}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def flows_using_media(media_id: int) -> list[dict[str, Any]]:
    """Flows whose draft or published revision names this media library file (send_media, template
    header media): ``[{"flow", "name", "nodes", "published"}]``. Registered with ``messaging.media``."""
    from django.db.models import OuterRef, Subquery

    from flows.models import Flow, FlowRevision

    latest = FlowRevision.objects.filter(flow=OuterRef("pk")).order_by("-revision").values("pk")[:1]
    rows = list(Flow.objects.annotate(latest_id=Subquery(latest))
                .values_list("pk", "name", "latest_id", "published_revision_id"))
    ids = {pk for row in rows for pk in row[2:] if pk}
    definitions = dict(FlowRevision.objects.filter(pk__in=ids).values_list("pk", "definition"))
    used = []
    for flow_id, name, latest_id, published_id in rows:
        nodes = sorted(set(_media_nodes(definitions.get(latest_id), media_id))
                       | set(_media_nodes(definitions.get(published_id), media_id)))
        if nodes:
            used.append({"flow": flow_id, "name": name, "nodes": nodes,
                         "published": bool(_media_nodes(definitions.get(published_id), media_id))})
    return used


def _media_nodes(definition: Any, media_id: int) -> list[str]:
    found = []
    for node in (definition or {}).get("nodes") or []:
        config = node.get("config") or {}
        header = ((config.get("parameters") or {}).get("header_media") or {}) if isinstance(
            config.get("parameters"), dict) else {}
        if config.get("media") == media_id or header.get("media") == media_id:
            found.append(str(node.get("id")))
    return found
