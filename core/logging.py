"""Keeps secrets out of logs: every secret the process decrypts is masked in log records.

Two pieces, both wired in ``LOGGING`` (config/settings.py):

* :class:`MaskSecretsFormatter` masks the *formatted* line — the message, its arguments and the
  traceback of ``logger.exception`` (``exc_text``/``stack_info``), which a filter never sees;
* :class:`MaskSecretsFilter` masks the record's message early, for handlers with their own formatter.

The values are those decrypted in this process (:func:`register_secret`, called by
``core.crypto.EncryptedTextField``) and the vault's current values (``core.secrets``). Values under
6 characters are not registered (see ``core.secrets.MIN_LENGTH``).
"""

from __future__ import annotations

import logging
import re
import threading

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

# Shapes that are secrets whatever their source.
_GENERIC = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}|(access_token=)[^&\s]+|(sha256=)[0-9a-f]{16,}")


def register_secret(value: str) -> None:
    """Remember a secret so later log lines mask it. Short values are ignored (too many false hits)."""
    global _pattern
    if not value or len(value) < 6:  # core.secrets.MIN_LENGTH: short values give false hits
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        _pattern = re.compile("|".join(re.escape(s) for s in sorted(_secrets, key=len, reverse=True)))


def mask_text(text: str) -> str:
    """``text`` with every registered secret, bearer token, ``access_token=`` and signature masked."""
    if len(text) < 6:
        return text  # shorter than any registered secret and any generic shape: a node id, "sim", a port
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub("••••", text)
    return _GENERIC.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "••••", text)


class MaskSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class MaskSecretsFormatter(logging.Formatter):
    """A formatter whose whole output is masked: message, arguments, traceback and stack."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))
