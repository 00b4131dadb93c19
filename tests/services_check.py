"""Says which real services the suite will use; under CI=true, fails when one is missing."""

import sys

from config import test_settings  # noqa: F401  (raises under CI when a service is missing)

print(
    "test services: PostgreSQL "
    + ("yes" if test_settings.HAS_POSTGRES else "no (SQLite fallback)")
    + ", Redis "
    + ("yes" if test_settings.HAS_REDIS else "no")
)
sys.exit(0)
