"""Processing a contact's events: in order, one at a time per contact, in one unit of work.

Three ways in, one rule — the contact's row lock is held, and the contact's pending events go first:

* :func:`contact_event_take` — the inbox's processor (``core.inbox.event_take``): the inbound
  worker already holds the lock because it just recorded the customer's message; the event is
  processed in that same transaction and stored once, already done.
* :func:`contact_events_process` — the ``contact_events_process`` task, for events recorded by
  anyone else (company APIs, schedules, timers queued behind other events, operators).
* :func:`timers_sweep` — due delays and wait timeouts, claimed in batches: each batch locks its
  contacts (``SKIP LOCKED``, so several sweepers share the work) and resumes the runs right there.

Reads per event: one statement returns the contact's pending events, its waiting runs and the
flows' version (for the cached trigger index, ``flows.triggers``). Writes go through a unit of
work (``core.unit``): one bulk statement per table at the end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from core.db import in_condition, insert_or_skip
from core.i18n import in_run_language
from core.inbox import EventSpec, careful_mode, careful_scope, event_record
from core.models import InboundEvent
from core.unit import current as current_unit
from core.unit import flush_current, unit_of_work, unit_suspended
from flows.engine.graph import compiled_revision
from flows.engine.interpreter import Interpreter
from flows.models import Flow, FlowRevision, FlowRun, TestRun
from flows.run_actions import RUN_CONTROL, run_control_apply
from flows.triggers import TriggerIndex, flows_triggered_by, trigger_index, version_of
from messaging.campaigns.services import campaign_reply_record
from messaging.models import CampaignRecipient, Contact
from messaging.services import READ_RECEIPT_EVENTS, read_receipt_queue

logger = logging.getLogger(__name__)

BATCH = 100


@dataclass
class ContactSession:
    """What processing one locked contact's events needs, read once."""

    contact: Contact
    index: TriggerIndex
    waiting: list[FlowRun] = field(default_factory=list)  # newest first
    interpreter: Interpreter = field(default_factory=Interpreter)
    # A campaign sent to this contact waits for a reply (read with the state: no statement of its own).
    awaiting_reply: bool = False

    def settle(self, started: list[FlowRun]) -> None:
        """Keep ``waiting`` true after an event: finished runs leave, runs that started waiting join (first:
        they are the newest)."""
        fresh = [r for r in reversed(started) if r.status == FlowRun.Status.WAITING and r not in self.waiting]
        self.waiting = [*fresh, *[r for r in self.waiting if r.status == FlowRun.Status.WAITING]]


def _held(session: ContactSession, event: InboundEvent) -> bool:
    """Whether the event must wait: a run of the contact waits for an outside call (flows.calls), and
    this is not that call's result or deadline. It is processed right after, in its order."""
    calls = [r for r in session.waiting if r.wait_kind == FlowRun.WaitKind.CALL]
    if not calls:
        return False
    if event.kind in (InboundEvent.Kind.CALL_RESULT, InboundEvent.Kind.TIMER):
        return all(event.payload.get("run_id") != run.pk for run in calls)
    return True


def _contact_state(contact_id: int) -> tuple[list[int], list[int], tuple[Any, ...], bool]:
    """Pending event ids, waiting run ids, the flows' version and whether a campaign waits for this
    contact's reply, in one statement."""
    events, runs = InboundEvent._meta.db_table, FlowRun._meta.db_table
    flows = Flow._meta.db_table
    recipients = CampaignRecipient._meta.db_table
    # The version row first: PostgreSQL types each UNION pairwise, left to right.
    sql = (f"SELECT 'v', COUNT(*), MAX(updated_at) FROM {flows} "
           f"UNION ALL SELECT 'e', id, NULL FROM {events} WHERE contact_id = %s AND state = 'pending' "
           f"UNION ALL SELECT 'r', id, NULL FROM {runs} WHERE contact_id = %s AND status = 'waiting' "
           f"UNION ALL SELECT 'c', MAX(id), NULL FROM {recipients} WHERE contact_id = %s AND status = 'queued' "
           f"AND replied_at IS NULL AND queued_at > %s HAVING COUNT(*) > 0")
    pending: list[int] = []
    waiting: list[int] = []
    version: tuple[Any, ...] = (0, None)
    awaiting = False
    with connection.cursor() as cursor:
        # A reply window is at most 30 days (the campaign's own window is checked when it replies).
        cursor.execute(sql, [contact_id, contact_id, contact_id, timezone.now() - timedelta(days=30)])
        for tag, number, stamp in cursor.fetchall():
            if tag == "e":
                pending.append(number)
            elif tag == "r":
                waiting.append(number)
            elif tag == "c":
                awaiting = True
            else:
                version = version_of(number, stamp)
    return sorted(pending), waiting, version, awaiting


