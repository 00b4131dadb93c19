"""Settings for the test suite: PostgreSQL and Redis when reachable (required under CI=true).

Chosen before Django reads its settings, so pytest-django builds the test database on the
real server. Outside CI, with no server running, the suite falls back to SQLite and skips the
tests marked ``postgres``/``redis``; under ``CI=true`` a missing server is an error.
"""

import os
import socket


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
HAS_POSTGRES = _reachable("127.0.0.1", 5432)
HAS_REDIS = _reachable("127.0.0.1", 6379)

if IN_CI and not (HAS_POSTGRES and HAS_REDIS):
    raise RuntimeError(
        f"CI=true needs PostgreSQL on 127.0.0.1:5432 (reachable: {HAS_POSTGRES}) "
        f"and Redis on 127.0.0.1:6379 (reachable: {HAS_REDIS})"
    )

os.environ.setdefault("FLUXO_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))
if HAS_POSTGRES:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fluxo")
if HAS_REDIS:
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")

from config.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
FLUXO_TEST_HAS_POSTGRES = HAS_POSTGRES
FLUXO_TEST_HAS_REDIS = HAS_REDIS
