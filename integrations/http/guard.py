"""The SSRF guard, kept importable here: the code lives in :mod:`core.netguard` so that every layer
(messaging fetches media from user-given links too) checks outbound addresses with the same rules."""

from core.netguard import (  # noqa: F401 - re-exported for integrations, migrations and tests
    CGNAT,
    MAX_ALLOW_ENTRIES,
    METADATA_ADDRESSES,
    NAT64,
    BlockedAddress,
    Guard,
    IPAddress,
    Network,
    Resolver,
    allow_entries,
    classify,
    default_resolver,
    guard_for,
    parse_allow_entry,
    system_resolver,
    validate_allow_list,
)
