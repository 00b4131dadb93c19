"""Recording an inbound message while the contact's events are processed must not deadlock."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from messaging.models import Contact, Conversation
from messaging.services import conversation_touch_inbound, message_record_inbound
from tests.factories import make_contact

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_inbound_message_waits_for_the_event_processor_instead_of_deadlocking():
    contact = make_contact()
    conversation_touch_inbound(contact=contact, channel=contact.channel, at=timezone.now())
    processor_has_contact = threading.Event()
    errors: list[BaseException] = []

    def processor():
        # What contact_events_process does: hold the contact, then touch its conversation.
        try:
            with transaction.atomic():
                Contact.objects.select_for_update().get(pk=contact.pk)
                processor_has_contact.set()
                time.sleep(0.5)  # meanwhile the webhook side starts recording a message
                Conversation.objects.select_for_update().filter(contact=contact).first()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    def webhook_side():
        processor_has_contact.wait(5)
        try:
            message_record_inbound(contact=Contact.objects.get(pk=contact.pk), channel=contact.channel, kind="text",
                                   content={"text": {"body": "oi"}}, provider_message_id="wamid.lock-order")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=processor), threading.Thread(target=webhook_side)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert contact.messages.filter(provider_message_id="wamid.lock-order").exists()
