"""Reads of the AI part."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from integrations.models import Assistant, AssistantMemory


def assistant_get(ref) -> Assistant | None:
    """An assistant by instance, id or name (nodes name it)."""
    if isinstance(ref, Assistant):
        return ref
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        found = Assistant.objects.filter(pk=int(ref)).first()
        if found is not None:
            return found
    return Assistant.objects.select_related("credential").filter(name=str(ref or "").strip()).first()


def memory_recent(*, assistant: Assistant, contact, turns: int, now=None) -> list[dict[str, str]]:
    """The last ``turns`` turns (a turn is a question and its answer) as chat messages, leaving out
    turns older than ``FLUXO_AI_MEMORY_TTL_HOURS`` (last month's chat is not today's context)."""
    if contact is None or turns <= 0:
        return []
    memory = AssistantMemory.objects.filter(assistant=assistant, contact=contact).first()
    if memory is None:
        return []
    oldest = ((now or timezone.now()) - timedelta(hours=settings.FLUXO_AI_MEMORY_TTL_HOURS)).isoformat()
    fresh = [t for t in memory.turns if str(t.get("at", "")) >= oldest]
    return [{"role": t["role"], "content": t["content"]} for t in fresh[-turns * 2:]]
