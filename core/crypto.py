"""Secrets at rest: a Fernet-encrypted text field, and helpers to mask secrets in text.

The key comes from ``FLUXO_ENCRYPTION_KEY``; the embedded default derives one from
``SECRET_KEY`` so that a fresh machine works without configuration.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models

ENCRYPTED_PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(key: str, secret_key: str) -> Fernet:
    if key:
        return Fernet(key.encode())
    derived = base64.urlsafe_b64encode(hashlib.sha256(("fluxo-at-rest:" + secret_key).encode()).digest())
    return Fernet(derived)


def fernet() -> Fernet:
    return _fernet(settings.FLUXO_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt_text(plain: str) -> str:
    return ENCRYPTED_PREFIX + fernet().encrypt(plain.encode()).decode()


def decrypt_text(stored: str) -> str:
    if not stored.startswith(ENCRYPTED_PREFIX):
        raise ValueError("value is not encrypted")
    try:
        return fernet().decrypt(stored[len(ENCRYPTED_PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: FLUXO_ENCRYPTION_KEY differs from the one that wrote it") from exc


def mask(secret: str) -> str:
    """What a secret looks like when shown back: never the value, at most its last 4 chars."""
    if not secret:
        return ""
    return "••••" + (secret[-4:] if len(secret) >= 12 else "")


class EncryptedTextField(models.TextField):
    """Stores ``fernet:<token>`` in the database; Python code sees the plain text.

    Every value read is registered with the log masker, so it never reaches a log line.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        plain = decrypt_text(value)
        from core.logging import register_secret

        register_secret(plain)
        return plain

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        from core.logging import register_secret

        register_secret(value)
        return encrypt_text(value)
