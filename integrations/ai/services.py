"""``assistant_reply``: the runtime service behind the ``ai_reply`` node.

Loads the assistant, gives its provider the contact's last turns, measures latency, keeps the
new turn in the per-contact memory, and turns every problem (provider error, timeout, answer
below the confidence threshold) into a :class:`~flows.nodes.base.StepError`, so the node takes its
failure (handoff) port with a clear reason.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.secrets import secrets_mask
from flows.nodes.base import StepError
from integrations.ai.providers import ProviderError, provider_for
from integrations.ai.selectors import assistant_get, memory_recent
from integrations.models import Assistant, AssistantMemory, KnowledgeEntry

logger = logging.getLogger(__name__)


@transaction.atomic
def memory_append(*, assistant: Assistant, contact, turns: list[dict[str, str]]) -> None:
    """Add messages to the contact's memory with this assistant, keeping the newest ones only."""
    if contact is None or not turns:
        return
    turns = secrets_mask(turns)  # an answer (or a question) echoing a vault secret is remembered masked
    memory, _ = AssistantMemory.objects.select_for_update().get_or_create(assistant=assistant, contact=contact)
    at = timezone.now().isoformat()
    keep = settings.FLUXO_AI_MEMORY_MAX_TURNS * 2
    memory.turns = [*memory.turns, *({**t, "at": at} for t in turns)][-keep:]
    memory.save(update_fields=["turns", "updated_at"])


@transaction.atomic
def knowledge_entry_create(*, assistant: Assistant, question: str, answer: str, keywords: str = "",
                           is_active: bool = True) -> KnowledgeEntry:
    """Add a knowledge entry; the built-in provider's index picks it up on the next reply."""
    entry = KnowledgeEntry(assistant=assistant, question=question, answer=answer, keywords=keywords,
                           is_active=is_active)
    entry.full_clean()
    entry.save()
    return entry


def memory_clear(*, assistant: Assistant, contact) -> None:
    AssistantMemory.objects.filter(assistant=assistant, contact=contact).delete()


def assistant_reply(*, run=None, assistant, text: str, memory_turns: int = 6, contact=None) -> dict[str, Any]:
    """Ask ``assistant`` (instance, id or name) about ``text`` for the run's contact.

    Returns ``{"text", "confidence", "tokens", "latency_ms", "provider", "model", "source"}``.
    """
    found = assistant_get(assistant)
    if found is None:
        raise StepError(gettext("assistant '%(assistant)s' does not exist (Integrations › Assistants)")
                        % {"assistant": assistant},
                        code="assistant_missing", details={"assistant": str(assistant)})
    contact = contact if contact is not None else getattr(run, "contact", None)
    history = memory_recent(assistant=found, contact=contact, turns=memory_turns)
    started = time.monotonic()
    try:
        provider = provider_for(found)
        reply = provider.reply(assistant=found, history=history, text=text)
    except ProviderError as exc:
        latency = int((time.monotonic() - started) * 1000)
        logger.warning("assistant %s (%s) failed: %s", found.name, found.provider, exc.message)
        raise StepError(gettext("assistant '%(assistant)s' (%(provider)s): %(error)s")
                        % {"assistant": found.name, "provider": found.provider, "error": exc.message}, code=exc.code,
                        details={"provider": found.provider, "latency_ms": latency})
    latency = int((time.monotonic() - started) * 1000)
    result = {"text": reply.text, "confidence": reply.confidence, "tokens": reply.tokens, "latency_ms": latency,
              "provider": found.provider, "model": reply.model, "source": reply.source}
    user_turn = {"role": "user", "content": text}
    if (reply.confidence is not None and reply.confidence < found.confidence_threshold) or not reply.text:
        memory_append(assistant=found, contact=contact, turns=[user_turn])
        confidence = reply.confidence or 0.0
        raise StepError(
            gettext("assistant '%(assistant)s' is not sure enough (%(confidence)s < %(threshold)s): "
                    "hand over to a person")
            % {"assistant": found.name, "confidence": f"{confidence:.2f}",
               "threshold": f"{found.confidence_threshold:.2f}"},
            code="ai_low_confidence", details={**result, "threshold": found.confidence_threshold})
    memory_append(assistant=found, contact=contact, turns=[user_turn, {"role": "assistant", "content": reply.text}])
    return result
