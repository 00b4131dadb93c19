"""The language of what runs write down: end reasons, step errors, refused and failed sends.

A run's messages are stored once and read later by anyone (the dashboard, the Runs list, the
canvas, the sandbox), so they are written in one language for the whole installation, whoever or
whatever made them happen: ``FLUXO_RUN_LANGUAGE`` (default ``LANGUAGE_CODE``, pt-BR). Every entry
point that runs flows or sends messages — the contact's event processing, outside calls, timers,
test runs, the outbound sender — wraps its work in :func:`run_language`, so a Celery worker (no
language active) and a web request (the person's language active) store the same text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.utils import translation

F = TypeVar("F", bound=Callable[..., Any])


def run_language_code() -> str:
    """The Django language code run-time messages are written in."""
    return (getattr(settings, "FLUXO_RUN_LANGUAGE", "") or settings.LANGUAGE_CODE).lower()


@contextmanager
def run_language() -> Iterator[None]:
    """Activate the installation's run language for the block (restoring the caller's after)."""
    with translation.override(run_language_code()):
        yield


def in_run_language(func: F) -> F:
    """Decorator form of :func:`run_language`, for entry points."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with run_language():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def label_text(labels: dict[str, str] | str | None) -> str:
    """A ``{"pt-BR": ..., "en": ...}`` label (node types, ports) in the active language."""
    if not isinstance(labels, dict):
        return labels or ""
    language = (translation.get_language() or settings.LANGUAGE_CODE).lower()
    key = "en" if language.startswith("en") else "pt-BR"
    return labels.get(key) or labels.get("pt-BR") or labels.get("en") or ""