def contacts_state_read_ahead(*, contact_ids: list[int]) -> None:
    """Read the state of a batch's locked contacts in one statement, for their first event of the unit.

    Registered with ``core.inbox`` (``contacts_prepare``): the inbound drain locks a batch's contacts
    at once, then this replaces one ``_contact_state`` statement per contact. Kept on the unit of
    work as ``contact_facts``; a flush that writes a contact's rows forgets that contact's facts (and
    so does recording an event for it), so a second event of the same contact reads afresh.
    Precondition: inside the transaction that holds the contacts' locks, inside a unit of work.
    """
    unit = current_unit()
    ids = sorted({int(pk) for pk in contact_ids if pk})
    if unit is None or not ids:
        return
    events, runs = InboundEvent._meta.db_table, FlowRun._meta.db_table
    flows, recipients = Flow._meta.db_table, CampaignRecipient._meta.db_table
    of_contacts, contact_args = in_condition("contact_id", ids)
    sql = (f"SELECT 'v', 0, COUNT(*), MAX(updated_at) FROM {flows} "
           f"UNION ALL SELECT 'e', contact_id, id, NULL FROM {events} WHERE {of_contacts} AND state = 'pending' "
           f"UNION ALL SELECT 'r', contact_id, id, NULL FROM {runs} WHERE {of_contacts} AND status = 'waiting' "
           f"UNION ALL SELECT 'c', contact_id, MAX(id), NULL FROM {recipients} WHERE {of_contacts} "
           f"AND status = 'queued' AND replied_at IS NULL AND queued_at > %s GROUP BY contact_id")
    facts: dict[int, tuple[list[int], list[int], bool]] = {pk: ([], [], False) for pk in ids}
    version: tuple[Any, ...] = (0, None)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*contact_args * 3, timezone.now() - timedelta(days=30)])  # one per SELECT
        for tag, contact_id, number, stamp in cursor.fetchall():
            if tag == "v":
                version = version_of(number, stamp)
                continue
            pending, waiting, awaiting = facts[contact_id]
            if tag == "e":
                pending.append(number)
            elif tag == "r":
                waiting.append(number)
            elif tag == "c":
                facts[contact_id] = (pending, waiting, True)
    for pk, (pending, waiting, awaiting) in facts.items():
        unit.contact_facts[pk] = (sorted(pending), waiting, version, awaiting)


def _runs_load(ids: list[int], contact: Contact) -> list[FlowRun]:
    if not ids:
        return []
    runs = list(FlowRun.objects.filter(pk__in=ids, status=FlowRun.Status.WAITING)
                .select_related("revision", "flow").order_by("-started_at", "-id"))
    for run in runs:
        run.contact = contact  # the locked instance: no second read, and changes are seen by all
    return runs


def _session(contact: Contact) -> tuple[ContactSession, list[int]]:
    unit = current_unit()
    ahead = unit.contact_facts.pop(contact.pk, None) if unit is not None else None
    pending, waiting, version, awaiting = ahead if ahead is not None else _contact_state(contact.pk)
    return ContactSession(contact=contact, index=trigger_index(version), waiting=_runs_load(waiting, contact),
                          awaiting_reply=awaiting), pending


# --- The inbox's processor ------------------------------------------------------------------------


