"""The flow definition format: its JSON Schema and one migration per spec version.

Version 1 shape::

    {"spec_version": 1,
     "nodes": [{"id", "type", "config"}],
     "edges": [{"id", "source", "source_port", "target"}],
     "ui": {"nodes": {id: {"position": {"x", "y"}}}, "notes": [...], "viewport": {...}}}

``ui`` is the canvas layout: the editor owns it and the engine never reads it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

CURRENT_SPEC_VERSION = 1
SCHEMA_DIR = Path(__file__).parent


class SpecVersionError(ValueError):
    pass


def _migrate_0_to_1(definition: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (the prototype's export) kept each node's canvas position in the node itself
    (``node["position"]``) and called edge ports ``sourceHandle``. Version 1 moves layout to
    ``ui`` and names ports ``source_port``."""
    nodes, edges, ui = definition.get("nodes") or [], definition.get("edges") or [], definition.get("ui") or {}
    if not (isinstance(nodes, list) and isinstance(edges, list) and isinstance(ui, dict)
            and isinstance(ui.get("nodes", {}), dict)):
        return {**definition, "spec_version": 1}  # not a v0 shape either: the schema check reports it
    result = {"spec_version": 1, "nodes": [], "edges": [], "ui": copy.deepcopy(ui)}
    positions = result["ui"].setdefault("nodes", {})
    for node in nodes:
        if not isinstance(node, dict):
            result["nodes"].append(node)
            continue
        node = dict(node)
        position = node.pop("position", None)
        if position is not None and isinstance(node.get("id"), str):
            positions.setdefault(node.get("id"), {})["position"] = position
        node.setdefault("config", node.pop("data", {}) if "data" in node else {})
        result["nodes"].append(node)
    for index, edge in enumerate(edges):
        if not isinstance(edge, dict):
            result["edges"].append(edge)
            continue
        edge = dict(edge)
        if "source_port" not in edge:
            edge["source_port"] = edge.pop("sourceHandle", None) or "next"
        edge.setdefault("id", f"e{index}")
        result["edges"].append(edge)
    return result


# spec_version N → function turning an N definition into N+1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_0_to_1}


def spec_migrate(definition: dict[str, Any]) -> dict[str, Any]:
    """Bring a definition of any known version up to :data:`CURRENT_SPEC_VERSION`."""
    version = definition.get("spec_version", 0)
    if not isinstance(version, int) or version < 0:
        raise SpecVersionError(f"spec_version must be a whole number, got {version!r}")
    if version > CURRENT_SPEC_VERSION:
        raise SpecVersionError(
            f"spec_version {version} is newer than this Fluxo understands ({CURRENT_SPEC_VERSION})")
    while version < CURRENT_SPEC_VERSION:
        definition = MIGRATIONS[version](definition)
        version = definition["spec_version"]
    return definition


@lru_cache(maxsize=4)
def definition_schema(version: int = CURRENT_SPEC_VERSION) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"flow-v{version}.schema.json").read_text())
