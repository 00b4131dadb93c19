"""Celery tasks of the integrations app: thin, id-based, idempotent (the services decide)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True,
             retry_jitter=True, max_retries=5)
def webhook_deliver(delivery_id: int) -> None:
    """One attempt at a webhook delivery. A delivery that is not due or already done is a no-op."""
    from integrations.webhooks.services import webhook_delivery_attempt

    webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True,
             retry_jitter=True, max_retries=3)
def webhooks_deliver_due() -> int:
    """Periodic: retry every webhook delivery whose backoff has passed."""
    from integrations.webhooks.services import webhooks_deliver_due as deliver_due

    return deliver_due()


@shared_task(acks_late=True)
def webhook_deliveries_prune() -> int:
    """Daily: forget finished deliveries past the retention."""
    from integrations.webhooks.services import webhook_deliveries_prune as prune

    return prune()
