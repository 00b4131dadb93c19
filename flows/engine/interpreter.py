"""The graph interpreter: steps a run over its pinned revision until a wait, a delay or an end.

Preconditions: callers hold the contact's lock and an open transaction (see
``flows.processing``); every side effect goes through the runtime. Inside a unit of work
(``core.unit``) the run, its steps and its messages are written with bulk statements at the end
of the unit; outside one, at once.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.i18n import label_text
from core.logging import mask_text
from core.secrets import secrets_mask, secrets_mask_text
from core.signals import domain_event_emit
from core.unit import current as current_unit
from core.unit import flush_current
from flows.engine.context import StepContext
from flows.engine.graph import compiled_revision
from flows.engine.outcomes import End, Next, StepError, Wait
from flows.engine.runtime import DefaultRuntime, Runtime
from flows.models import FlowRun, InboundEvent, RunStep
from flows.nodes import registry

logger = logging.getLogger(__name__)


def _masked(value: Any) -> Any:
    """A step's input/output as stored: vault secrets named by their mask, other known secrets hidden."""
    return _log_masked(secrets_mask(value))


def _log_masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _log_masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_log_masked(v) for v in value]
    return value


def _type_label(node_type) -> str:
    """The node type's name in the active language (the one the user sees on the canvas)."""
    return label_text(getattr(node_type, "label", None)) or node_type.key


def _port_label(node_type, node: dict[str, Any], port: str) -> str:
    """A port's label in the active language (its key when the type does not name it)."""
    for candidate in node_type.ports_for(node.get("config") or {}):
        if candidate.key == port:
            return label_text(candidate.label) or port
    return port


def run_save(run: FlowRun) -> None:
    """Write the run's state: at the unit's flush when one is active, else now."""
    unit = current_unit()
    if unit is None:
        run.save()
    elif not unit.is_pending(run):
        unit.update(run)


def run_write_now(run: FlowRun) -> None:
    """Write the run's state now, flushing the unit first (a subflow child may read it back at once)."""
    if current_unit() is not None:
        flush_current()
    if run.pk is not None and not run._state.adding:
        run.save()


def _step_store(step: RunStep) -> None:
    unit = current_unit()
    if unit is None:
        step.save(force_insert=True)
    else:
        unit.add(step)


