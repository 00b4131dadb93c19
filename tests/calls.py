"""Test helpers for runs that wait on outside calls (flows.calls): do what the calls worker does, here."""

from __future__ import annotations

from flows.calls import call_execute
from flows.models import FlowRun
from flows.processing import contact_events_process


def calls_settle(runtime=None, *, rounds: int = 20) -> int:
    """Make every pending call (through ``runtime``, or the default one) and process the contacts' events,
    until no run waits on a call. Returns the number of calls made."""
    made = 0
    for _ in range(rounds):
        waiting = list(FlowRun.objects.filter(status=FlowRun.Status.WAITING, wait_kind=FlowRun.WaitKind.CALL)
                       .values_list("pk", "wait_token", "contact_id"))
        if not waiting:
            break
        for run_id, token, contact_id in waiting:
            made += int(call_execute(run_id=run_id, token=token, runtime=runtime))
            contact_events_process(contact_id=contact_id)
    return made


def execute_with_call(kind, ctx, *, runtime=None):
    """Run one node's execute() and, when it waits on a call, make the call and return its resume()."""
    from flows.calls import CALL_RESULT, call_perform
    from flows.engine.context import StepContext
    from flows.engine.outcomes import Wait
    from flows.engine.runtime import DefaultRuntime

    outcome = kind.execute(ctx)
    if not (isinstance(outcome, Wait) and outcome.call):
        return outcome
    ctx.run.context["_call"] = {**outcome.call, "token": "t"}
    result = call_perform(run=ctx.run, spec=outcome.call, runtime=runtime or ctx.runtime or DefaultRuntime())
    resumed = StepContext(run=ctx.run, node=ctx.node, runtime=ctx.runtime, step_seq=ctx.step_seq,
                          event_kind=CALL_RESULT, event={"run_id": ctx.run.pk, "token": "t", "outcome": result})
    return kind.resume(resumed)
