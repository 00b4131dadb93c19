"""Conversation routing: assign to a team, set priority, move the state machine.

Writes lock the conversation row, check the move against ``Conversation.TRANSITIONS`` and emit
the domain events ``conversation.triaged``, ``conversation.assigned`` and ``conversation.closed``
(delivered after commit, e.g. to outbound webhooks). ``run_*`` functions are the runtime
services the node types call; they turn refusals into :class:`~flows.nodes.base.StepError`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.signals import domain_event_emit
from flows.nodes.base import StepError
from integrations.models import Team
from integrations.routing.selectors import team_get_by_name
from messaging.models import Conversation


class IllegalTransition(ValueError):
    def __init__(self, current: str, wanted: str):
        allowed = sorted(Conversation.TRANSITIONS.get(current, set()))
        hint = (gettext("a completed conversation is closed for good; the contact's next message opens a new one")
                if current == "completed" else gettext("from '%(current)s' it can go to: %(allowed)s")
                % {"current": current, "allowed": ", ".join(allowed)})
        super().__init__(gettext("a conversation cannot go from '%(current)s' to '%(wanted)s' (%(hint)s)")
                         % {"current": current, "wanted": wanted, "hint": hint})
        self.current, self.wanted = current, wanted


def _event_data(conversation: Conversation, **extra: Any) -> dict[str, Any]:
    return {"conversation_id": conversation.pk, "contact": conversation.contact.phone, "state": conversation.state,
            "team": conversation.assigned_team.name if conversation.assigned_team_id else None,
            "priority": conversation.priority, **extra}


def _move(conversation: Conversation, state: str, extra: dict[str, Any]) -> list[str]:
    """Apply a state change on a locked row; returns the fields changed. Emits triaged/closed."""
    if state == conversation.state:
        return []
    if not conversation.can_move_to(state):
        raise IllegalTransition(conversation.state, state)
    conversation.state = state
    changed = ["state"]
    if state == Conversation.State.COMPLETED:
        conversation.closed_at = timezone.now()
        changed.append("closed_at")
    event = {"triaged": "conversation.triaged", "completed": "conversation.closed"}.get(state)
    if event:
        domain_event_emit(event_type=event, data=_event_data(conversation, **extra))
    return changed


@transaction.atomic
def conversation_state_set(*, conversation: Conversation, state: str, reason: str = "",
                           extra: dict[str, Any] | None = None) -> Conversation:
    """Move ``conversation`` to ``state`` (raises :class:`IllegalTransition`)."""
    if state not in Conversation.State.values:
        raise ValueError(gettext("unknown conversation state '%(state)s' (use: %(allowed)s)")
                         % {"state": state, "allowed": ", ".join(Conversation.State.values)})
    locked = Conversation.objects.select_for_update(of=("self",)).select_related("contact", "assigned_team").get(pk=conversation.pk)
    changed = _move(locked, state, {**(extra or {}), "reason": reason})
    if changed:
        locked.save(update_fields=changed)
    return locked


@transaction.atomic
def conversation_assign(*, conversation: Conversation, team: Team, priority: int | None = None,
                        state: str | None = "triaged", extra: dict[str, Any] | None = None) -> Conversation:
    """Assign ``conversation`` to ``team`` with a priority (default: the team's) and move its state."""
    locked = Conversation.objects.select_for_update(of=("self",)).select_related("contact", "assigned_team").get(pk=conversation.pk)
    if locked.state == Conversation.State.COMPLETED:
        raise IllegalTransition(locked.state, state or "triaged")
    changed: list[str] = []
    reassigned = locked.assigned_team_id != team.pk
    locked.assigned_team = team
    locked.priority = team.priority if priority is None else int(priority)
    changed += ["assigned_team", "priority"]
    if state:
        changed += _move(locked, state, extra or {})
    locked.save(update_fields=changed)
    if reassigned:
        domain_event_emit(event_type="conversation.assigned", data=_event_data(locked, **(extra or {})))
    return locked


def conversation_for_run(run, *, new_if_closed: bool = False) -> Conversation:
    """The conversation a run works on: its own while open, else the contact's open one, else a new
    one. When the run's own conversation is completed and the contact has no open one, that closed
    conversation is returned (so a refused state change says why) unless ``new_if_closed``."""
    conversation = run.conversation if run.conversation_id else None
    if conversation is None or conversation.state == Conversation.State.COMPLETED:
        current = (Conversation.objects.filter(contact=run.contact)
                   .exclude(state=Conversation.State.COMPLETED).order_by("-id").first())
        if current is not None:
            conversation = current
        elif conversation is None or new_if_closed:
            conversation = Conversation.objects.create(contact=run.contact, channel=run.contact.channel)
            domain_event_emit(event_type="conversation.opened",
                              data={"conversation_id": conversation.pk, "contact": run.contact.phone})
    return conversation


def _attach(run, conversation: Conversation) -> None:
    """Point the run at the conversation it now works on (only after the change committed to it)."""
    if run.conversation_id != conversation.pk:
        run.conversation = conversation
        if run.pk:
            type(run).objects.filter(pk=run.pk).update(conversation=conversation)


# --- runtime services (called by the node types through ctx.runtime.call) ----------------------------


def run_route_to_team(*, run, team: str, priority: int | None = None, state: str | None = "triaged",
                      when_closed: str = "assign", now=None) -> dict[str, Any]:
    found = team_get_by_name(team)
    if found is None:
        known = ", ".join(Team.objects.values_list("name", flat=True)[:20]) or gettext("none yet")
        raise StepError(gettext("team '%(team)s' does not exist (teams: %(known)s)") % {"team": team, "known": known},
                        code="team_missing", details={"team": team})
    is_open = found.is_open(now or timezone.now())
    if not is_open and when_closed == "failure":
        raise StepError(gettext("team '%(team)s' is outside its business hours") % {"team": found.name}, code="team_closed",
                        details={"team": found.name})
    with transaction.atomic():
        conversation = conversation_for_run(run, new_if_closed=True)
        try:
            conversation = conversation_assign(conversation=conversation, team=found, priority=priority, state=state,
                                               extra={"run_id": run.pk})
        except IllegalTransition as exc:
            raise StepError(str(exc), code="illegal_transition",
                            details={"from": exc.current, "to": exc.wanted}) from exc
        _attach(run, conversation)
    return {"conversation_id": conversation.pk, "team": found.name, "priority": conversation.priority,
            "state": conversation.state, "team_open": is_open}


def run_set_conversation_state(*, run, state: str, reason: str = "") -> dict[str, Any]:
    with transaction.atomic():
        conversation = conversation_for_run(run)
        previous = conversation.state
        try:
            conversation = conversation_state_set(conversation=conversation, state=state, reason=reason,
                                                  extra={"run_id": run.pk})
        except IllegalTransition as exc:
            raise StepError(str(exc), code="illegal_transition",
                            details={"from": exc.current, "to": exc.wanted}) from exc
        except ValueError as exc:
            raise StepError(str(exc), code="invalid_state") from exc
        _attach(run, conversation)
    return {"conversation_id": conversation.pk, "from": previous, "state": conversation.state}
