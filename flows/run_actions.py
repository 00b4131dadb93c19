"""Operators' actions on runs: cancel a waiting run, retry a failed step, restart from the trigger.

An action is never applied by the web request that asks for it. The request records a
:class:`~flows.models.RunAction` (who, when, what: the audit) and a ``run_control`` event of the
run's contact (``core.inbox.event_record``); the contact's event processor applies it with
:func:`run_control_apply`, under the contact's row lock and in order with the contact's other
events, exactly like a reply or a timer. So an operator's retry can never race the customer's
answer or a firing timeout. Bulk actions record one action and one event per run, from a task.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.inbox import event_record
from flows.engine.graph import compiled_revision
from flows.models import FlowRun, InboundEvent, RunAction, RunActionBatch

logger = logging.getLogger(__name__)

RUN_CONTROL = "run_control"

# Which runs each action applies to.
ELIGIBLE: dict[str, tuple[str, ...]] = {
    RunAction.Action.CANCEL: (FlowRun.Status.WAITING, FlowRun.Status.ACTIVE),
    RunAction.Action.RETRY: (FlowRun.Status.FAILED,),
    RunAction.Action.RESTART: (FlowRun.Status.FAILED, FlowRun.Status.CANCELLED, FlowRun.Status.EXPIRED),
}


class ActionRefused(Exception):
    """The action does not apply to this run (already ended, not failed, a test run, ...)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _who(user) -> str:
    return (getattr(user, "username", "") or _("someone")) if user is not None else _("someone")


def run_action_check(*, run: FlowRun, action: str) -> None:
    """Raise :class:`ActionRefused` when ``action`` cannot apply to ``run`` as it stands now."""
    if action not in ELIGIBLE:
        raise ActionRefused("unknown_action", _("unknown action '%(action)s'") % {"action": action})
    if run.is_test:
        raise ActionRefused("test_run", _("test runs are controlled from the editor's Test run panel"))
    if run.status not in ELIGIBLE[action]:
        allowed = ", ".join(str(FlowRun.Status(s).label).lower() for s in ELIGIBLE[action])
        raise ActionRefused("not_applicable", _past(action) % {"state": str(FlowRun.Status(run.status).label).lower(),
                                                               "allowed": allowed})


def _past(action: str) -> str:
    """The refusal of ``action`` on a run in the wrong state (placeholders: state, allowed)."""
    return {"cancel": _("a run that is %(state)s cannot be cancelled (only %(allowed)s runs)"),
            "retry": _("a run that is %(state)s cannot be retried (only %(allowed)s runs)"),
            "restart": _("a run that is %(state)s cannot be restarted (only %(allowed)s runs)")}[action]


def _record(*, run: FlowRun, action: str, user, options: dict[str, Any], batch: RunActionBatch | None) -> RunAction:
    record = RunAction.objects.create(run=run, action=action, options=options, requested_by=user, batch=batch)
    event, _ = event_record(kind=RUN_CONTROL, dedupe_key=f"run_control:{record.pk}", contact=run.contact,
                            payload={"type": RUN_CONTROL, "action": action, "run_id": run.pk, "action_id": record.pk,
                                     "options": options, "by": _who(user)})
    record.event = event
    record.save(update_fields=["event"])
    return record


@transaction.atomic
def run_action_request(*, run: FlowRun, action: str, user=None, options: dict[str, Any] | None = None) -> RunAction:
    """Ask for ``action`` on ``run``: audit it and queue it in the contact's order. Raises ActionRefused."""
    run_action_check(run=run, action=action)
    return _record(run=run, action=action, user=user, options=_clean_options(options), batch=None)


def _clean_options(options: dict[str, Any] | None) -> dict[str, Any]:
    return {"use_published": bool((options or {}).get("use_published", True))}


def bulk_limit() -> int:
    return int(getattr(settings, "FLUXO_RUN_BULK_MAX", 10_000))


def run_action_batch_count(*, action: str, filters: dict[str, Any]) -> int:
    """How many runs matching ``filters`` can take ``action`` (raises ActionRefused: none, too many)."""
    from flows.selectors import runs_filtered

    if action not in ELIGIBLE:
        raise ActionRefused("unknown_action", _("unknown action '%(action)s'") % {"action": action})
    if filters.get("tests"):
        raise ActionRefused("test_run", _("test runs are controlled from the editor's Test run panel"))
    limit = bulk_limit()
    total = runs_filtered(filters).filter(status__in=ELIGIBLE[action])[: limit + 1].count()
    if total > limit:
        raise ActionRefused("too_many", _("the selection has more than %(limit)s runs: narrow the filters")
                            % {"limit": limit})
    if total == 0:
        raise ActionRefused("nothing_selected", _("no run in the selection can take this action"))
    return total


@transaction.atomic
def run_action_batch_request(*, action: str, filters: dict[str, Any], user=None,
                             options: dict[str, Any] | None = None) -> RunActionBatch:
    """Ask for ``action`` on every eligible run matching ``filters`` (the Runs page's filters).

    The runs are counted now (at most :func:`bulk_limit`, else ActionRefused) and recorded by a
    task, one audited action and one event per run.
    """
    total = run_action_batch_count(action=action, filters=filters)
    batch = RunActionBatch.objects.create(action=action, options=_clean_options(options), filters=filters,
                                          requested_by=user, total=total)
    from flows.monitoring_tasks import run_action_batch_record

    transaction.on_commit(lambda: run_action_batch_record.delay(batch.pk))
    return batch


