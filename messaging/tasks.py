"""Celery tasks of the messaging app: thin wrappers over services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from messaging.models import Message
from messaging.providers.base import ProviderError
from messaging.providers.registry import provider_for
from messaging.services import message_status_advance

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=8, acks_late=True)
def message_deliver(self, message_id: int) -> None:
    """Send one queued message through its channel's provider. Idempotent: only queued messages leave."""
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("channel", "contact").filter(pk=message_id).first()
        if message is None or message.status != Message.Status.QUEUED:
            return
        message.attempts += 1
        message.save(update_fields=["attempts"])
        try:
            result = provider_for(message.channel).send(message)
        except ProviderError as exc:
            if exc.retryable and self.request.retries < self.max_retries:
                raise self.retry(countdown=exc.retry_after or 2 ** self.request.retries) from exc
            message_status_advance(message=message, status=Message.Status.FAILED, error_code=exc.code, error=exc.message)
            return
        message.provider_message_id = result.provider_message_id
        message.save(update_fields=["provider_message_id"])
        message_status_advance(message=message, status=Message.Status.SENT)
        if result.status == "delivered":
            message_status_advance(message=message, status=Message.Status.DELIVERED)
