"""WhatsApp's rules, checked on the graph before a flow is published.

The send path (messaging.rules) refuses a message that breaks a rule when a run gets there;
this module finds the places where that *can* happen, so the person building the flow hears it
at publish time, on the block, instead of from a failed run:

- **free-form text when the 24-hour window may be closed**: a ``send_message`` reachable after
  delays or reply timeouts that add up to 24 h or more since the customer's last message, or in
  a flow started by an event the customer did not cause (external event) — warnings; a schedule
  (a campaign to tagged contacts) that reaches free-form text before any reply — an error;
- **marketing templates without an opt-in check**: a marketing ``send_template`` reachable on a
  path that never branched on ``{{contact.opted_in_marketing}}`` (nor started at an opt-in) —
  a warning;
- **two active flows on the same event**: another active flow starting on the same external
  event, opt-in or opt-out — both would run — a warning whose publish asks "keep both or replace
  the other".

Errors block publishing; warnings are confirmed in the publish dialog (flows/publishing.py).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from flows.nodes import registry
from flows.nodes.base import ValidationIssue, issue, labels
from flows.nodes.trigger import CUSTOMER_EVENTS
from flows.spec import SpecVersionError, spec_migrate

WINDOW_HOURS = 24.0
INF = math.inf
FREE_FORM_TYPES = {"send_message", "send_media", "send_location", "send_contact", "send_reaction"}
# Events on which every matching flow starts (a message starts only the most specific flow).
EVERY_MATCH_EVENTS = {"external", "opt_in", "opt_out"}
TRUE_TEXTS = {"true", "sim", "yes", "1", "s", "y"}


@dataclass(frozen=True)
class Window:
    """What is known of the 24-hour window when a run reaches a node.

    ``hours``: the longest time since the customer's last message over every path (INF when the
    flow may start without one); ``kind``: ``customer``, ``delay``, ``external`` or ``schedule``
    (what made it long); ``source``: the node that did.
    """

    hours: float
    kind: str = "customer"
    source: str | None = None

    def worse(self, other: Window | None) -> Window:
        if other is None:
            return self
        rank = {"schedule": 3, "delay": 2, "external": 1}
        mine, theirs = (rank.get(self.kind, 0), self.hours), (rank.get(other.kind, 0), other.hours)
        return self if mine >= theirs else other


def _graph(definition: dict[str, Any]):
    nodes = {n["id"]: n for n in definition.get("nodes") or [] if isinstance(n, dict) and "id" in n}
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for edge in definition.get("edges") or []:
        if isinstance(edge, dict) and edge.get("source") in nodes and edge.get("target") in nodes:
            out[edge["source"]].append((edge.get("source_port") or "next", edge["target"]))
    return nodes, out


def _name(node: dict[str, Any]):
    if node.get("name"):
        return str(node["name"])
    node_type = registry.get(node.get("type", ""))
    return dict(node_type.label) if node_type else node.get("id", "")


def _hours(duration: dict[str, Any] | None) -> float | None:
    from flows.engine.calendar import duration_to_timedelta

    try:
        return duration_to_timedelta(duration).total_seconds() / 3600 if duration else None
    except (KeyError, TypeError, ValueError):
        return None


def _window_after(node: dict[str, Any], port: str, state: Window, node_id: str) -> Window | None:
    """The window past one output port of a node (None: that port never fires)."""
    kind, config = node.get("type"), node.get("config") or {}
    if kind == "wait_for_reply":
        if port == "reply":
            return Window(0.0)  # the customer just wrote: the window is open again
        timeout = _hours(config.get("timeout"))
        if timeout is None:
            return None
        return _extend(state, timeout, node_id)
    if kind == "delay":
        node_type = registry.get("delay")
        wait = node_type.max_wait_hours(config) if node_type is not None else None
        return _extend(state, INF if wait is None else wait, node_id)
    return state


def _extend(state: Window, hours: float, node_id: str) -> Window:
    if state.kind == "schedule":
        return state  # a campaign's contacts have not written: only a reply opens the window
    total = state.hours + hours
    if total > WINDOW_HOURS * 365:
        total = INF
    if total >= WINDOW_HOURS:
        return Window(total, "delay", node_id if state.kind != "delay" or hours > 0 else state.source)
    return Window(total, state.kind, state.source)


def _is_opt_in_check(condition: dict[str, Any]) -> bool:
    """A branch path that holds only for opted-in contacts."""
    rules = [r for r in condition.get("rules") or [] if isinstance(r, dict)]
    if condition.get("match", "all") == "any" and len(rules) > 1:
        return False
    for rule in rules:
        left = str(rule.get("left") or "")
        if "contact.opted_in_marketing" not in left:
            continue
        op, right = rule.get("op"), str(rule.get("right") if rule.get("right") is not None else "").strip().casefold()
        if (op == "equals" and right in TRUE_TEXTS) or (op == "not_equals" and right in {"false", "nao", "não", "no", "0"}):
            return True
    return False


def _opted_in_after(node: dict[str, Any], port: str, checked: bool) -> bool:
    if node.get("type") == "branch":
        for condition in (node.get("config") or {}).get("conditions") or []:
            if isinstance(condition, dict) and condition.get("id") == port and _is_opt_in_check(condition):
                return True
    return checked


def window_issues(nodes, out, triggers) -> list[ValidationIssue]:
    state: dict[str, Window] = {}
    queue: deque[str] = deque()
    for trigger_id in triggers:
        event = (nodes[trigger_id].get("config") or {}).get("event", "message")
        if event in CUSTOMER_EVENTS:
            start = Window(0.0)
        else:
            start = Window(0.0, "schedule" if event == "schedule" else "external", trigger_id)
        state[trigger_id] = start.worse(state.get(trigger_id))
        queue.append(trigger_id)
    budget = 50 * max(len(nodes), 1)
    while queue and budget > 0:
        budget -= 1
        node_id = queue.popleft()
        for port, target in out.get(node_id, []):
            after = _window_after(nodes[node_id], port, state[node_id], node_id)
            if after is None:
                continue
            merged = after.worse(state.get(target))
            if merged != state.get(target):
                state[target] = merged
                queue.append(target)
    issues = []
    for node_id, node in nodes.items():
        if node.get("type") not in FREE_FORM_TYPES or node_id not in state:
            continue
        window = state[node_id]
        source = nodes.get(window.source or "", {})
        if window.kind == "schedule":
            issues.append(issue("policy_schedule_free_form", node_id, "text", trigger=_name(source)))
        elif window.kind == "external":
            issues.append(issue("policy_window_trigger", node_id, "text", severity="warning", trigger=_name(source)))
        elif window.hours >= WINDOW_HOURS:
            if math.isinf(window.hours):
                issues.append(issue("policy_window_unbounded", node_id, "text", severity="warning",
                                    source=_name(source), source_id=window.source or ""))
            else:
                issues.append(issue("policy_window_delay", node_id, "text", severity="warning", source=_name(source),
                                    source_id=window.source or "", hours=f"{window.hours:g}"))
    return issues


def opt_in_issues(nodes, out, triggers) -> list[ValidationIssue]:
    send_template = registry.get("send_template")
    marketing = {}
    for node_id, node in nodes.items():
        if node.get("type") == "send_template" and send_template is not None:
            category = send_template.template_category(node.get("config") or {})
            if str(category or "").upper() == "MARKETING":
                marketing[node_id] = node
    if not marketing:
        return []
    # Must-analysis: checked on every path. Unvisited nodes start at True (the top of the lattice).
    checked: dict[str, bool] = {}
    queue: deque[str] = deque()
    for trigger_id in triggers:
        checked[trigger_id] = (nodes[trigger_id].get("config") or {}).get("event") == "opt_in"
        queue.append(trigger_id)
    budget = 50 * max(len(nodes), 1)
    while queue and budget > 0:
        budget -= 1
        node_id = queue.popleft()
        for port, target in out.get(node_id, []):
            value = _opted_in_after(nodes[node_id], port, checked[node_id])
            merged = value and checked.get(target, True)
            if target not in checked or merged != checked[target]:
                checked[target] = merged
                queue.append(target)
    return [issue("policy_marketing_opt_in", node_id, "template", severity="warning",
                  name=(node.get("config") or {}).get("template", ""))
            for node_id, node in marketing.items() if node_id in checked and not checked[node_id]]


def _event_key(config: dict[str, Any]) -> tuple[str, str] | None:
    event = config.get("event", "message")
    if event not in EVERY_MATCH_EVENTS:
        return None
    if event == "external":
        name = str(config.get("event_name") or "").strip()
        return (event, name) if name else None
    return (event, "")


def event_label(key: tuple[str, str]) -> dict[str, str]:
    event, name = key
    if event == "external":
        return labels(f"o evento externo “{name}”", f"the external event “{name}”")
    return labels("o opt-in", "the opt-in") if event == "opt_in" else labels("o opt-out", "the opt-out")


def same_event_conflicts(nodes, triggers, *, flow=None) -> list[dict[str, Any]]:
    """Other active flows that start on an event this definition also starts on."""
    mine = {}
    for trigger_id in triggers:
        key = _event_key(nodes[trigger_id].get("config") or {})
        if key:
            mine.setdefault(key, trigger_id)
    if not mine:
        return []
    try:
        from flows.engine.graph import compiled_revision
        from flows.models import Flow

        others = Flow.objects.filter(status=Flow.Status.ACTIVE, published_revision__isnull=False)
        if flow is not None and flow.pk:
            others = others.exclude(pk=flow.pk)
        found = []
        for other in others.select_related("published_revision").order_by("name"):
            compiled = compiled_revision(other.published_revision)
            keys = {_event_key(compiled.nodes[t].get("config") or {}) for t in compiled.trigger_ids}
            for key in sorted(k for k in keys if k in mine):
                found.append({"flow_id": other.pk, "flow_name": other.name, "event": key[0], "event_name": key[1],
                              "node_id": mine[key], "event_label": event_label(key)})
        return found
    except Exception:  # no database at hand (offline check): nothing to compare with
        return []


def policy_check(definition: Any, *, flow=None) -> tuple[list[ValidationIssue], list[dict[str, Any]]]:
    """WhatsApp policy issues of a definition, and the other active flows on the same events.

    Structural problems (bad shape, unknown types) are the validator's; this only reads what
    it can and never raises on a broken definition.
    """
    if not isinstance(definition, dict):
        return [], []
    try:
        definition = spec_migrate(definition)
    except SpecVersionError:
        return [], []
    nodes, out = _graph(definition)
    triggers = [nid for nid, n in nodes.items() if (t := registry.get(n.get("type", ""))) is not None and t.is_trigger]
    issues = window_issues(nodes, out, triggers) + opt_in_issues(nodes, out, triggers)
    conflicts = same_event_conflicts(nodes, triggers, flow=flow)
    for conflict in conflicts:
        issues.append(issue("policy_same_event", conflict["node_id"], "event", severity="warning",
                            flow=conflict["flow_name"], flow_id=conflict["flow_id"], event=conflict["event_label"]))
    return issues, conflicts
