"""Validation of a flow definition: JSON Schema first, then the semantic rules.

Every problem is a :class:`ValidationIssue` pinned on a node and a config field where it has
one, with its message in pt-BR and English, so the editor can show it on the node.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from flows import expressions
from flows.messages import closest, did_you_mean
from flows.nodes import registry
from flows.nodes.base import ValidationIssue, issue, labels
from flows.nodes.fields import field_title, required_message
from flows.spec import CURRENT_SPEC_VERSION, SpecVersionError, definition_schema, spec_migrate

# Variables every node can read; ``contact.attributes`` is open-ended. ``trigger.*`` comes from the
# triggers that reach a node (their declared fields); a trigger whose fields are not declared
# (an external event) adds the open root ``trigger``.
BASE_SCOPE = ["trigger.kind", "contact.id", "contact.name", "contact.first_name", "contact.phone", "contact.tags",
              "contact.attributes", "contact.opted_in_marketing", "run.id", "run.flow", "run.started_at", "now"]
OPEN_ROOTS = ("contact.attributes",)
BASE_INFO = {
    "contact.name": labels("Nome do contato", "Contact name"),
    "contact.first_name": labels("Primeiro nome do contato", "Contact first name"),
    "contact.phone": labels("Telefone do contato", "Contact phone"),
    "contact.tags": labels("Etiquetas do contato", "Contact tags"),
    "contact.attributes": labels("Atributos do contato (contact.attributes.nome)", "Contact attributes"),
    "contact.opted_in_marketing": labels("Aceitou marketing (opt-in)", "Opted in to marketing"),
    "now": labels("Agora (data e hora)", "Now (date and time)"),
}

_validators: dict[int, Draft202012Validator] = {}


def _validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    key = id(schema)
    if key not in _validators:
        _validators[key] = Draft202012Validator(schema)
    return _validators[key]


@dataclass
class ValidationResult:
    issues: list[ValidationIssue] = field(default_factory=list)
    scope: dict[str, list[str]] = field(default_factory=dict)
    # What the editor shows next to a variable in autocomplete: {path: {label, type, sample, source}}.
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def errors(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity != "error"]

    @property
    def valid(self) -> bool:
        """No errors (warnings do not make a flow invalid; publishing asks to confirm them)."""
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "errors": [i.as_dict() for i in self.errors],
                "warnings": [i.as_dict() for i in self.warnings], "scope": self.scope, "variables": self.variables}


_PATTERN_HINTS = {
    "^[A-Za-z_][A-Za-z0-9_]{0,63}$": labels(": use letras sem acento, números e _, começando por letra",
                                            ": use plain letters, digits and _, starting with a letter"),
    "^[A-Za-z0-9_-]{1,40}$": labels(": use letras sem acento, números, _ e -", ": use plain letters, digits, _ and -"),
    "^[0-2][0-9]:[0-5][0-9]$": labels(": use HH:MM, como 09:30", ": use HH:MM, such as 09:30"),
    "^[-a-zA-Z0-9_]*$": labels(": use letras sem acento, números, _ e -", ": use plain letters, digits, _ and -"),
}


def _schema_issue(node_type, node_id: str, error) -> ValidationIssue:
    """A jsonschema error of a node's config as a message of the catalogue, in both languages."""
    parts = [str(p) for p in error.absolute_path]
    validator, value = error.validator, error.validator_value
    if validator == "required":
        missing = next((name for name in value if name not in (error.instance or {})), value[0] if value else "")
        path = ".".join([*parts, missing])
        friendly = required_message(node_type, path)
        if friendly:
            return ValidationIssue("required", friendly, node_id, path, params={"field": path})
        return issue("required", node_id, path, field=field_title(node_type, path))
    path = ".".join(parts) or None
    title = field_title(node_type, path or "")
    instance = error.instance
    if validator == "minLength":
        if instance == "":
            friendly = required_message(node_type, path or "")
            if friendly:
                return ValidationIssue("required", friendly, node_id, path)
            return issue("required", node_id, path, field=title)
        return issue("too_short", node_id, path, field=title, limit=value)
    if validator == "maxLength":
        return issue("too_long", node_id, path, field=title, limit=value, count=len(instance or ""))
    if validator == "maxItems":
        return issue("too_many", node_id, path, field=title, limit=value, count=len(instance or []))
    if validator == "minItems":
        return issue("too_few", node_id, path, field=title, limit=value)
    if validator in ("minimum", "exclusiveMinimum"):
        return issue("below_minimum", node_id, path, field=title, limit=value)
    if validator in ("maximum", "exclusiveMaximum"):
        return issue("above_maximum", node_id, path, field=title, limit=value)
    if validator in ("enum", "const"):
        return issue("not_an_option", node_id, path, field=title, value=str(instance)[:40])
    if validator == "type":
        wanted = value if isinstance(value, list) else [value]
        from flows.messages import EXPECTED_TYPES

        expected = {lang: " / ".join(EXPECTED_TYPES.get(t, {}).get(lang, t) for t in wanted) for lang in ("pt-BR", "en")}
        return issue("wrong_type", node_id, path, field=title, expected=expected)
    if validator == "pattern":
        return issue("bad_format", node_id, path, field=title, hint=_PATTERN_HINTS.get(value, ""))
    if validator == "additionalProperties":
        extra = sorted(set(instance or {}) - set(error.schema.get("properties") or {}))
        return issue("unknown_field", node_id, path, names=", ".join(extra))
    return issue("invalid_value", node_id, path, field=title)


