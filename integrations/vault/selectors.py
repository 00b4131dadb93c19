"""Reads of the vault."""

from __future__ import annotations

from django.db.models import QuerySet

from integrations.models import Credential


def credential_list() -> QuerySet[Credential]:
    return Credential.objects.all()


def credential_get_by_name(name: str) -> Credential | None:
    """The credential called ``name`` (flows refer to credentials by name), or ``None``."""
    return Credential.objects.filter(name=(name or "").strip()).first()
