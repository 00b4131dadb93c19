"""Writes of the vault, and how a credential is applied to an outbound request.

A credential's secret only ever leaves this module inside the request it authenticates; what is
recorded (step traces, logs, API answers) is the masked form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

from django.db import transaction
from django.utils import timezone

from core.crypto import mask
from core.logging import register_secret
from core.secrets import secret_value_register, secrets_forget
from integrations.models import Credential

MASK = "••••"


@transaction.atomic
def credential_create(*, name: str, kind: str, secret: str, username: str = "", header_name: str = "",
                      query_param: str = "", base_url: str = "", allowed_hosts: list[str] | None = None,
                      description: str = "") -> Credential:
    """Store a new credential (the secret is encrypted by the field)."""
    credential = Credential(name=name, kind=kind, secret=secret, username=username, header_name=header_name,
                            query_param=query_param, base_url=base_url, allowed_hosts=allowed_hosts or [],
                            description=description)
    credential.full_clean()
    credential.save()
    register_secret(secret)
    return credential


@transaction.atomic
def credential_update(*, credential: Credential, **fields: Any) -> Credential:
    """Change a credential. An empty or absent ``secret`` keeps the stored one (forms never echo it)."""
    if not fields.get("secret"):
        fields.pop("secret", None)
    for key, value in fields.items():
        setattr(credential, key, value)
    credential.full_clean()
    credential.save()
    return credential


def credential_touch(*, credential: Credential) -> None:
    Credential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())


@dataclass
class AppliedCredential:
    """What a credential adds to a request, and how to describe that request without the secret."""

    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    sensitive_headers: set[str] = field(default_factory=set)
    masked: dict[str, Any] = field(default_factory=dict)


def credential_secret_values() -> list[tuple[str, str]]:
    """(credential name, value) of every secret of the vault, for ``core.secrets`` (masking downstream).

    A basic credential also gives its ``Authorization`` value (base64 of ``user:password``), which an
    API echoing its request headers would send back.
    """
    import base64

    pairs: list[tuple[str, str]] = []
    for name, kind, username, secret in Credential.objects.values_list("name", "kind", "username", "secret"):
        pairs.append((name, secret or ""))
        if kind == Credential.Kind.BASIC and secret:
            pairs.append((name, base64.b64encode(f"{username}:{secret}".encode()).decode()))
    return pairs


def credentials_forget(**kwargs: Any) -> None:
    """A credential was saved or deleted: the next masking reloads the vault's values."""
    secrets_forget()


def credential_apply(credential: Credential) -> AppliedCredential:
    """Headers/params/basic auth that authenticate a request with ``credential``."""
    secret = credential.secret or ""
    register_secret(secret)
    # The process making the call knows this value at once, whatever its registry's age.
    secret_value_register(name=credential.name, value=secret)
    kind = credential.kind
    if kind == Credential.Kind.BEARER:
        return AppliedCredential(headers={"Authorization": f"Bearer {secret}"}, sensitive_headers={"authorization"},
                                 masked={"Authorization": f"Bearer {mask(secret) or MASK}"})
    if kind == Credential.Kind.BASIC:
        return AppliedCredential(auth=(credential.username, secret), sensitive_headers={"authorization"},
                                 masked={"Authorization": f"Basic {credential.username}:{MASK}"})
    if kind == Credential.Kind.HEADER:
        name = credential.header_name or "X-API-Key"
        return AppliedCredential(headers={name: secret}, sensitive_headers={name.lower()},
                                 masked={name: mask(secret) or MASK})
    if kind == Credential.Kind.QUERY:
        param = credential.query_param or "api_key"
        # The URL carries the secret percent-encoded: mask those spellings in logs too.
        for spelling in (quote_plus(secret), quote(secret, safe=""), quote(secret)):
            register_secret(spelling)
        return AppliedCredential(params={param: secret}, masked={f"?{param}": MASK})
    return AppliedCredential(masked={"url": MASK})