def _expression_issue(node_id: str, field_name: str, exc: expressions.ExpressionError) -> ValidationIssue:
    params: dict[str, Any] = {"pos": exc.position or 1, **exc.params}
    if exc.code == "expr_unknown_filter":
        params["suggestion"] = did_you_mean(exc.params.get("suggestion"))
        params["known"] = ", ".join(sorted(expressions.FILTERS))
    try:
        return issue(exc.code, node_id, field_name, **params)
    except (KeyError, IndexError):
        return issue("expr_invalid", node_id, field_name, pos=params["pos"])


def _path(parts) -> str:
    return ".".join(str(p) for p in parts)


def node_name(node: dict[str, Any]) -> dict[str, str] | str:
    """How a node is named to people: its own name, else its type's label."""
    if node.get("name"):
        return str(node["name"])
    node_type = registry.get(node.get("type", ""))
    return dict(node_type.label) if node_type else node.get("id", "")


def _variable_info(nodes: dict[str, dict[str, Any]], defined_by: dict[str, str]) -> dict[str, dict[str, Any]]:
    info: dict[str, dict[str, Any]] = {path: {"label": label} for path, label in BASE_INFO.items()}
    for node_id, node in nodes.items():
        node_type = registry.get(node["type"])
        if node_type is None or not node_type.is_trigger or not hasattr(node_type, "trigger_fields"):
            continue
        try:
            fields, _open = node_type.trigger_fields(node["config"])
        except (KeyError, TypeError, AttributeError):
            continue
        for item in fields:
            info.setdefault(f"trigger.{item['name']}", {"label": item["label"], "type": item["type"],
                                                         "sample": item.get("sample", ""), "source": node_id})
    for path, node_id in defined_by.items():
        if path.startswith("trigger"):
            continue
        info.setdefault(path, {"source": node_id, "source_name": node_name(nodes[node_id])})
    return info


def _name_known(path: str, known: set[str]) -> bool:
    if path in known:
        return True
    roots = (*OPEN_ROOTS, "trigger") if "trigger" in known else OPEN_ROOTS
    for root in roots:
        if path == root or path.startswith(root + "."):
            return True
    # ``vars.order`` also covers ``vars.order.items.0``; ``reply.text`` covers nothing deeper.
    return any(path.startswith(k + ".") for k in known if k.startswith("vars."))


