"""Celery task of the contact import (registered by MessagingConfig.ready)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def contact_import_run_task(import_id: int) -> None:
    """Run one queued import; a failure rolls it back whole and is kept on the import."""
    from messaging.contacts import contact_import_run

    try:
        contact_import_run(import_id=import_id)
    except Exception:  # recorded on the ContactImport by the service; nothing to retry blindly
        return
