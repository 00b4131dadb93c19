"""The editor's node registry (frontend/src/nodes/registry.ts) covers exactly the backend's node types.

A backend node type without a frontend entry would still get the generic form at run time, but
it would be an oversight; an entry for a type the backend does not have is dead code or a typo.
"""

from __future__ import annotations

import re
from pathlib import Path

import flows.nodes  # noqa: F401  (registers the node types)
from flows.nodes.registry import all_types

REGISTRY = Path(__file__).resolve().parents[2] / "frontend" / "src" / "nodes" / "registry.ts"


def frontend_keys(source: str) -> set[str]:
    """Top-level keys of the NODE_TYPE_CONFIGS object literal."""
    match = re.search(r"export const NODE_TYPE_CONFIGS\b[^=]*=\s*\{(?P<body>.*?)\n\};", source, re.S)
    assert match, "NODE_TYPE_CONFIGS object not found in registry.ts"
    return set(re.findall(r"^\s{2}[\"']?([a-z][a-z0-9_]*)[\"']?\s*:", match.group("body"), re.M))


def test_parser_reads_the_keys_of_the_object():
    sample = 'export const NODE_TYPE_CONFIGS: Record<string, X> = {\n  trigger: { body: A, form: B },\n  "send_template": { body: C,\n    form: D },\n};\n'
    assert frontend_keys(sample) == {"trigger", "send_template"}


def test_frontend_registry_covers_every_backend_node_type():
    # Node types that tests register for themselves (tests/flows/slow_node.py, test_interpreter.py)
    # are named test_*; they are not product node types.
    backend = {node_type.key for node_type in all_types() if not node_type.key.startswith("test_")}
    assert {"trigger", "branch", "send_template"} <= backend  # the registry really was loaded
    frontend = frontend_keys(REGISTRY.read_text(encoding="utf-8"))
    assert backend - frontend == set(), f"node types missing in {REGISTRY.name}"
    assert frontend - backend == set(), f"{REGISTRY.name} has entries for unknown node types"
