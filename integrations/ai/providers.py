"""AI providers behind one interface: the offline built-in retriever and OpenAI-compatible chat.

A provider answers ``reply(assistant=, history=, text=)`` with a :class:`ProviderReply` or raises
:class:`ProviderError` (``code`` says what kind: ``ai_timeout``, ``ai_provider_error``, …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import requests
from django.utils.translation import gettext

from core.logging import mask_text
from integrations.ai.retrieval import Index
from integrations.http import client
from integrations.http.guard import BlockedAddress, guard_for
from integrations.models import Assistant

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"


@dataclass
class ProviderReply:
    text: str
    confidence: float | None
    tokens: int
    model: str = ""
    source: str = ""


class ProviderError(Exception):
    def __init__(self, message: str, *, code: str = "ai_provider_error"):
        super().__init__(message)
        self.message, self.code = message, code


class Provider(Protocol):
    key: str

    def reply(self, *, assistant: Assistant, history: list[dict[str, str]], text: str) -> ProviderReply: ...


_INDEX_CACHE: dict[int, tuple[int, Index]] = {}


def knowledge_index(assistant: Assistant) -> tuple[Index, dict[int, Any]]:
    """The assistant's BM25 index, rebuilt only when its entries changed (tokenizing is the cost)."""
    entries = {e.pk: e for e in assistant.knowledge.filter(is_active=True)}
    fingerprint = hash(tuple((pk, e.question, e.keywords, e.answer) for pk, e in sorted(entries.items())))
    cached = _INDEX_CACHE.get(assistant.pk)
    if cached is not None and cached[0] == fingerprint:
        return cached[1], entries
    index = Index([(pk, f"{e.question} {e.keywords.replace(',', ' ')}", e.answer) for pk, e in entries.items()])
    if len(_INDEX_CACHE) > 256:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[assistant.pk] = (fingerprint, index)
    return index, entries


class BuiltinProvider:
    """Answers with the best-matching knowledge entry; its confidence decides if that is enough.

    A short follow-up ("e para o Nordeste?") is also tried joined to the contact's previous
    question from the memory, and the more confident reading wins.
    """

    key = "builtin"

    def reply(self, *, assistant, history, text):
        index, entries = knowledge_index(assistant)
        if not entries:
            raise ProviderError(gettext("assistant '%(assistant)s' has no knowledge entries") % {"assistant": assistant.name},
                                code="ai_no_knowledge")
        best = next(iter(index.search(text, limit=1)), None)
        previous = next((t["content"] for t in reversed(history) if t.get("role") == "user"), "")
        if previous and (best is None or best.confidence < assistant.confidence_threshold):
            alternative = next(iter(index.search(f"{previous} {text}", limit=1)), None)
            if alternative is not None and (best is None or alternative.confidence > best.confidence):
                best = alternative
        if best is None:
            return ProviderReply(text="", confidence=0.0, tokens=0, model="bm25")
        entry = entries[best.key]
        return ProviderReply(text=entry.answer, confidence=best.confidence, tokens=0, model="bm25",
                             source=entry.question)


class OpenAICompatibleProvider:
    """``POST {base_url}/chat/completions`` (OpenAI, Ollama, vLLM, LM Studio, …), key from the vault.

    The system prompt is the assistant's instructions plus the knowledge entries closest to the
    question, so the model answers from the company's own facts.
    """

    key = "openai"

    def reply(self, *, assistant, history, text):
        credential = assistant.credential
        base_url = (assistant.base_url or (credential.base_url if credential else "") or DEFAULT_OPENAI_BASE_URL)
        model = assistant.model or "gpt-4o-mini"
        system = assistant.instructions or "Você é um assistente de atendimento. Responda em português, com clareza."
        index, entries = knowledge_index(assistant)
        facts = [entries[m.key] for m in index.search(text, limit=3)]
        if facts:
            system += "\n\nBase de conhecimento:\n" + "\n".join(f"- {e.question}: {e.answer}" for e in facts)
        messages = [{"role": "system", "content": system}, *history, {"role": "user", "content": text}]
        headers = {"Content-Type": "application/json"}
        if credential is not None:
            headers["Authorization"] = f"Bearer {credential.secret}"
        url = base_url.rstrip("/") + "/chat/completions"
        try:
            response = client.request(
                "POST", url, headers=headers, timeout=assistant.timeout_seconds, max_bytes=2_000_000,
                json_body={"model": model, "messages": messages, "temperature": assistant.temperature,
                           "max_tokens": assistant.max_tokens},
                guard=guard_for(credential.allowed_hosts if credential else ()),
                sensitive_headers={"authorization"},
            )
        except requests.Timeout:
            raise ProviderError(gettext("the AI provider did not answer within %(seconds)s s")
                                % {"seconds": f"{assistant.timeout_seconds:g}"},
                                code="ai_timeout")
        except BlockedAddress as exc:
            raise ProviderError(str(exc), code="ai_blocked")
        except (requests.RequestException, client.BadURL, client.ResponseTooLarge, client.TooManyRedirects) as exc:
            reason = client.describe_error(exc) if isinstance(exc, requests.RequestException) else str(exc)
            raise ProviderError(gettext("could not reach the AI provider: %(reason)s") % {"reason": mask_text(reason)[:300]})
        if response.status in (401, 403):
            raise ProviderError(gettext("the AI provider refused the API key (%(status)s); check the credential "
                                        "'%(credential)s'")
                                % {"status": response.status, "credential": credential.name if credential else "—"},
                                code="ai_auth")
        if response.status == 429:
            raise ProviderError(gettext("the AI provider is rate limiting us (429)"), code="ai_rate_limited")
        if not response.ok:
            raise ProviderError(gettext("the AI provider answered %(status)s: %(body)s")
                                % {"status": response.status, "body": mask_text(response.text[:200])})
        try:
            data = response.json()
            content = data["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ProviderError(gettext("the AI provider's answer is not a chat completion (%(error)s)") % {"error": repr(exc)},
                                code="ai_bad_response")
        usage = data.get("usage") or {}
        tokens = int(usage.get("total_tokens") or (usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)))
        return ProviderReply(text=content.strip(), confidence=None, tokens=tokens, model=str(data.get("model") or model))


PROVIDERS: dict[str, Provider] = {"builtin": BuiltinProvider(), "openai": OpenAICompatibleProvider()}


def provider_for(assistant: Assistant) -> Provider:
    try:
        return PROVIDERS[assistant.provider]
    except KeyError:
        raise ProviderError(gettext("unknown provider '%(provider)s'") % {"provider": assistant.provider},
                            code="ai_provider_unknown") from None


__all__ = ["PROVIDERS", "ProviderError", "ProviderReply", "provider_for"]