def run_action_batch_record(*, batch_id: int, chunk: int = 500) -> int:
    """Record the actions of a bulk request (idempotent: runs already recorded are skipped)."""
    from flows.selectors import runs_filtered

    batch = RunActionBatch.objects.select_related("requested_by").get(pk=batch_id)
    selection = runs_filtered(batch.filters).filter(status__in=ELIGIBLE[batch.action]).select_related("contact")
    done = set(batch.actions.values_list("run_id", flat=True))
    recorded = len(done)
    before = None
    while recorded < batch.total:
        page = selection.order_by("-id")
        if before is not None:
            page = page.filter(id__lt=before)
        runs = list(page[:chunk])
        if not runs:
            break
        with transaction.atomic():
            for run in runs:
                if run.pk in done or recorded >= batch.total:
                    continue
                _record(run=run, action=batch.action, user=batch.requested_by, options=batch.options, batch=batch)
                recorded += 1
            RunActionBatch.objects.filter(pk=batch.pk).update(recorded=recorded)
        before = runs[-1].pk
    RunActionBatch.objects.filter(pk=batch.pk).update(recorded=recorded, finished_at=timezone.now())
    return recorded


# --- Applying (the event processor calls this) -------------------------------------------------


def run_control_apply(*, event: InboundEvent, contact, interpreter) -> str:
    """Apply one operator's action. Called by ``flows.services.event_process`` for ``run_control``.

    Precondition: the caller holds the contact's lock inside a transaction. Returns the event's
    new state: done, or ignored with the reason (the run moved on since the action was asked).
    """
    payload = event.payload or {}
    record = RunAction.objects.filter(pk=payload.get("action_id")).first()
    run = (FlowRun.objects.select_related("revision", "flow", "contact", "flow__published_revision")
           .filter(pk=payload.get("run_id"), contact=contact).first())
    if record is None or run is None or record.run_id != run.pk:
        event.error = _("no such run or action")
        return InboundEvent.State.IGNORED
    if record.state != RunAction.State.PENDING:
        event.error = _("action already %(state)s") % {"state": record.state}
        return InboundEvent.State.IGNORED
    try:
        run_action_check(run=run, action=record.action)
        apply = {"cancel": _cancel, "retry": _retry, "restart": _restart}[record.action]
        record.result, record.new_run = apply(run=run, record=record, event=event, interpreter=interpreter)
        record.state = RunAction.State.DONE
    except ActionRefused as exc:
        record.state, record.result = RunAction.State.IGNORED, exc.message
        event.error = exc.message
    record.applied_at = timezone.now()
    record.save(update_fields=["state", "result", "applied_at", "new_run"])
    return InboundEvent.State.DONE if record.state == RunAction.State.DONE else InboundEvent.State.IGNORED


def _cancel(*, run: FlowRun, record: RunAction, event, interpreter) -> tuple[str, None]:
    who = _who(record.requested_by)
    interpreter.run_cancel(run=run, reason=_("cancelled by %(who)s") % {"who": who})
    # Open subflow children end too; the parent is cancelled first so that none resumes it.
    for child in (FlowRun.objects.select_related("revision", "flow", "contact")
                  .filter(parent_run=run, status__in=FlowRun.OPEN_STATUSES)):
        interpreter.run_cancel(run=child, reason=_("parent run %(run)s cancelled by %(who)s") % {"run": run.pk, "who": who})
    return _("cancelled"), None


def _target_revision(run: FlowRun, record: RunAction, node_id: str | None):
    """The revision to continue on: the published one when asked and it has the node, else the pinned one."""
    published = run.flow.published_revision
    if not record.options.get("use_published") or published is None or published.pk == run.revision_id:
        return run.revision
    if node_id is not None and node_id not in compiled_revision(published).nodes:
        return run.revision
    return published


def _retry(*, run: FlowRun, record: RunAction, event, interpreter) -> tuple[str, None]:
    node_id = run.current_node
    revision = _target_revision(run, record, node_id)
    if node_id not in compiled_revision(revision).nodes:
        raise ActionRefused("node_missing", _("node '%(node)s' is not in revision %(revision)s")
                            % {"node": node_id, "revision": revision.revision})
    moved = revision.pk != run.revision_id
    if moved:
        run.revision = revision
    interpreter.run_reenter(run=run, node_id=node_id, event=event)
    template = (_("retried '%(node)s' on revision %(revision)s (published): the run is now %(state)s") if moved
                else _("retried '%(node)s' on revision %(revision)s: the run is now %(state)s"))
    return template % {"node": node_id, "revision": revision.revision,
                       "state": str(FlowRun.Status(run.status).label).lower()}, None


def _restart(*, run: FlowRun, record: RunAction, event, interpreter) -> tuple[str, FlowRun]:
    from messaging.services import conversation_current

    first = run.steps.order_by("seq").values_list("node_id", flat=True).first()
    revision = _target_revision(run, record, None)
    triggers = compiled_revision(revision).trigger_ids
    if not triggers:
        raise ActionRefused("no_trigger", _("revision %(revision)s has no trigger") % {"revision": revision.revision})
    trigger = first if first in triggers else triggers[0]
    new_run = interpreter.run_start(flow=run.flow, revision=revision, contact=run.contact, trigger_node_id=trigger,
                                    event=run.trigger_event, conversation=conversation_current(contact=run.contact),
                                    trigger_payload=dict((run.context or {}).get("trigger") or {}))
    return (_("restarted as run %(run)s on revision %(revision)s: %(state)s")
            % {"run": new_run.pk, "revision": revision.revision, "state": str(FlowRun.Status(new_run.status).label).lower()}, new_run)
