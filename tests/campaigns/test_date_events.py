"""Date-relative events on durable timers: 10,000 contacts, rescheduled on change, cancelled when cleared."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from core.models import InboundEvent
from messaging.campaigns.events import date_event_schedule_all, date_events_fire_due, fire_time
from messaging.contacts import contact_update
from messaging.models import Contact, DateEvent, DateEventFire

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _event(**extra) -> DateEvent:
    values = {"name": "Lembrete", "attribute": "appointment_at", "offset": -24, "unit": "hours", "flow_id": 1,
              "timezone": "America/Sao_Paulo"}
    values.update(extra)
    return DateEvent.objects.create(**values)


def test_fire_time_offsets_and_time_of_day():
    event = DateEvent(attribute="a", offset=-24, unit="hours", timezone="America/Sao_Paulo", flow_id=1)
    assert fire_time(event, "2026-03-10T15:00:00-03:00") == datetime(2026, 3, 9, 18, 0, tzinfo=UTC)
    assert fire_time(event, "10/03/2026 15:00") == datetime(2026, 3, 9, 18, 0, tzinfo=UTC)
    assert fire_time(event, "not a date") is None
    event.offset, event.unit, event.time_of_day = -2, "days", time(9, 0)
    # Two days before, at 09:00 São Paulo time (12:00 UTC), whatever the hour of the appointment.
    assert fire_time(event, "2026-03-10T15:00:00-03:00") == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    event.offset, event.unit, event.time_of_day = 30, "minutes", None
    assert fire_time(event, "2026-03-10") == datetime(2026, 3, 10, 3, 30, tzinfo=UTC)  # a date: midnight local


def test_ten_thousand_contacts_scheduled_rescheduled_cancelled_and_fired_once(channel):
    base = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    Contact.objects.bulk_create([
        Contact(phone=f"+5511{900000000 + i}", channel=channel,
                attributes={"appointment_at": (base + timedelta(minutes=i)).isoformat()})
        for i in range(10_000)], batch_size=2000)
    event = _event()
    assert date_event_schedule_all(event_id=event.pk, now=NOW) == 10_000
    fires = DateEventFire.objects.filter(event=event)
    first = Contact.objects.order_by("pk").first()
    assert fires.get(contact=first).fire_at == base - timedelta(hours=24)

    # Moved: rescheduled. Cleared: cancelled. (The services that write attributes call the hook.)
    moved = Contact.objects.order_by("pk")[1]
    contact_update(contact=moved, attributes={"appointment_at": "2099-04-01T10:00:00+00:00"})
    assert fires.get(contact=moved).fire_at == datetime(2099, 3, 31, 10, 0, tzinfo=UTC)
    cleared = Contact.objects.order_by("pk")[2]
    contact_update(contact=cleared, attributes={})
    assert not fires.filter(contact=cleared).exists()

    # Nothing due: one probe, nothing fired.
    assert date_events_fire_due(now=NOW) == 0
    # The first 100 minutes' worth are due (the moved and the cleared ones are not among them).
    due_at = base - timedelta(hours=24) + timedelta(minutes=99)
    fired = date_events_fire_due(now=due_at, limit=40)
    assert fired == 98
    events = InboundEvent.objects.filter(kind="schedule", payload__date_event_id=event.pk)
    assert events.count() == 98
    assert events.first().payload["flow_id"] == 1 and events.first().payload["node_id"] is None
    assert date_events_fire_due(now=due_at) == 0  # never twice
    from django.db.models import Count

    states = dict(fires.values_list("state").annotate(n=Count("id")))
    assert states == {"pending": 10_000 - 1 - 98, "fired": 98}, states


def test_a_date_already_past_is_missed_not_fired_late(channel):
    from tests.factories import make_contact

    contact = make_contact(phone="+5511987659001", attributes={"appointment_at": "2026-03-01T13:00:00+00:00"})
    event = _event()  # 24 h before = 2026-02-28 13:00, a day ago at NOW
    date_event_schedule_all(event_id=event.pk, now=NOW)
    assert DateEventFire.objects.get(event=event, contact=contact).state == "missed"
    assert date_events_fire_due(now=NOW) == 0


def test_date_event_api_creates_and_schedules(api, channel, django_capture_on_commit_callbacks):
    from tests.factories import make_contact

    make_contact(phone="+5511987659101", attributes={"appointment_at": "2099-03-01T13:00:00+00:00"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = api.post("/api/date-events/", {"name": "Véspera", "attribute": "appointment_at", "offset": -1,
                                                 "unit": "days", "time_of_day": "09:00", "flow_id": 7}, format="json")
    assert created.status_code == 201, created.json()
    assert len(callbacks) == 1
    date_event_schedule_all(event_id=created.json()["id"])
    assert DateEventFire.objects.filter(event_id=created.json()["id"], state="pending").count() == 1
    bad = api.post("/api/date-events/", {"name": "x", "attribute": "a b", "flow_id": 1}, format="json")
    assert bad.status_code == 400
    zone = api.post("/api/date-events/", {"name": "x", "attribute": "due", "flow_id": 1, "timezone": "Mars/Olympus"},
                    format="json")
    assert zone.status_code == 400 and "timezone" in zone.json()["error"]["details"]