def definition_validate(definition: Any) -> ValidationResult:
    """Check a definition (any known spec version) and compute the variables in scope per node."""
    result = ValidationResult()
    issues = result.issues
    if not isinstance(definition, dict):
        issues.append(ValidationIssue("not_an_object", labels("A definição deve ser um objeto JSON.",
                                                              "The definition must be a JSON object.")))
        return result
    try:
        definition = spec_migrate(definition)
    except SpecVersionError as exc:
        issues.append(ValidationIssue("spec_version", labels(f"Versão de especificação inválida: {exc}",
                                                             f"Invalid spec version: {exc}"), field="spec_version"))
        return result

    # 1. Shape.
    nodes_raw = definition.get("nodes") if isinstance(definition.get("nodes"), list) else []
    for error in sorted(_validator_for(definition_schema(CURRENT_SPEC_VERSION)).iter_errors(definition),
                        key=lambda e: list(e.absolute_path)):
        parts = list(error.absolute_path)
        node_id = None
        if len(parts) >= 2 and parts[0] == "nodes" and isinstance(parts[1], int) and parts[1] < len(nodes_raw):
            candidate = nodes_raw[parts[1]]
            node_id = candidate.get("id") if isinstance(candidate, dict) else None
        if error.validator == "required":
            missing = next((n for n in error.validator_value if n not in (error.instance or {})), "")
            parts = [*parts, missing] if missing else parts
        where = _path(parts) or "definition"
        issues.append(issue("definition_shape", node_id, (_path(parts[2:]) or None) if node_id else _path(parts),
                            where=where))
    if issues:
        return result

    nodes: dict[str, dict[str, Any]] = {}
    for node in definition["nodes"]:
        if node["id"] in nodes:
            issues.append(ValidationIssue("duplicate_id", labels(f"Id de nó repetido: '{node['id']}'.",
                                                                 f"Duplicate node id: '{node['id']}'."),
                                          node["id"], "id"))
        nodes[node["id"]] = node

    # 2. Node types and their configs.
    ports: dict[str, set[str]] = {}
    for node_id, node in nodes.items():
        node_type = registry.get(node["type"])
        if node_type is None:
            issues.append(ValidationIssue("unknown_type", labels(f"Tipo de nó desconhecido: '{node['type']}'.",
                                                                 f"Unknown node type: '{node['type']}'."),
                                          node_id, "type"))
            ports[node_id] = set()
            continue
        config_errors = list(_validator_for(node_type.config_schema).iter_errors(node["config"]))
        seen_fields: set[tuple[str | None, str]] = set()
        for error in sorted(config_errors, key=lambda e: list(map(str, e.absolute_path))):
            found = _schema_issue(node_type, node_id, error)
            if (found.field, found.code) not in seen_fields:
                seen_fields.add((found.field, found.code))
                issues.append(found)
        if not config_errors:
            issues.extend(node_type.validate(node_id, node["config"]))
        ports[node_id] = {p.key for p in node_type.ports_for(node["config"])}

    # 3. Edges.
    successors: dict[str, list[str]] = defaultdict(list)
    predecessors: dict[str, list[str]] = defaultdict(list)
    used_ports: set[tuple[str, str]] = set()
    port_edges: list[tuple[str, str, str]] = []
    failure_targets: set[str] = set()  # reached through a "failure" port: {{vars.last_error}} is set there
    for edge in definition["edges"]:
        source, target, port = edge["source"], edge["target"], edge["source_port"]
        if source not in nodes or target not in nodes:
            missing = source if source not in nodes else target
            issues.append(ValidationIssue("dangling_edge", labels(f"A conexão '{edge['id']}' aponta para o nó inexistente '{missing}'.",
                                                                  f"Edge '{edge['id']}' points to missing node '{missing}'."),
                                          source if source in nodes else None, "edges"))
            continue
        if port not in ports[source]:
            issues.append(ValidationIssue("unknown_port", labels(f"O nó não tem a saída '{port}'.",
                                                                 f"The node has no output port '{port}'."),
                                          source, f"ports.{port}"))
            continue
        if (source, port) in used_ports:
            issues.append(ValidationIssue("port_reused", labels(f"A saída '{port}' já está conectada; uma saída leva a um só nó.",
                                                                f"Port '{port}' is already connected; one port leads to one node."),
                                          source, f"ports.{port}"))
            continue
        used_ports.add((source, port))
        if port == "failure":
            failure_targets.add(target)
        port_edges.append((source, port, target))
        successors[source].append(target)
        predecessors[target].append(source)

    # 4. Triggers are the entry points; everything else must be reachable from one.
    triggers = [nid for nid, n in nodes.items() if (t := registry.get(n["type"])) is not None and t.is_trigger]
    if not triggers:
        issues.append(ValidationIssue("no_trigger", labels("O fluxo precisa de ao menos um gatilho.",
                                                           "The flow needs at least one trigger.")))
    for trigger_id in triggers:
        if predecessors.get(trigger_id):
            issues.append(ValidationIssue("trigger_has_input", labels("Um gatilho é ponto de entrada: nada pode levar a ele.",
                                                                      "A trigger is an entry point: nothing may lead into it."),
                                          trigger_id))
    reached: set[str] = set(triggers)
    queue = deque(triggers)
    while queue:
        for nxt in successors.get(queue.popleft(), []):
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    if triggers:
        for node_id in nodes:
            if node_id not in reached:
                issues.append(ValidationIssue("unreachable", labels("Nó inalcançável: conecte-o a partir de um gatilho.",
                                                                    "Unreachable node: connect it from a trigger."),
                                              node_id))

    # 5. Every cycle must pass through a node that pauses (wait or delay).
    issues.extend(_cycles_without_pause(nodes, successors))

    # 6. Variables in scope per node (may-be-defined: union over all paths) and expressions.
    def defined_on(node_id: str, port: str) -> set[str]:
        node_type = registry.get(nodes[node_id]["type"])
        return set(node_type.defines_on_port(nodes[node_id]["config"], port)) if node_type else set()

    defines = {(s, p): defined_on(s, p) for s, p, _ in port_edges}
    scope_in: dict[str, set[str]] = {nid: {"vars.last_error"} if nid in failure_targets else set() for nid in nodes}
    changed = True
    guard = 0
    while changed and guard < len(nodes) + 2:
        changed, guard = False, guard + 1
        for source, port, target in port_edges:
            out = scope_in[source] | defines[(source, port)]
            if not out <= scope_in[target]:
                scope_in[target] |= out
                changed = True
    # Who defines what, anywhere in the flow: to say "only exists after X" and to label autocomplete.
    defined_by: dict[str, str] = {}
    for node_id, node in nodes.items():
        node_type = registry.get(node["type"])
        if node_type is None:
            continue
        try:
            for path in node_type.defines(node["config"]):
                defined_by.setdefault(path, node_id)
        except (KeyError, TypeError, AttributeError):
            continue
    result.variables = _variable_info(nodes, defined_by)
    ancestor_cache: dict[str, set[str]] = {}

    def ancestors(node_id: str) -> set[str]:
        if node_id not in ancestor_cache:
            seen: set[str] = set()
            todo = deque(predecessors.get(node_id, []))
            while todo:
                current = todo.popleft()
                if current not in seen:
                    seen.add(current)
                    todo.extend(predecessors.get(current, []))
            ancestor_cache[node_id] = seen
        return ancestor_cache[node_id]

    for node_id, node in nodes.items():
        known = set(BASE_SCOPE) | scope_in[node_id]
        result.scope[node_id] = sorted(p for p in known if p != "trigger")
        node_type = registry.get(node["type"])
        if node_type is None:
            continue
        try:
            found = node_type.expressions(node["config"])
        except (KeyError, TypeError, AttributeError):
            continue  # config shape already reported above
        for field_name, template in found:
            try:
                paths = expressions.template_paths(template)
            except expressions.ExpressionError as exc:
                issues.append(_expression_issue(node_id, field_name, exc))
                continue
            if triggers and node_id not in reached:
                continue  # not connected yet: "unreachable" says it; what it may read is unknown
            for path in paths:
                if _name_known(path, known):
                    continue
                source = defined_by.get(path) or next(
                    (defined_by[k] for k in defined_by if k.startswith("vars.") and path.startswith(k + ".")), None)
                if source and source != node_id and source not in ancestors(node_id):
                    issues.append(issue("variable_not_yet", node_id, field_name, path=path,
                                        source=node_name(nodes[source]), source_id=source))
                    continue
                candidates = {p for p in known if p != "trigger"} | {p for p in defined_by if p != "trigger"}
                suggestion = closest(path, candidates)
                issues.append(issue("unknown_variable", node_id, field_name, path=path,
                                    suggestion=did_you_mean(suggestion), suggested=suggestion or ""))
    return result


def _cycles_without_pause(nodes: dict[str, dict], successors: dict[str, list[str]]) -> list[ValidationIssue]:
    """Tarjan's strongly connected components over the nodes that do not pause."""
    pausing = {nid for nid, n in nodes.items() if (t := registry.get(n["type"])) is not None and t.can_pause}
    graph = {nid: [t for t in successors.get(nid, []) if t not in pausing] for nid in nodes if nid not in pausing}
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    for root in graph:
        if root in index_of:
            continue
        work = [(root, iter(graph[root]))]
        index_of[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index_of:
                    index_of[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index_of[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    components.append(component)
    issues = []
    for component in components:
        for node_id in sorted(component):
            issues.append(ValidationIssue("cycle_without_pause",
                                          labels("Este nó está num ciclo sem espera nem atraso; inclua um 'Aguardar' ou 'Aguardar resposta'.",
                                                 "This node is in a loop with no wait or delay; add a Delay or Wait for reply."),
                                          node_id))
    return issues
