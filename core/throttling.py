"""Brute-force throttling of the sign-in endpoints (``/api/auth/login/`` and ``/api/auth/token/``).

DRF throttles backed by Django's cache (Redis in production, so every web process shares the
counts; the embedded default's local memory counts per process). Two budgets apply together, shared
by both endpoints so that alternating them gains nothing:

* per client IP (``login_ip``, default 30 attempts a minute): one machine guessing many accounts;
* per username (``login_username``, default 10 a minute): many machines guessing one account.

Why DRF throttles rather than django-axes: they are already in the stack (no new dependency, no new
tables, no middleware/authentication backend to order), they count in the cache we run anyway, and
they answer in the API's own error shape (429, ``code: throttled``). What axes adds — lock-outs kept
in the database and an admin to lift them — is more than a sign-in form of an ops tool needs; a
window that simply expires unlocks by itself. Rates: ``FLUXO_LOGIN_RATE_IP`` and
``FLUXO_LOGIN_RATE_USERNAME`` (DRF notation, e.g. ``30/min``).
"""

from __future__ import annotations

import hashlib

from rest_framework.throttling import SimpleRateThrottle


class LoginIPThrottle(SimpleRateThrottle):
    """Sign-in attempts per client address (``REMOTE_ADDR``, or ``X-Forwarded-For`` per ``NUM_PROXIES``)."""

    scope = "login_ip"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(SimpleRateThrottle):
    """Sign-in attempts per username (case-insensitive; hashed, so the cache holds no user names)."""

    scope = "login_username"

    def get_cache_key(self, request, view) -> str | None:
        data = request.data  # a malformed body raises ParseError here: a 400 in the error shape
        username = data.get("username") if isinstance(data, dict) else None
        if not isinstance(username, str) or not username.strip():
            return None
        ident = hashlib.sha256(username.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}
