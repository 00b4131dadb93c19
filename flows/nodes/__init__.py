"""Node types, one module each. Importing this package registers them all.

Apps that add node types (``integrations``) list their modules here too, so that the registry is
complete wherever flows are loaded.
"""

import os
from importlib import import_module

NODE_MODULES = [
    "flows.nodes.trigger",
    "flows.nodes.delay",
    "flows.nodes.branch",
    "flows.nodes.send_template",
    "flows.nodes.send_message",
    "flows.nodes.send_media",
    "flows.nodes.send_location",
    "flows.nodes.send_contact",
    "flows.nodes.send_reaction",
    "flows.nodes.wait_for_reply",
    "flows.nodes.ai_reply",
    "flows.nodes.set_variable",
    "flows.nodes.end",
    "flows.nodes.subflow",
    "flows.nodes.http_request",
    "flows.nodes.route_to_team",
    "flows.nodes.set_conversation_state",
    "flows.nodes.notify",
]

# Installation-specific node types (a company's own nodes): FLUXO_EXTRA_NODE_MODULES=pkg.mod,...
_EXTRA = [m.strip() for m in os.environ.get("FLUXO_EXTRA_NODE_MODULES", "").split(",") if m.strip()]

for _module in [*NODE_MODULES, *_EXTRA]:
    import_module(_module)