@in_run_language  # what runs write (end reasons, step errors) is in the installation's language
def contact_event_take(*, contact: Contact, event: EventSpec) -> InboundEvent | None:
    """Process a new event of a locked contact now (registered with ``core.inbox`` in ``flows.apps``).

    Precondition: inside a transaction holding the contact's row lock. The contact's pending
    events are processed first, in order. Returns the stored event (None for a duplicate key).
    """
    with unit_of_work() as unit:
        seen = getattr(unit, "_contacts_seen", None)
        if seen is None:
            seen = unit._contacts_seen = set()
        if contact.pk in seen:
            flush_current()  # this contact's rows of this unit must be in the database before we read its state
        seen.add(contact.pk)
        session, pending = _session(contact)
        if pending:
            _events_process(session, pending)
        values = {"kind": event.kind, "dedupe_key": event.dedupe_key[:255], "contact": contact,
                  "channel_id": event.channel_id, "payload": event.payload, "raw": event.raw,
                  "occurred_at": event.occurred_at, "state": InboundEvent.State.PENDING}
        if event.unique_checked:
            stored = unit.add(InboundEvent(**values))
        else:
            stored = insert_or_skip(InboundEvent, values, unique=["dedupe_key"])
            if stored is None:
                return None
        if not _held(session, stored):
            _event_run(session, stored)
        return stored


def _event_run(session: ContactSession, event: InboundEvent) -> None:
    """Process one event and record its outcome (careful mode: in a savepoint, a bug fails only it)."""
    event.attempts += 1
    if careful_mode.get():
        unit = current_unit()
        flush_current()
        try:
            with transaction.atomic():
                outcome = event_process(event=event, session=session)
                flush_current()
        except OperationalError:
            raise
        except Exception as exc:  # noqa: BLE001 - kept for inspection; the next event goes on
            logger.exception("event %s failed", event.pk)
            if unit is not None:
                unit.discard()
            outcome = InboundEvent.State.FAILED
            event.error = f"{exc.__class__.__name__}: {exc}"[:2000]
    else:
        outcome = event_process(event=event, session=session)
    if outcome == InboundEvent.State.DONE and event.kind in READ_RECEIPT_EVENTS and event.payload.get("message_id"):
        # Handled by a flow: blue ticks for the customer, sent after commit by the calls queue.
        read_receipt_queue(channel_id=event.channel_id, message_id=str(event.payload["message_id"]))
    event.state = outcome
    event.processed_at = timezone.now()
    unit = current_unit()
    if unit is not None:
        unit.update(event, ["state", "error", "attempts", "processed_at"])
    else:
        event.save(update_fields=["state", "error", "attempts", "processed_at"])


def _events_process(session: ContactSession, ids: list[int]) -> None:
    """The pending events in order; those held behind an outside call go as soon as it is answered."""
    queue = list(InboundEvent.objects.filter(pk__in=ids, state=InboundEvent.State.PENDING).order_by("id"))
    held: list[InboundEvent] = []
    while queue:
        event = queue.pop(0)
        if _held(session, event):
            held.append(event)
            continue
        _event_run(session, event)
        if held and not any(r.wait_kind == FlowRun.WaitKind.CALL for r in session.waiting):
            queue, held = [*held, *queue], []


# --- The contact task ----------------------------------------------------------------------------


@in_run_language
def contact_events_process(*, contact_id: int) -> int:
    """Process the contact's pending events, oldest first, under its row lock. Returns how many.

    Each event runs in a savepoint: a bug in one marks it failed with the reason (kept for
    inspection) and the next goes on; a database error rolls the batch back to pending (the task
    retries). Batches of ``BATCH`` events per transaction.
    """
    processed = 0
    with careful_scope(True):
        while True:
            with transaction.atomic(), unit_of_work():
                contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
                if contact is None:
                    return processed
                session, pending = _session(contact)
                if not pending:
                    return processed
                _events_process(session, pending[:BATCH])
                processed += min(len(pending), BATCH)
                if len(pending) <= BATCH:
                    return processed


# --- One event --------------------------------------------------------------------------------------


