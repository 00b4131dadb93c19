"""Calls to the outside world made by a run, outside any transaction: wait-and-resume.

``http_request``, ``ai_reply`` and ``notify`` talk to company systems, LLM providers, Slack or
e-mail. A run never holds the contact's lock or a database transaction over that network time:

1. the node returns ``Wait("call", call={"service": ..., "kwargs": ...}, wake_at=deadline)``; the
   interpreter stores the call in the run's context (``_call``) with the wait's token, and queues
   :func:`call_execute` on the ``calls`` queue once the transaction commits;
2. the task performs the call through the runtime's named service — no transaction is open —
   and records the outcome as a ``call_result`` event of the contact
   (dedupe key ``call:<run>:<token>``);
3. the event goes through the contact's inbox like any other: the run resumes in the contact's
   order, and the node's ``resume()`` maps the result or takes its failure port. Events of that
   contact that arrive meanwhile wait behind the call (``flows.processing``), exactly as they
   would have waited behind a call made under the lock. If the task is lost, the deadline's timer
   resumes the node with a timeout failure; a late result then carries a stale token, ignored.

A slow company API therefore slows only its own run: other contacts, and the inbound workers,
go on.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.i18n import in_run_language
from core.secrets import secrets_mask
from flows.engine.outcomes import StepError
from flows.models import FlowRun

logger = logging.getLogger(__name__)

CALL_RESULT = "call_result"


def call_schedule(run: FlowRun) -> None:
    """Queue the run's pending call once the current transaction commits (the run's id is known then)."""
    from flows.tasks import external_call_execute

    token = run.wait_token
    transaction.on_commit(lambda: external_call_execute.delay(run.pk, token))


@in_run_language  # the call's error is stored in the result event: in the installation's language
def call_execute(*, run_id: int, token: str, runtime=None) -> bool:
    """Make the call a waiting run asked for and record its outcome. Returns False when stale.

    Precondition: no transaction is open (the call goes over the network).
    """
    from core.inbox import event_record
    from flows.engine.runtime import DefaultRuntime

    run = (FlowRun.objects.select_related("contact", "flow", "revision")
           .filter(pk=run_id, status=FlowRun.Status.WAITING, wait_kind=FlowRun.WaitKind.CALL, wait_token=token).first())
    if run is None:
        return False  # answered, timed out, cancelled: the run has moved on
    spec = (run.context or {}).get("_call") or {}
    service = spec.get("service", "")
    outcome = call_perform(run=run, spec=spec, runtime=runtime or DefaultRuntime())
    payload: dict[str, Any] = {"run_id": run_id, "token": token, "service": service, "outcome": outcome}
    request = (spec.get("kwargs") or {}).get("request")
    if isinstance(request, dict):  # what was called, for the trace and the monitoring (per-host errors)
        payload["request"] = {"method": request.get("method", ""), "url": request.get("url", "")}
    # A company API (or an LLM) may echo a vault secret: it is masked before anything stores it — the
    # event, then the run's variables and the step's output, all read from this payload.
    payload = secrets_mask(payload)
    event_record(kind=CALL_RESULT, dedupe_key=f"call:{run_id}:{token}", contact=run.contact, payload=payload)
    return True


def call_perform(*, run: FlowRun, spec: dict[str, Any], runtime) -> dict[str, Any]:
    """Make one call through the runtime; its outcome as the ``call_result`` event carries it."""
    service, kwargs = spec.get("service", ""), dict(spec.get("kwargs") or {})
    try:
        if service == "http_request":
            result = runtime.http_request(run=run, **kwargs)
        elif service == "ai_reply":
            from messaging.services import typing_indicator_show

            typing_indicator_show(contact_id=run.contact_id)  # "typing…" while the assistant thinks (setting)
            result = runtime.ai_reply(run=run, **kwargs)
        else:
            result = runtime.call(service, run=run, **kwargs)
        return {"ok": True, "result": result}
    except StepError as exc:
        return {"ok": False, "error": exc.message, "code": exc.code, "details": exc.details}
    except Exception as exc:  # noqa: BLE001 - a bug in a service fails its step, clearly, not the worker
        logger.exception("call %s of run %s crashed", service, run.pk)
        return {"ok": False, "error": _("internal error: %(kind)s: %(error)s") % {"kind": type(exc).__name__, "error": exc},
                "code": "internal"}


def call_outcome(ctx) -> dict[str, Any]:
    """In a node's ``resume()``: the call's result, or a StepError for its failure or its deadline."""
    if ctx.event_kind != CALL_RESULT:
        raise StepError(_("no answer in time: the call's deadline passed"), code="call_timeout")
    outcome = ctx.event.get("outcome") or {}
    if not outcome.get("ok"):
        raise StepError(outcome.get("error") or _("the call failed"), code=outcome.get("code") or "call_failed",
                        details=outcome.get("details") or {})
    return outcome.get("result") or {}


def call_accepts(ctx) -> bool:
    """In a node's ``accepts()``: this call's result (same run and token), or its deadline's timer."""
    if ctx.event_kind == "timer":
        return True
    return (ctx.event_kind == CALL_RESULT and ctx.event.get("run_id") == ctx.run.pk
            and ctx.event.get("token") == ctx.run.wait_token)
