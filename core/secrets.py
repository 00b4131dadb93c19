"""The registry of current secret values, so that no vault secret is stored, shown or sent downstream.

A company API may echo the credential it was called with (an ``/echo`` endpoint, a debug field, a
header dump), an AI provider may repeat its key back. Whatever comes back is data the flow stores in
its variables, shows in traces and may put in a message. This module knows the secrets' current
values and masks them:

* :func:`secrets_mask` replaces every secret inside a JSON-like value with ``[segredo: <name>]``
  before it is stored (call results, run variables, step outputs) and again when it is shown (API
  answers, admin pages — the second line of defence);
* :func:`secrets_found` names the secrets inside a value (the outbound rule ``secret_in_message``
  refuses a send that contains one, or the mask of one);
* the log formatter (:mod:`core.logging`) masks them in every log line.

``core`` is the lowest layer and cannot read the vault: higher layers register a *provider* (a
function returning ``(name, value)`` pairs) in their ``AppConfig.ready()`` — ``integrations`` gives
the vault's credentials. Values are cached per process for :data:`TTL` seconds and forgotten at once
(:func:`secrets_forget`) when a credential is saved or deleted in this process; another process sees
the change within the TTL (the process that makes a call also registers the credential it applies).

Values shorter than :data:`MIN_LENGTH` characters are not registered: masking every "1234" or "abc"
in customers' data would garble messages and variables for no protection (such a value is not a
secret worth the name).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, quote_plus

logger = logging.getLogger(__name__)

TTL = 30.0
MIN_LENGTH = 6
MARKER = "[segredo: {name}]"
# The mask of a registered secret, in any stored or shown text (a message carrying it is refused too).
MARKER_PATTERN = re.compile(r"\[segredo: ([A-Za-z0-9_\-]{1,80})\]")

SecretProvider = Callable[[], Iterable[tuple[str, str]]]

_lock = threading.Lock()
_providers: list[SecretProvider] = []
_loaded_at: float | None = None
# (pattern of every spelling, spelling -> name): swapped as a whole, so readers never see it half-built.
_state: tuple[re.Pattern[str] | None, dict[str, str]] = (None, {})
_extra: dict[str, str] = {}  # values registered directly (e.g. by the process that applies a credential)


def register_secret_provider(provider: SecretProvider) -> None:
    """Let a higher layer tell which values are secrets (called from its ``AppConfig.ready``)."""
    with _lock:
        if provider not in _providers:
            _providers.append(provider)


def secret_value_register(*, name: str, value: str) -> None:
    """Register one secret value now, in this process (until the next reload of the providers)."""
    global _state
    if not value or len(value) < MIN_LENGTH:
        return
    with _lock:
        if _state[1].get(value) == name:
            return
        _extra[value] = name
        names = dict(_state[1])
        for spelling in _spellings(value):
            names[spelling] = name
        _state = (_compile(names), names)


def secrets_forget() -> None:
    """Drop the cached values: the next lookup asks the providers again (a credential was saved/deleted)."""
    global _loaded_at, _state
    with _lock:
        _loaded_at = None
        _extra.clear()
        _state = (None, {})


def _spellings(value: str) -> list[str]:
    """A value and the ways it is written in a URL (a query credential travels percent-encoded)."""
    return list(dict.fromkeys([value, quote_plus(value), quote(value, safe=""), quote(value)]))


def _compile(by_value: dict[str, str]) -> re.Pattern[str] | None:
    if not by_value:
        return None
    return re.compile("|".join(re.escape(v) for v in sorted(by_value, key=len, reverse=True)))


def _current(*, refresh: bool = True) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """The pattern of all secret spellings and the name of each, reloading the providers after the TTL.

    With ``refresh=False`` (log formatting, async code) only what is already loaded is used: never a
    database query from there.
    """
    global _loaded_at, _state
    now = time.monotonic()
    loaded = _loaded_at
    if not refresh or (loaded is not None and now - loaded < TTL) or _in_async_context():
        return _state
    values: dict[str, str] = {}
    for provider in list(_providers):
        try:
            pairs = list(provider())
        except Exception:  # noqa: BLE001 - masking must not break the caller; the old values still apply
            logger.warning("a secret provider failed; keeping the values loaded before", exc_info=True)
            return _state
        for name, value in pairs:
            if value and len(value) >= MIN_LENGTH:
                for spelling in _spellings(value):
                    values.setdefault(spelling, name)
    from core.logging import register_secret

    for value in values:
        register_secret(value)  # the log masker sees every vault value too
    with _lock:
        for value, name in _extra.items():
            for spelling in _spellings(value):
                values.setdefault(spelling, name)
        _state = (_compile(values), values)
        _loaded_at = now
    return _state


def _in_async_context() -> bool:
    return asyncio._get_running_loop() is not None  # unlike get_running_loop(), raises nothing when none runs


def _mask_str(text: str, pattern: re.Pattern[str], names: dict[str, str]) -> str:
    return pattern.sub(lambda m: MARKER.format(name=names.get(m.group(0), "?")), text)


def secrets_mask_text(text: str, *, refresh: bool = True) -> str:
    """``text`` with every registered secret replaced by ``[segredo: <name>]``."""
    if not text or not isinstance(text, str):
        return text
    pattern, names = _current(refresh=refresh)
    return _mask_str(text, pattern, names) if pattern is not None else text


def secrets_mask(value: Any, *, refresh: bool = True) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings; keys too) with every secret masked.

    Returns ``value`` itself when no secret is registered or none is inside (cheap on the hot path).
    """
    pattern, names = _current(refresh=refresh)
    if pattern is None:
        return value
    return _walk(value, pattern, names)


def _walk(value: Any, pattern: re.Pattern[str], names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _mask_str(value, pattern, names) if pattern.search(value) else value
    if isinstance(value, dict):
        out = {}
        changed = False
        for key, item in value.items():
            new_key = _walk(key, pattern, names) if isinstance(key, str) else key
            new_item = _walk(item, pattern, names)
            changed = changed or new_key is not key or new_item is not item
            out[new_key] = new_item
        return out if changed else value
    if isinstance(value, list | tuple):
        items = [_walk(item, pattern, names) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return items
        return value
    return value


def secrets_found(value: Any) -> list[str]:
    """Names of the secrets inside a JSON-like value, in clear or as their mask (sorted, distinct)."""
    pattern, names = _current(refresh=not _in_async_context())
    found: set[str] = set()

    def visit(item: Any) -> None:
        if isinstance(item, str):
            if pattern is not None:
                found.update(names.get(m.group(0), "?") for m in pattern.finditer(item))
            found.update(m.group(1) for m in MARKER_PATTERN.finditer(item))
        elif isinstance(item, dict):
            for key, sub in item.items():
                visit(key)
                visit(sub)
        elif isinstance(item, list | tuple):
            for sub in item:
                visit(sub)

    visit(value)
    return sorted(found)


class SecretsMaskedMixin:
    """For a DRF serializer: its representation with vault secrets masked (the second line of defence;
    stored data is masked already when it is written)."""

    def to_representation(self, instance: Any) -> Any:
        return secrets_mask(super().to_representation(instance))  # type: ignore[misc]
