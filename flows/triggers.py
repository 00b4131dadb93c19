"""The published trigger index: which flows an event starts, without reading the flows table per event.

Every process keeps the active flows with their published revisions compiled. The index is
rebuilt when the flows' *version* changes — the newest ``updated_at`` of the flows table and its
row count, which every publish, status change, edit and delete moves. The event processor reads
that version in the same statement that reads the contact's pending events and waiting runs
(``flows.processing``), so a publish takes effect on the very next event, in every process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flows.engine.graph import CompiledFlow, compiled_revision
from flows.models import Flow
from flows.nodes import registry


@dataclass(frozen=True)
class IndexedFlow:
    flow: Flow
    compiled: CompiledFlow


@dataclass(frozen=True)
class TriggerIndex:
    version: tuple[Any, ...]
    flows: tuple[IndexedFlow, ...]


_lock = threading.Lock()
_index: TriggerIndex | None = None


FLOWS_VERSION_SQL = f"SELECT COUNT(*), MAX(updated_at) FROM {Flow._meta.db_table}"


def version_of(count: Any, newest: Any) -> tuple[Any, ...]:
    """The flows' version from a raw row (SQLite gives timestamps back as text)."""
    if newest is not None and not isinstance(newest, datetime):
        newest = datetime.fromisoformat(str(newest))
    if newest is not None and newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    return (int(count or 0), newest)


def flows_version() -> tuple[Any, ...]:
    """The version of the flows table (for callers that do not read it with other things)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(FLOWS_VERSION_SQL)
        return version_of(*cursor.fetchone())


def trigger_index(version: tuple[Any, ...] | None = None) -> TriggerIndex:
    """The index for ``version`` (rebuilt when it moved). Without a version, it is read first."""
    global _index
    version = flows_version() if version is None else version
    with _lock:
        current = _index
    if current is not None and current.version == version:
        return current
    flows = Flow.objects.filter(status=Flow.Status.ACTIVE, published_revision__isnull=False).select_related(
        "published_revision").order_by("pk")
    built = TriggerIndex(version=version, flows=tuple(
        IndexedFlow(flow=flow, compiled=compiled_revision(flow.published_revision)) for flow in flows))
    with _lock:
        _index = built
    return built


def trigger_index_forget() -> None:
    """Drop the index of this process (tests that rewrite flows under the same version)."""
    global _index
    with _lock:
        _index = None


def flows_triggered_by(*, kind: str, payload: dict[str, Any], index: TriggerIndex | None = None
                       ) -> Iterator[tuple[Flow, str]]:
    """The active flows whose published triggers match an event, as ``(flow, trigger node id)``.

    One message starts one flow: the most specific trigger wins (keyword/regex over catch-all),
    then the oldest flow. Other events (external, opt-in/out) start every flow that matches.
    """
    index = index or trigger_index()
    trigger_type = registry.get("trigger")
    matches: list[tuple[int, int, Flow, str]] = []
    for indexed in index.flows:
        compiled = indexed.compiled
        best = None  # within one flow too, the most specific matching trigger is the entry
        for node_id in compiled.trigger_ids:
            node = compiled.nodes[node_id]
            node_type = registry.get(node["type"])
            config = node.get("config") or {}
            if node_type is trigger_type and trigger_type.matches(config, kind, payload):
                candidate = (-trigger_type.specificity(config), indexed.flow.pk, indexed.flow, node_id)
                if best is None or candidate[0] < best[0]:
                    best = candidate
        if best is not None:
            matches.append(best)
    matches.sort(key=lambda m: (m[0], m[1]))
    if kind in ("message", "interactive_reply"):
        matches = matches[:1]
    for _, _, flow, node_id in matches:
        yield flow, node_id
