"""Date-relative events: "N minutes/hours/days before or after the contact's date attribute X".

Each (event, contact) has one durable timer row (:class:`DateEventFire`) holding when it fires.
It is written when the event is created (one pass over the contacts that have the attribute)
and when a contact's attributes change (:func:`contact_dates_changed`, called by every service
that writes attributes): rescheduled when the date moved, removed when it was cleared. The
periodic :func:`date_events_fire_due` is one indexed probe on the pending timers' ``fire_at``
(never a scan of the contacts): each due timer records a ``schedule`` event for its contact that
starts the event's flow, in the contact's order with its other events.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from messaging.models import Contact, DateEvent, DateEventFire

logger = logging.getLogger(__name__)

BATCH = 2000
LATE_GRACE = timedelta(hours=1)  # a timer found this much past its time when scheduled is missed, not fired late


def parse_moment(value: Any, tz: zoneinfo.ZoneInfo) -> datetime | None:
    """An attribute's date: ISO datetime, ISO date or DD/MM/YYYY[ HH:MM] (naive ones in ``tz``)."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text[:10]) if len(text) >= 10 else None
        if day is None:
            try:
                day = datetime.strptime(text[:10], "%d/%m/%Y").date()
            except ValueError:
                return None
            rest = text[10:].strip()
            if rest:
                try:
                    clock = datetime.strptime(rest[:5], "%H:%M").time()
                    return datetime.combine(day, clock, tzinfo=tz)
                except ValueError:
                    pass
        return datetime.combine(day, datetime.min.time(), tzinfo=tz) if isinstance(day, date) else None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=tz)


def fire_time(event: DateEvent, value: Any) -> datetime | None:
    """When the event fires for a contact whose attribute is ``value`` (None: not a date)."""
    tz = zoneinfo.ZoneInfo(event.timezone)
    anchor = parse_moment(value, tz)
    if anchor is None:
        return None
    moment = anchor + timedelta(**{event.unit: event.offset})
    if event.time_of_day is not None:
        local = moment.astimezone(tz)
        moment = datetime.combine(local.date(), event.time_of_day, tzinfo=tz)
    return moment


def _plan(events: list[DateEvent], contacts: Iterable[tuple[int, dict[str, Any]]], now: datetime
          ) -> tuple[list[DateEventFire], list[tuple[int, int]]]:
    """The timers to write and the (event, contact) pairs to drop, for these contacts' attributes."""
    write, drop = [], []
    for contact_id, attributes in contacts:
        for event in events:
            raw = (attributes or {}).get(event.attribute)
            moment = fire_time(event, raw)
            if moment is None:
                drop.append((event.pk, contact_id))
                continue
            state = DateEventFire.State.MISSED if moment < now - LATE_GRACE else DateEventFire.State.PENDING
            write.append(DateEventFire(event_id=event.pk, contact_id=contact_id, value=str(raw)[:64],
                                       fire_at=moment, state=state))
    return write, drop


def _write(write: list[DateEventFire], drop: list[tuple[int, int]]) -> None:
    """Upsert the timers (a date that did not change keeps its state: a fired one is not fired again)."""
    by_event: dict[int, list[int]] = {}
    for event_id, contact_id in drop:
        by_event.setdefault(event_id, []).append(contact_id)
    for event_id, contact_ids in by_event.items():
        DateEventFire.objects.filter(event_id=event_id, contact_id__in=contact_ids).delete()
    if not write:
        return
    keys = {(w.event_id, w.contact_id) for w in write}
    existing = {(f.event_id, f.contact_id): f for f in DateEventFire.objects.filter(
        event_id__in={k[0] for k in keys}, contact_id__in={k[1] for k in keys})}
    new, changed = [], []
    for fire in write:
        old = existing.get((fire.event_id, fire.contact_id))
        if old is None:
            new.append(fire)
        elif old.value != fire.value or old.fire_at != fire.fire_at:
            old.value, old.fire_at, old.state, old.fired_at = fire.value, fire.fire_at, fire.state, None
            changed.append(old)
    DateEventFire.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    DateEventFire.objects.bulk_update(changed, ["value", "fire_at", "state", "fired_at"], batch_size=1000)