def event_process(*, event: InboundEvent, session: ContactSession) -> str:
    """Give one event to the contact's waiting run, or start the flows it triggers.

    Precondition: the caller holds the contact's lock inside a transaction. Returns the event's
    new state (done or ignored).
    """
    contact, interpreter = session.contact, session.interpreter
    kind = event.kind
    started: list[FlowRun] = []
    try:
        if kind == InboundEvent.Kind.TIMER:
            run = next((r for r in session.waiting if r.pk == event.payload.get("run_id")), None)
            if run is None or not interpreter.run_resume(run=run, event=event):
                event.error = "stale timer: the run had moved on"
                return InboundEvent.State.IGNORED
            return InboundEvent.State.DONE

        if kind == RUN_CONTROL:  # an operator's cancel/retry/restart, applied in the contact's order
            with unit_suspended():  # the action reads back what it writes (the new run of a restart)
                outcome = run_control_apply(event=event, contact=contact, interpreter=interpreter)
            _, waiting, _version, _awaiting = _contact_state(contact.pk)
            session.waiting = _runs_load(waiting, contact)
            return outcome

        reply = None
        if session.awaiting_reply and kind in (InboundEvent.Kind.MESSAGE, InboundEvent.Kind.INTERACTIVE_REPLY):
            reply = campaign_reply_record(contact_id=contact.pk, at=event.occurred_at)  # counts the reply
            session.awaiting_reply = False  # answered (or past its window): one reply per campaign message

        for run in list(session.waiting):
            if interpreter.run_resume(run=run, event=event):
                return InboundEvent.State.DONE

        if contact.is_test:
            return _test_event(event=event, session=session, started=started)

        if reply is not None and reply[1]:  # the campaign's flow on reply takes the reply
            run = _flow_start(interpreter, flow_id=reply[1], node_id=None, contact=contact, event=event)
            if run is not None:
                started.append(run)
                _reply_run_record(recipient_id=reply[0], run=run)
                return InboundEvent.State.DONE

        if kind == InboundEvent.Kind.SCHEDULE:
            run = _flow_start(interpreter, flow_id=event.payload.get("flow_id"), node_id=event.payload.get("node_id"),
                              contact=contact, event=event)
            if run is None:
                return InboundEvent.State.IGNORED
            started.append(run)
            return InboundEvent.State.DONE

        for flow, trigger_node_id in flows_triggered_by(kind=kind, payload=event.payload, index=session.index):
            started.append(interpreter.run_start(flow=flow, revision=flow.published_revision, contact=contact,
                                                 trigger_node_id=trigger_node_id, event=event,
                                                 conversation=contact.current_conversation_id))
        return InboundEvent.State.DONE if started else InboundEvent.State.IGNORED
    finally:
        session.settle(started)


def _reply_run_record(*, recipient_id: int, run: FlowRun) -> None:
    """The campaign page lists the runs replies started: the run's id once the unit of work wrote it."""
    from messaging.campaigns.services import campaign_reply_run_record

    unit = current_unit()
    if unit is None or run.pk:
        campaign_reply_run_record(recipient_id=recipient_id, run_id=run.pk)
    else:
        unit.after_flush(lambda: campaign_reply_run_record(recipient_id=recipient_id, run_id=run.pk))


def _flow_start(interpreter, *, flow_id: Any, node_id: str | None, contact: Contact, event: InboundEvent
                ) -> FlowRun | None:
    """Start an active flow's published revision at ``node_id`` (default: its first trigger)."""
    flow = Flow.objects.select_related("published_revision").filter(pk=flow_id, status=Flow.Status.ACTIVE).first()
    if flow is None or flow.published_revision is None:
        return None
    if not node_id:  # a campaign reply or a date event names the flow only
        triggers = compiled_revision(flow.published_revision).trigger_ids
        if not triggers:
            return None
        node_id = triggers[0]
    return interpreter.run_start(flow=flow, revision=flow.published_revision, contact=contact,
                                 trigger_node_id=node_id, event=event, conversation=contact.current_conversation_id)


def _test_event(*, event: InboundEvent, session: ContactSession, started: list[FlowRun]) -> str:
    """A test contact's events reach only its Test run (the editor's), never published flows."""
    contact, interpreter = session.contact, session.interpreter
    test = TestRun.objects.select_related("flow", "revision").filter(contact=contact).first()
    if test is None or test.status != TestRun.Status.OPEN or event.kind not in ("message", "interactive_reply"):
        return InboundEvent.State.IGNORED
    if test.run_id and FlowRun.objects.filter(pk=test.run_id, status__in=FlowRun.OPEN_STATUSES).exists():
        return InboundEvent.State.IGNORED  # the run is busy elsewhere (a delay): the message is kept, not used
    triggers = compiled_revision(test.revision).trigger_ids
    if not triggers:
        event.error = "the tested revision has no trigger"
        return InboundEvent.State.IGNORED
    run = interpreter.run_start(flow=test.flow, revision=test.revision, contact=contact, trigger_node_id=triggers[0],
                                event=event, is_test=True, conversation=contact.current_conversation_id)
    started.append(run)
    test.run = run
    unit = current_unit()
    if unit is not None:
        unit.update(test, ["run"])  # after the run's insert, at the unit's end
    else:
        test.save(update_fields=["run"])
    return InboundEvent.State.DONE


