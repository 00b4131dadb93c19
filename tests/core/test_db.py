"""The hot path's lean SQL helpers (core/db.py) write what Django's own save would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.db import in_condition, insert_rows, update_rows
from core.unit import unit_of_work
from messaging.models import Contact
from tests.factories import make_channel

pytestmark = pytest.mark.django_db


def _contacts(count: int, channel) -> list[Contact]:
    contacts = [Contact(phone=f"+55119876500{i:02d}", name=f"Cliente {i}", channel=channel) for i in range(count)]
    insert_rows(Contact, contacts)
    return contacts


def test_update_rows_saves_json_datetimes_foreign_keys_and_nulls_in_one_statement():
    channel, other = make_channel(), make_channel(name="Outro")
    contacts = _contacts(3, channel)
    seen = timezone.now() - timedelta(hours=2)
    before = {c.pk: Contact.objects.get(pk=c.pk).updated_at for c in contacts}
    for i, contact in enumerate(contacts):
        contact.attributes = {"pedido": 100 + i, "nested": {"ok": [i, None]}, "texto": "ação 'aspas'"}
        contact.last_inbound_at = seen if i else None
        contact.channel = other
        contact.name = f"Novo {i}"
    with CaptureQueriesContext(connection) as queries:
        update_rows(Contact, contacts, ["attributes", "channel", "last_inbound_at", "name", "updated_at"])
    assert len(queries.captured_queries) == 1
    for i, contact in enumerate(contacts):
        saved = Contact.objects.get(pk=contact.pk)
        assert saved.attributes == {"pedido": 100 + i, "nested": {"ok": [i, None]}, "texto": "ação 'aspas'"}
        assert saved.last_inbound_at == (seen if i else None)
        assert saved.channel_id == other.pk and saved.name == f"Novo {i}"
        assert saved.updated_at > before[contact.pk]  # auto_now refreshed, as save() would


def test_update_rows_leaves_other_rows_and_fields_alone():
    channel = make_channel()
    first, second, third = _contacts(3, channel)
    first.name, second.name, third.name = "A", "B", "não salvo"
    first.attributes = {"not": "saved"}
    update_rows(Contact, [first, second], ["name"])
    assert Contact.objects.get(pk=first.pk).name == "A"
    assert Contact.objects.get(pk=first.pk).attributes == {}
    assert Contact.objects.get(pk=second.pk).name == "B"
    assert Contact.objects.get(pk=third.pk).name == "Cliente 2"


def test_a_unit_of_work_flushes_several_changed_rows_of_a_table_in_one_update():
    channel = make_channel()
    contacts = _contacts(4, channel)
    with CaptureQueriesContext(connection) as queries, unit_of_work() as unit:
        for i, contact in enumerate(contacts):
            contact.attributes = {"i": i}
            unit.update(contact, ["attributes"])
    updates = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1
    assert [Contact.objects.get(pk=c.pk).attributes for c in contacts] == [{"i": i} for i in range(4)]


def test_in_condition_selects_exactly_the_given_values():
    contacts = _contacts(4, make_channel())
    wanted = [contacts[0].phone, contacts[2].phone, "+5511000000000"]
    condition, args = in_condition("phone", wanted)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT phone FROM {Contact._meta.db_table} WHERE {condition} ORDER BY phone", args)
        assert [row[0] for row in cursor.fetchall()] == sorted([contacts[0].phone, contacts[2].phone])
    if connection.vendor == "postgresql":  # one statement text whatever the count: one plan, one counter
        assert in_condition("phone", wanted[:1])[0] == condition