class Interpreter:
    def __init__(self, runtime: Runtime | None = None):
        self.runtime = runtime or DefaultRuntime()
        self.max_steps = settings.FLUXO_MAX_STEPS_PER_EVENT
        self.max_visits = settings.FLUXO_MAX_NODE_VISITS

    # -- entry points

    def run_start(self, *, flow, revision, contact, trigger_node_id: str, event: InboundEvent | None = None,
                  conversation=None, is_test: bool = False, parent_run: FlowRun | None = None,
                  trigger_payload: dict[str, Any] | None = None) -> FlowRun:
        payload = dict(trigger_payload if trigger_payload is not None else (event.payload if event else {}))
        payload = secrets_mask(payload)  # {{trigger.*}} never holds a vault secret in clear
        payload.setdefault("kind", event.kind if event else "manual")
        now = self.runtime.now()
        run = FlowRun(
            flow=flow, revision=revision, contact=contact, trigger_event=event,
            parent_run=parent_run, is_test=is_test, current_node=trigger_node_id, status=FlowRun.Status.ACTIVE,
            context={"trigger": payload, "vars": {}, "started_at": now.isoformat(), "_key": uuid.uuid4().hex},
        )
        if conversation is not None:
            run.conversation_id = conversation if isinstance(conversation, int) else conversation.pk
        unit = current_unit()
        if unit is None:
            run.save(force_insert=True)
        else:
            unit.add(run)  # inserted at the unit's end, with its final state
        self._advance(run, trigger_node_id, event=event, resuming=False)
        return run

    def run_resume(self, *, run: FlowRun, event: InboundEvent) -> bool:
        """Give ``event`` to a waiting run. Returns False when the run's wait does not take it."""
        if run.status != FlowRun.Status.WAITING:
            return False
        if event.kind == InboundEvent.Kind.TIMER:
            if event.payload.get("run_id") != run.pk or event.payload.get("token") != run.wait_token:
                return False  # a stale timer: the run moved on since it was set
        elif run.wait_kind in (FlowRun.WaitKind.DELAY, FlowRun.WaitKind.SUBFLOW):
            return False
        compiled = compiled_revision(run.revision)
        node = compiled.nodes.get(run.current_node)
        node_type = registry.get(node["type"]) if node else None
        if node_type is None:
            self._finish(run, FlowRun.Status.FAILED, _("node '%(node)s' is missing from revision %(revision)s")
                         % {"node": run.current_node, "revision": run.revision.revision})
            return True
        ctx = StepContext(run=run, node=node, runtime=self.runtime, step_seq=run.step_count + 1,
                          event_kind=event.kind, event=event.payload)
        if not node_type.accepts(ctx):
            return False
        self._advance(run, run.current_node, event=event, resuming=True)
        return True

    def run_resume_from_child(self, *, run: FlowRun, child: FlowRun) -> None:
        """A subflow ended: continue its parent through the subflow node's completed/failed port."""
        if run.status != FlowRun.Status.WAITING or run.wait_kind != FlowRun.WaitKind.SUBFLOW:
            return
        event_payload = {"child_run_id": child.pk, "child_status": child.status, "child_vars": child.context.get("vars", {})}
        self._advance(run, run.current_node, event=None, resuming=True, resume_kind="subflow", resume_payload=event_payload)

    def run_cancel(self, *, run: FlowRun, reason: str) -> None:
        self._finish(run, FlowRun.Status.CANCELLED, reason)

    def run_reenter(self, *, run: FlowRun, node_id: str, event: InboundEvent | None = None) -> None:
        """Execute ``node_id`` again on an ended run and go on from there (an operator's retry of a
        failed step). Precondition, as everywhere: the contact's lock is held."""
        run.end_reason, run.ended_at = "", None
        self._advance(run, node_id, event=event, resuming=False)

    # -- the loop

    def _advance(self, run: FlowRun, node_id: str, *, event: InboundEvent | None, resuming: bool,
                 resume_kind: str | None = None, resume_payload: dict[str, Any] | None = None) -> None:
        compiled = compiled_revision(run.revision)
        run.status = FlowRun.Status.ACTIVE
        run.wait_kind, run.wake_at, run.wait_token = "", None, ""
        visits: dict[str, int] = run.context.setdefault("_visits", {})
        steps_this_event = 0
        contact_scope = None  # carried from step to step; a node that changes the contact drops it
        while True:
            if steps_this_event >= self.max_steps:
                self._finish(run, FlowRun.Status.FAILED,
                             ngettext("stopped after %(steps)d step in one event: the flow loops without waiting",
                                      "stopped after %(steps)d steps in one event: the flow loops without waiting",
                                      self.max_steps) % {"steps": self.max_steps})
                return
            node = compiled.nodes.get(node_id)
            node_type = registry.get(node["type"]) if node else None
            if node_type is None:
                self._finish(run, FlowRun.Status.FAILED, _("node '%(node)s' is missing or of an unknown type") % {"node": node_id})
                return
            if not resuming:
                visits[node_id] = visits.get(node_id, 0) + 1
                if visits[node_id] > self.max_visits:
                    self._finish(run, FlowRun.Status.FAILED,
                                 ngettext("node '%(node)s' was visited %(visits)d time in this run: "
                                          "stopped to avoid an endless loop",
                                          "node '%(node)s' was visited %(visits)d times in this run: "
                                          "stopped to avoid an endless loop",
                                          self.max_visits) % {"node": node_id, "visits": self.max_visits})
                    return
            run.current_node = node_id
            if resume_kind:
                ctx = StepContext(run=run, node=node, runtime=self.runtime, step_seq=run.step_count + 1,
                                  event_kind=resume_kind, event=resume_payload or {})
            else:
                ctx = StepContext(run=run, node=node, runtime=self.runtime, step_seq=run.step_count + 1,
                                  event_kind=event.kind if (resuming and event) else None,
                                  event=event.payload if (resuming and event) else {})
            ctx._contact_scope = contact_scope
            started_at = self.runtime.now()
            started = time.perf_counter()
            error = ""
            try:
                outcome = node_type.resume(ctx) if resuming else node_type.execute(ctx)
            except StepError as exc:
                error = exc.message
                if "failure" in {p.key for p in node_type.ports_for(node.get("config") or {})}:
                    ctx.vars["last_error"] = exc.message
                    outcome = Next("failure", {"error": exc.message, "code": exc.code})
                else:
                    outcome = End(FlowRun.Status.FAILED,
                                  _("node '%(node)s' (%(type)s): %(error)s")
                                  % {"node": node_id, "type": _type_label(node_type), "error": exc.message},
                                  {"error": exc.message, "code": exc.code})
            except Exception as exc:  # a bug in one node must fail the run clearly, not lose the event
                logger.exception("node %s (%s) crashed in run %s", node_id, node_type.key, run.pk)
                error = _("internal error: %(kind)s: %(error)s") % {"kind": exc.__class__.__name__, "error": exc}
                outcome = End(FlowRun.Status.FAILED, _("node '%(node)s' (%(type)s): %(error)s")
                              % {"node": node_id, "type": _type_label(node_type), "error": error})
            duration_us = int((time.perf_counter() - started) * 1_000_000)
            port = outcome.port if isinstance(outcome, Next) else ""
            kind = "error" if error else outcome.__class__.__name__.lower()
            run.step_count += 1
            step_input: dict[str, Any] = {"config": node.get("config") or {}}
            if resuming:
                step_input = {"event_kind": ctx.event_kind, "event": ctx.event}
            step = RunStep(
                run=run, seq=run.step_count, node_id=node_id, node_type=node_type.key,
                event=event if isinstance(event, InboundEvent) else None, port=port, outcome=kind, input=_masked(step_input), output=_masked(outcome.output),
                error=mask_text(secrets_mask_text(error)), started_at=started_at, duration_us=duration_us,
            )
            # What a node stored in the run's variables (a mapped response field, an AI answer, a
            # child's variables) is kept with vault secrets masked: the run's context is shown in the
            # API, the admin and the run view, and a later message could carry it to the customer.
            variables = run.context.get("vars")
            if variables:
                masked_vars = secrets_mask(variables)
                if masked_vars is not variables:
                    run.context["vars"] = masked_vars
            _step_store(step)
            self.runtime.step_recorded(step)
            contact_scope = ctx._contact_scope
            if resuming:
                run.context.pop("_call", None)  # the answered call (its node read it in resume())
            resuming, resume_kind, resume_payload = False, None, None
            steps_this_event += 1

            if isinstance(outcome, Next):
                target = compiled.target(node_id, outcome.port)
                if target is None:
                    if outcome.port == "failure" and error:
                        # An unhandled failure is a failed run, not a quiet completion.
                        self._finish(run, FlowRun.Status.FAILED,
                                     _("node '%(node)s' (%(type)s) failed and its '%(port)s' port leads nowhere: "
                                       "%(error)s")
                                     % {"node": node_id, "type": _type_label(node_type),
                                        "port": _port_label(node_type, node, "failure"), "error": error})
                    else:
                        self._finish(run, FlowRun.Status.COMPLETED,
                                     _("reached the end of the flow at '%(node)s' (port '%(port)s' leads nowhere)")
                                     % {"node": node_id, "port": _port_label(node_type, node, outcome.port)})
                    return
                node_id = target
                continue
            if isinstance(outcome, Wait):
                run.status = FlowRun.Status.WAITING
                run.wait_kind = outcome.kind
                run.wake_at = outcome.wake_at
                run.wait_token = FlowRun.new_wait_token()
                run.current_node = node_id
                if outcome.call is not None:
                    from flows.calls import call_schedule

                    run.context["_call"] = {**outcome.call, "token": run.wait_token}
                    call_schedule(run)
                run_save(run)
                return
            self._finish(run, outcome.status, outcome.reason)
            return

    def run_finish(self, run: FlowRun, status: str, reason: str) -> None:
        """End a run (any status) and resume its parent, if it is a subflow."""
        self._finish(run, status, reason)

    def _finish(self, run: FlowRun, status: str, reason: str) -> None:
        run.status = status
        run.end_reason = secrets_mask_text(reason)[:2000]
        run.wait_kind, run.wake_at, run.wait_token = "", None, ""
        run.context.pop("_call", None)
        run.ended_at = self.runtime.now()
        run_save(run)
        if not run.is_test and status in (FlowRun.Status.COMPLETED, FlowRun.Status.FAILED):
            # Data read at commit: a run written by a unit of work has its id only then.
            domain_event_emit(event_type=f"run.{status}",
                              data=lambda: {"run_id": run.pk, "flow_id": run.flow_id, "contact": run.contact.phone,
                                            "reason": run.end_reason})
        if run.parent_run_id:
            parent = FlowRun.objects.select_related("revision", "flow", "contact").get(pk=run.parent_run_id)
            self.run_resume_from_child(run=parent, child=run)
