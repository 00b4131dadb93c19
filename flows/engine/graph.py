"""A revision's definition compiled for execution: nodes by id and edges by (source, port)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flows.spec import spec_migrate


@dataclass(frozen=True)
class CompiledFlow:
    nodes: dict[str, dict[str, Any]]
    edges: dict[tuple[str, str], str]
    trigger_ids: tuple[str, ...]

    def target(self, node_id: str, port: str) -> str | None:
        return self.edges.get((node_id, port))


def compile_definition(definition: dict[str, Any]) -> CompiledFlow:
    from flows.nodes import registry

    definition = spec_migrate(definition)
    nodes = {n["id"]: n for n in definition.get("nodes", [])}
    edges = {(e["source"], e["source_port"]): e["target"] for e in definition.get("edges", [])}
    triggers = tuple(nid for nid, n in nodes.items()
                     if (t := registry.get(n["type"])) is not None and t.is_trigger)
    return CompiledFlow(nodes=nodes, edges=edges, trigger_ids=triggers)


_cache: OrderedDict[tuple, CompiledFlow] = OrderedDict()
_lock = threading.Lock()
_CACHE_SIZE = 512


def compiled_revision(revision) -> CompiledFlow:
    """Revisions never change, so their compiled form is cached.

    The key adds the creation time to the primary key: SQLite may hand a rolled-back row's id to
    a new revision, which must not meet the old one's graph.
    """
    key = (revision.pk, revision.created_at)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    compiled = compile_definition(revision.definition)
    with _lock:
        _cache[key] = compiled
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled
