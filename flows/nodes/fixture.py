"""The editor's test fixture of ``GET /api/node-types/``, generated from the registry.

``python manage.py node_types_fixture`` writes it to frontend/src/test/fixtures/node-types.json;
tests/flows/test_node_types_fixture.py fails when the file is stale, so the frontend's tests
always run against what the backend serves. It also carries examples of the ``dynamic_ports``
rule (config → ports, computed here) that the frontend's port rule is tested against.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parents[2] / "frontend" / "src" / "test" / "fixtures" / "node-types.json"

_PORT_EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "branch": [
        {"conditions": []},
        {"conditions": [{"id": "c1", "label": "Não atendeu"}, {"id": "c2", "label": ""}]},
        {"conditions": [{"id": "vip", "label": "VIP"}, {"id": "vip", "label": "again"}, {"label": "no id"}],
         "default_label": "Demais"},
        {"mode": "random", "conditions": [{"id": "a", "label": "A", "weight": 50}, {"id": "b", "label": "B", "weight": 50}]},
    ],
}


def _product_types():
    import flows.nodes  # noqa: F401  (registers the node types)
    from flows.nodes import NODE_MODULES
    from flows.nodes.registry import all_types

    # Only the product's own types: not installation extras (FLUXO_EXTRA_NODE_MODULES) nor test types.
    return [t for t in all_types() if type(t).__module__ in NODE_MODULES or type(t).__module__.startswith("integrations.")]


def node_types_document() -> dict[str, Any]:
    types = _product_types()
    examples = []
    for node_type in types:
        if not node_type.dynamic_ports:
            continue
        for config in _PORT_EXAMPLES.get(node_type.key, [node_type.default_config]):
            examples.append({"type": node_type.key, "config": config,
                             "ports": [p.as_dict() for p in node_type.ports_for(config)]})
    return {"generated_by": "python manage.py node_types_fixture (flows/nodes/fixture.py); do not edit",
            "node_types": [t.describe() for t in types], "port_examples": examples}


def node_types_json() -> str:
    return json.dumps(node_types_document(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
