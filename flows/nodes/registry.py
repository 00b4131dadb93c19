"""The node-type registry: one instance per key."""

from __future__ import annotations

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