# --- Timers -----------------------------------------------------------------------------------------


class TimerEvent:
    """A due timer handed to its run without storing an event first (the step records it)."""

    kind = InboundEvent.Kind.TIMER
    pk = None

    def __init__(self, run: FlowRun, due_at: datetime | None):
        self.payload = {"run_id": run.pk, "token": run.wait_token,
                        "due_at": due_at.isoformat() if due_at else None}


def timers_next_due(*, until: datetime) -> datetime | None:
    """The earliest timer due by ``until`` (one probe of the due-timer index), or None."""
    return (FlowRun.objects.filter(status=FlowRun.Status.WAITING, wake_at__lte=until)
            .order_by("wake_at").values_list("wake_at", flat=True).first())


@in_run_language
def timers_sweep(*, now: datetime | None = None, batch: int = 200, max_batches: int = 1000) -> int:
    """Resume due delays and wait timeouts in batches. Returns how many timers fired.

    A batch claims due runs with ``SKIP LOCKED`` (several sweepers take different runs instead
    of contending for the same first ones), locks their contacts with ``SKIP LOCKED`` too (a
    contact an event holds is left for the next pass), then, under those locks, resumes each run
    in place — or, when its contact still has pending events, records a ``timer:<run>:<token>``
    event behind them so the timer never overtakes an earlier event. Each timer fires once: a
    run's ``wake_at`` is cleared in the batch's transaction and its token checked on resume.
    """
    fired = 0
    for _ in range(max_batches):
        claimed, count = _timers_batch(now or timezone.now(), batch)
        fired += count
        if claimed < batch and count == 0:
            break  # nothing is due, or what is due is held by others right now
    return fired


def _timers_batch(now: datetime, batch: int) -> tuple[int, int]:
    """One batch in one transaction: returns (runs claimed, timers fired)."""
    with transaction.atomic(), unit_of_work():
        runs = _runs_with_revisions(FlowRun.objects.select_for_update(skip_locked=True, of=("self",))
                                    .filter(status=FlowRun.Status.WAITING, wake_at__lte=now)
                                    .order_by("wake_at", "pk")[:batch])
        if not runs:
            return 0, 0
        contacts = {c.pk: c for c in Contact.objects.select_for_update(skip_locked=True)
                    .filter(pk__in=sorted({run.contact_id for run in runs})).order_by("pk")}
        behind = set(InboundEvent.objects.filter(contact_id__in=list(contacts), state=InboundEvent.State.PENDING)
                     .order_by().values_list("contact_id", flat=True).distinct()) if contacts else set()
        interpreter = Interpreter()
        fired = 0
        for run in runs:
            contact = contacts.get(run.contact_id)
            if contact is None:
                continue  # its contact is busy: the run is claimed again by a later pass
            run.contact = contact
            due_at = run.wake_at
            if contact.pk in behind:
                event_record(kind=InboundEvent.Kind.TIMER, dedupe_key=f"timer:{run.pk}:{run.wait_token}",
                             contact=contact, payload={"run_id": run.pk, "token": run.wait_token,
                                                       "due_at": due_at.isoformat() if due_at else None})
                FlowRun.objects.filter(pk=run.pk).update(wake_at=None)
            elif not interpreter.run_resume(run=run, event=TimerEvent(run, due_at)):
                FlowRun.objects.filter(pk=run.pk).update(wake_at=None)
            fired += 1
        return len(runs), fired


def _runs_with_revisions(runs: Any) -> list[FlowRun]:
    """The runs of a queryset with their flow and revision, each flow and revision read once.

    A batch's runs mostly share a few revisions: ``select_related("revision")`` would decode the
    whole definition again for every run (a large flow's JSON, 200 times a batch).
    """
    loaded = list(runs)
    if not loaded:
        return loaded
    revisions = FlowRevision.objects.in_bulk({run.revision_id for run in loaded})
    flows = Flow.objects.in_bulk({run.flow_id for run in loaded})
    for run in loaded:
        run.revision, run.flow = revisions[run.revision_id], flows[run.flow_id]
    return loaded


def timers_fire_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Periodic: fire what is due now (the beat's tick). Kept for callers of the old name."""
    return timers_sweep(now=now, batch=min(limit, 200))

