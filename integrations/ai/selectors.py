"""Reads of the AI part."""

from __future__ import annotations

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


def memory_recent(*, assistant: Assistant, contact, turns: int) -> list[dict[str, str]]:
    """The last ``turns`` turns (a turn is a question and its answer) as chat messages."""
    if contact is None or turns <= 0:
        return []
    memory = AssistantMemory.objects.filter(assistant=assistant, contact=contact).first()
    if memory is None:
        return []
    return [{"role": t["role"], "content": t["content"]} for t in memory.turns[-turns * 2:]]
