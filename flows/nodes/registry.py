"""The node-type registry: one instance per key."""

from __future__ import annotations

from collections.abc import Callable

from flows.nodes.base import NodeType

_registry: dict[str, NodeType] = {}


def register(cls: type[NodeType]) -> type[NodeType]:
    key = cls.key
    if key in _registry and type(_registry[key]) is not cls:
        raise ValueError(f"node type {key!r} registered twice")
    _registry[key] = cls()
    return cls


def get(key: str) -> NodeType | None:
    return _registry.get(key)


def all_types() -> list[NodeType]:
    return sorted(_registry.values(), key=lambda t: (t.category, t.key))


# --- Named things a node's config refers to (credentials, teams, subscriptions) -----------------
# Apps above flows (integrations) own those records; they register a check per kind from their
# AppConfig.ready(), so validation can say "credential 'x' is not in the vault" without flows
# importing them.
_name_checks: dict[str, Callable[[str], bool]] = {}


def register_name_check(kind: str, exists: Callable[[str], bool]) -> None:
    """Register ``exists(name) -> bool`` for one kind of named record (e.g. ``credential``)."""
    _name_checks[kind] = exists


def name_exists(kind: str, name: str) -> bool:
    """Whether a record of that kind and name exists. True when nobody can tell (no check, no database)."""
    check = _name_checks.get(kind)
    if check is None:
        return True
    try:
        return bool(check(name))
    except Exception:  # no database at hand (e.g. offline validation): do not guess
        return True
