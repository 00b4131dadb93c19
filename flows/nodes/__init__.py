"""Node types, one module each. Importing this package registers them all.

Apps that add node types (``integrations``) list their modules here too, so that the registry is
complete wherever flows are loaded.
"""

from importlib import import_module

NODE_MODULES = [
    "flows.nodes.trigger",
    "flows.nodes.delay",
    "flows.nodes.branch",
    "flows.nodes.send_template",
    "flows.nodes.send_message",
    "flows.nodes.wait_for_reply",
    "flows.nodes.ai_reply",
    "flows.nodes.set_variable",
    "flows.nodes.end",
    "flows.nodes.subflow",
]

for _module in NODE_MODULES:
    import_module(_module)
