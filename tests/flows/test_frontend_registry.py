"""The editor's node registry (frontend/src/nodes/registry.ts) and the facts the backend serves.

The frontend keeps only components: purpose-built forms and card bodies for a few types, keyed
by backend node type. Every other type is drawn and edited from what ``GET /api/node-types/``
serves, so it must serve everything a schema-driven form needs — a title for every field in
both languages, a label for every enum value, an icon and a known category. A new node type
then touches only its backend module; these tests fail when it does not say enough.
"""

from __future__ import annotations

import re
from pathlib import Path

import flows.nodes  # noqa: F401  (registers the node types)
from flows.nodes.fields import CATEGORIES, GLYPHS, resolve_fields
from flows.nodes.registry import all_types

REGISTRY = Path(__file__).resolve().parents[2] / "frontend" / "src" / "nodes" / "registry.ts"


def frontend_keys(source: str) -> set[str]:
    """Top-level keys of the NODE_TYPE_CONFIGS object literal."""
    match = re.search(r"export const NODE_TYPE_CONFIGS\b[^=]*=\s*\{(?P<body>.*?)\n\};", source, re.S)
    assert match, "NODE_TYPE_CONFIGS object not found in registry.ts"
    return set(re.findall(r"^\s{2}[\"']?([a-z][a-z0-9_]*)[\"']?\s*:", match.group("body"), re.M))


def product_types():
    # Node types that tests register for themselves (tests/flows/slow_node.py, test_interpreter.py)
    # are named test_*; they are not product node types.
    return [t for t in all_types() if not t.key.startswith("test_")]


def test_parser_reads_the_keys_of_the_object():
    sample = 'export const NODE_TYPE_CONFIGS: Record<string, X> = {\n  trigger: { body: A, form: B },\n  "send_template": { body: C,\n    form: D },\n};\n'
    assert frontend_keys(sample) == {"trigger", "send_template"}


def test_frontend_entries_are_for_backend_types_only():
    backend = {t.key for t in product_types()}
    assert {"trigger", "branch", "send_template"} <= backend  # the registry really was loaded
    frontend = frontend_keys(REGISTRY.read_text(encoding="utf-8"))
    assert frontend, "registry.ts lists the purpose-built components"
    assert frontend - backend == set(), f"{REGISTRY.name} has entries for unknown node types"
    schema_driven = backend - frontend
    assert schema_driven, "some types are drawn and edited from served facts alone"


def test_every_type_serves_what_a_schema_driven_form_needs():
    categories = {key for key, _label in CATEGORIES}
    for node_type in product_types():
        described = node_type.describe()
        assert node_type.category in categories, node_type.key
        assert node_type.icon in GLYPHS and described["glyph"], node_type.key
        assert described["label"]["pt-BR"] and described["label"]["en"], node_type.key
        for path, meta in resolve_fields(node_type).items():
            assert not meta.get("title_missing"), f"{node_type.key}: no title for '{path}' (add it to its fields)"
            assert meta["title"]["pt-BR"] and meta["title"]["en"], (node_type.key, path)
            assert not meta.get("enum_labels_missing"), f"{node_type.key}: enum labels missing for '{path}'"
        for path in node_type.summary:
            assert path in described["fields"], f"{node_type.key}: summary names unknown field '{path}'"


def test_frontend_keeps_no_node_facts():
    """The facts moved to the backend must not come back as frontend copies."""
    src = REGISTRY.parents[1]
    messages = (src / "i18n" / "messages.ts").read_text(encoding="utf-8")
    messages = re.sub(r'"enum\.weekdays\.\w+"', "", messages)  # the teams page's weekday names
    for prefix in ('"field.', '"enum.', '"op.', '"category.'):
        assert prefix not in messages, f"i18n/messages.ts holds node facts ({prefix}…); serve them from flows/nodes"
    assert not (src / "nodes" / "icons.ts").exists(), "icons come from the API's glyph"
    ports = (src / "editor" / "ports.ts").read_text(encoding="utf-8")
    assert '"Outro"' not in ports and "Other" not in ports, "port labels come from the served rule"
