"""What changed between two definitions: blocks added, removed and changed (and connections),
for the history's visual diff. Layout moves are counted apart: they change nothing a run does."""

from __future__ import annotations

from typing import Any

from flows.spec import SpecVersionError, spec_migrate
from flows.validation import node_name


def _index(definition: dict[str, Any] | None) -> tuple[dict[str, dict], set[tuple[str, str, str]], dict]:
    if not isinstance(definition, dict):
        return {}, set(), {}
    try:
        definition = spec_migrate(definition)
    except SpecVersionError:
        return {}, set(), {}
    nodes = {n["id"]: n for n in definition.get("nodes") or [] if isinstance(n, dict) and "id" in n}
    edges = {(e.get("source"), e.get("source_port"), e.get("target")) for e in definition.get("edges") or []
             if isinstance(e, dict)}
    positions = {k: (v or {}).get("position") for k, v in ((definition.get("ui") or {}).get("nodes") or {}).items()}
    return nodes, edges, positions


def _changed_fields(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += _changed_fields(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else str(key))
        return out
    return [] if old == new else [prefix or "config"]


def _brief(node: dict[str, Any]) -> dict[str, Any]:
    return {"id": node["id"], "type": node.get("type"), "name": node_name(node)}


def definition_diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """Blocks and connections added/removed/changed from ``old`` to ``new`` (old None: all added)."""
    old_nodes, old_edges, old_pos = _index(old)
    new_nodes, new_edges, new_pos = _index(new)
    added = [_brief(new_nodes[i]) for i in new_nodes if i not in old_nodes]
    removed = [_brief(old_nodes[i]) for i in old_nodes if i not in new_nodes]
    changed = []
    for node_id in new_nodes.keys() & old_nodes.keys():
        before, after = old_nodes[node_id], new_nodes[node_id]
        fields = _changed_fields(before.get("config") or {}, after.get("config") or {})
        if before.get("type") != after.get("type"):
            fields.insert(0, "type")
        if (before.get("name") or "") != (after.get("name") or ""):
            fields.insert(0, "name")
        if fields:
            changed.append({**_brief(after), "fields": fields[:20]})
    changed.sort(key=lambda item: item["id"])
    moved = sum(1 for i in new_nodes.keys() & old_nodes.keys() if old_pos.get(i) != new_pos.get(i))
    return {
        "added": added, "removed": removed, "changed": changed, "moved": moved,
        "edges_added": [list(e) for e in sorted(new_edges - old_edges, key=str)],
        "edges_removed": [list(e) for e in sorted(old_edges - new_edges, key=str)],
    }


def diff_summary(diff: dict[str, Any]) -> dict[str, int]:
    return {"added": len(diff["added"]), "removed": len(diff["removed"]), "changed": len(diff["changed"]),
            "moved": diff["moved"], "connections": len(diff["edges_added"]) + len(diff["edges_removed"])}
