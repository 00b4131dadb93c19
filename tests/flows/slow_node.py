"""A node type for durability tests only: marks that it started, then sleeps.

Loaded into test workers with FLUXO_EXTRA_NODE_MODULES=tests.flows.slow_node, so a test can
kill a worker while a run is mid-step.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from flows.nodes.base import NEXT, Next, NodeType, labels
from flows.nodes.registry import register


@register
class SlowNode(NodeType):
    key = "test_slow"
    label = labels("Lento (teste)", "Slow (test)")
    category = "data"
    ports = [NEXT]
    config_schema = {"type": "object"}

    def execute(self, ctx):
        marker = ctx.config.get("marker")
        if marker:
            with Path(marker).open("a") as handle:
                handle.write(f"{ctx.run.pk}\n")
        # A rescuing worker started with FLUXO_TEST_FAST=1 skips the sleep.
        if not os.environ.get("FLUXO_TEST_FAST"):
            time.sleep(float(ctx.config.get("seconds", 1)))
        return Next("next", {"slept": ctx.config.get("seconds", 1)})