def contact_dates_changed(*, contact_ids: Iterable[int], now: datetime | None = None) -> None:
    """Contacts' attributes were written: reschedule (or cancel) their date-event timers.

    Called by the services that write attributes (contact edits, imports, the flows' set-variable
    node); a no-op without active date events (one cached-size query).
    """
    ids = sorted(set(contact_ids))
    if not ids:
        return
    events = list(DateEvent.objects.filter(is_active=True))
    if not events:
        return
    now = now or timezone.now()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = Contact.objects.filter(pk__in=chunk).values_list("pk", "attributes")
        write, drop = _plan(events, rows, now)
        _write(write, drop)


def date_event_schedule_all(*, event_id: int, now: datetime | None = None) -> int:
    """Write the timers of one event for every contact with its attribute (after it is created/changed).

    Returns how many timers are pending. Contacts are read in batches by id (a one-off pass)."""
    event = DateEvent.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    if not event.is_active:
        DateEventFire.objects.filter(event=event, state=DateEventFire.State.PENDING).delete()
        return 0
    now = now or timezone.now()
    cursor = 0
    while True:
        rows = list(Contact.objects.filter(pk__gt=cursor, is_test=False, attributes__has_key=event.attribute)
                    .order_by("pk").values_list("pk", "attributes")[:BATCH])
        if not rows:
            break
        with transaction.atomic():
            write, drop = _plan([event], rows, now)
            _write(write, drop)
        cursor = rows[-1][0]
    # Contacts that lost the attribute since the last pass.
    DateEventFire.objects.filter(event=event).exclude(contact__attributes__has_key=event.attribute).delete()
    return DateEventFire.objects.filter(event=event, state=DateEventFire.State.PENDING).count()


def date_event_save(*, event: DateEvent | None = None, data: dict[str, Any]) -> DateEvent:
    """Create or change a date event, then (after commit) schedule its timers."""
    from messaging.contacts import ATTRIBUTE_KEY
    from messaging.tasks import date_event_schedule_all as schedule_task

    event = event or DateEvent()
    for key, value in data.items():
        setattr(event, key, value)
    if not ATTRIBUTE_KEY.match(event.attribute or ""):
        raise ValueError("attribute names use letters, digits and _")
    try:
        zoneinfo.ZoneInfo(event.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {event.timezone}") from None
    with transaction.atomic():
        event.save()
        transaction.on_commit(lambda: schedule_task.delay(event.pk))
    return event


def date_events_fire_due(*, now: datetime | None = None, limit: int = 500, max_batches: int = 100) -> int:
    """Fire what is due: each timer becomes a ``schedule`` event starting its flow. Returns how many.

    Batches of ``limit`` rows claimed with ``SKIP LOCKED`` (several beats never fire one twice); the
    event's dedupe key (``date:<timer>:<fire_at>``) makes a repeat a no-op.
    """
    from core.inbox import event_record

    now = now or timezone.now()
    fired = 0
    for _ in range(max_batches):
        with transaction.atomic():
            due = list(DateEventFire.objects.select_for_update(skip_locked=True)
                       .filter(state=DateEventFire.State.PENDING, fire_at__lte=now)
                       .select_related("event", "contact").order_by("fire_at")[:limit])
            if not due:
                return fired
            for fire in due:
                if fire.event.is_active:
                    event_record(kind="schedule", dedupe_key=f"date:{fire.pk}:{fire.fire_at.isoformat()}",
                                 contact=fire.contact, channel=fire.contact.channel_id,
                                 payload={"type": "date_event", "flow_id": fire.event.flow_id, "node_id": None,
                                          "date_event_id": fire.event_id, "attribute": fire.event.attribute,
                                          "value": fire.value, "due_at": fire.fire_at.isoformat()},
                                 occurred_at=fire.fire_at)
            DateEventFire.objects.filter(pk__in=[f.pk for f in due]).update(
                state=DateEventFire.State.FIRED, fired_at=now)
            fired += len(due)
    return fired
