"""Editor facts about node types that are not the JSON Schema itself: categories and their
order, icon glyphs, field titles and help texts, enum labels, conditional fields.

The editor gets all of it from ``GET /api/node-types/`` (``NodeType.describe``) and keeps only
components, so a node type with a schema-driven form is one backend module. Titles of common
field names live here once; a node type overrides or adds per path in its ``fields``:

    fields = {
        "event_name": field("Nome do evento", "Event name", help=(...), placeholder="order.created",
                            visible_when={"event": "external"}),
        "schedule.time": field("Horário", "Time", widget="time"),
        "conditions.*.label": field("Nome do caminho", "Path name"),
    }

Paths are dotted config paths with ``*`` for array items. ``visible_when`` names sibling fields
and the values (one or a list) for which the field is shown.
"""

from __future__ import annotations

from typing import Any

Labels = dict[str, str]


def _l(pt: str, en: str) -> Labels:
    return {"pt-BR": pt, "en": en}


# Palette order: what people add first comes first.
CATEGORIES: list[tuple[str, Labels]] = [
    ("trigger", _l("Início", "Start")),
    ("messaging", _l("Mensagens", "Messaging")),
    ("flow", _l("Controle", "Flow control")),
    ("routing", _l("Atendimento", "Routing")),
    ("data", _l("Dados", "Data")),
    ("ai", _l("IA", "AI")),
    ("integration", _l("Integrações", "Integrations")),
]

# Plain symbols from common fonts (DejaVu and system UI fonts carry them): no icon library needed.
GLYPHS: dict[str, str] = {
    "zap": "⚡", "clock": "◷", "git-branch": "◇", "file-text": "✎", "message-circle": "✉",
    "message-square-dashed": "↩", "sparkles": "✦", "variable": "𝑥", "square": "■", "square-stop": "■",
    "flag": "⚑", "globe": "⇄", "users": "☎", "bell": "♪", "workflow": "↪", "circle": "●",
    "paperclip": "▣", "map-pin": "◎", "id-card": "☏", "smile": "☺",
}


def category_info(key: str) -> dict[str, Any]:
    for order, (name, label) in enumerate(CATEGORIES):
        if name == key:
            return {"key": key, "label": label, "order": order}
    return {"key": key, "label": _l(key, key), "order": len(CATEGORIES)}


def glyph_for(icon: str) -> str:
    return GLYPHS.get(icon, "●")


def field(pt: str | None = None, en: str | None = None, *, help: tuple[str, str] | None = None,
          enum: dict[Any, tuple[str, str]] | None = None, placeholder: str | None = None, widget: str | None = None,
          visible_when: dict[str, Any] | None = None, required_message: tuple[str, str] | None = None,
          hidden: bool = False) -> dict[str, Any]:
    """One field's editor facts (every text in pt-BR and English)."""
    meta: dict[str, Any] = {}
    if pt is not None:
        meta["title"] = _l(pt, en or pt)
    if help:
        meta["help"] = _l(*help)
    if enum:
        meta["enum_labels"] = {str(value): _l(*texts) for value, texts in enum.items()}
    if placeholder is not None:
        meta["placeholder"] = placeholder
    if widget:
        meta["widget"] = widget
    if visible_when:
        meta["visible_when"] = visible_when
    if required_message:
        meta["required_message"] = _l(*required_message)
    if hidden:
        meta["hidden"] = True
    return meta


# Titles of field names shared by many node types (a type's own ``fields`` win).
COMMON_TITLES: dict[str, Labels] = {name: _l(pt, en) for name, (pt, en) in {
    "event": ("Evento", "Event"), "match": ("Quando", "When"), "keywords": ("Palavras-chave", "Keywords"),
    "pattern": ("Expressão regular", "Regular expression"), "reply_ids": ("Ids de botões/linhas", "Button/row ids"),
    "event_name": ("Nome do evento externo", "External event name"), "schedule": ("Agenda", "Schedule"),
    "text": ("Texto", "Text"), "header": ("Cabeçalho", "Header"), "footer": ("Rodapé", "Footer"),
    "buttons": ("Botões", "Buttons"), "list": ("Lista", "List"), "title": ("Título", "Title"),
    "business_hours": ("Horário comercial", "Business hours"), "timezone": ("Fuso horário", "Time zone"),
    "save_as": ("Guardar resposta em", "Save the reply as"), "preview_url": ("Mostrar prévia de links", "Show link previews"),
    "name": ("Nome", "Name"), "value": ("Valor", "Value"), "reason": ("Motivo", "Reason"),
    "assignments": ("Atribuições", "Assignments"), "assistant": ("Assistente", "Assistant"), "body": ("Corpo", "Body"),
    "body_type": ("Tipo do corpo", "Body type"), "button": ("Botão", "Button"), "channel": ("Canal", "Channel"),
    "credential": ("Credencial", "Credential"), "default": ("Padrão", "Default"), "description": ("Descrição", "Description"),
    "duration": ("Duração", "Duration"), "expression": ("Expressão", "Expression"),
    "fail_on_error": ("Falhar em resposta 4xx", "Fail on a 4xx answer"), "flow_id": ("Fluxo", "Flow"),
    "header_media": ("Mídia do cabeçalho", "Header media"), "headers": ("Cabeçalhos HTTP", "HTTP headers"),
    "id": ("Id", "Id"), "index": ("Posição", "Position"), "input": ("Entrada", "Input"), "label": ("Rótulo", "Label"),
    "language": ("Idioma", "Language"), "link": ("Link", "Link"),
    "max_response_kb": ("Tamanho máximo da resposta (KB)", "Max response size (KB)"),
    "memory_turns": ("Turnos de memória", "Memory turns"), "message": ("Mensagem", "Message"),
    "method": ("Método", "Method"), "mode": ("Modo", "Mode"), "offset": ("Deslocamento", "Offset"),
    "operation": ("Operação", "Operation"), "output_variable": ("Variável de saída", "Output variable"),
    "parameters": ("Parâmetros", "Parameters"), "path": ("Caminho", "Path"), "priority": ("Prioridade", "Priority"),
    "query": ("Parâmetros da URL", "Query parameters"), "required": ("Obrigatório", "Required"),
    "response_mapping": ("Mapeamento da resposta", "Response mapping"), "retries": ("Tentativas", "Retries"),
    "revision": ("Revisão", "Revision"), "rows": ("Linhas", "Rows"), "rules": ("Regras", "Rules"),
    "save_response_as": ("Guardar resposta em", "Save the response as"), "sections": ("Seções", "Sections"),
    "state": ("Estado", "State"), "status": ("Situação", "Status"), "sub_type": ("Subtipo", "Subtype"),
    "subject": ("Assunto", "Subject"), "subscription": ("Assinatura de webhook", "Webhook subscription"),
    "tag": ("Etiqueta", "Tag"), "target": ("Destino", "Target"), "team": ("Equipe", "Team"),
    "template": ("Template", "Template"), "time": ("Horário", "Time"), "timeout": ("Prazo", "Timeout"),
    "timeout_seconds": ("Tempo limite (segundos)", "Timeout (seconds)"), "to": ("Para", "To"), "type": ("Tipo", "Type"),
    "unit": ("Unidade", "Unit"), "url": ("URL", "URL"), "variable": ("Variável", "Variable"),
    "weekdays": ("Dias da semana", "Weekdays"), "weight": ("Peso", "Weight"), "when_closed": ("Fora do horário", "When closed"),
    "sample": ("Exemplo", "Sample"), "fields": ("Dados do evento", "Event data"),
}.items()}

# Labels of enum values shared by many node types, by field name.
COMMON_ENUMS: dict[str, dict[str, Labels]] = {
    "weekdays": {k: _l(pt, en) for k, (pt, en) in {
        "mon": ("seg", "Mon"), "tue": ("ter", "Tue"), "wed": ("qua", "Wed"), "thu": ("qui", "Thu"),
        "fri": ("sex", "Fri"), "sat": ("sáb", "Sat"), "sun": ("dom", "Sun")}.items()},
    "unit": {k: _l(pt, en) for k, (pt, en) in {
        "seconds": ("segundos", "seconds"), "minutes": ("minutos", "minutes"), "hours": ("horas", "hours"),
        "days": ("dias", "days")}.items()},
    "method": {m: _l(m, m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")},
    "state": {k: _l(pt, en) for k, (pt, en) in {
        "new": ("nova", "new"), "triaged": ("triada", "triaged"), "in_service": ("em atendimento", "in service"),
        "pending": ("pendente", "pending"), "completed": ("concluída", "completed"), "None": ("não mudar", "keep")}.items()},
    "sub_type": {k: _l(pt, en) for k, (pt, en) in {
        "quick_reply": ("resposta rápida", "quick reply"), "url": ("link", "URL"), "copy_code": ("copiar código", "copy code")}.items()},
}


def _humanize(name: str) -> str:
    words = name.replace("_", " ")
    return words[:1].upper() + words[1:]


def _walk(schema: dict[str, Any], path: str, out: list[tuple[str, str, dict[str, Any]]]) -> None:
    """(path, name, schema) of every property, arrays as ``path.*``; anyOf options are merged in."""
    for option in schema.get("anyOf") or []:
        if isinstance(option, dict):
            _walk(option, path, out)
    for name, sub in (schema.get("properties") or {}).items():
        child = f"{path}.{name}" if path else name
        out.append((child, name, sub))
        _walk(sub, child, out)
    items = schema.get("items")
    if isinstance(items, dict):
        _walk(items, f"{path}.*" if path else "*", out)


def _enum_of(schema: dict[str, Any]) -> list[Any] | None:
    if "enum" in schema:
        return schema["enum"]
    items = schema.get("items")
    if isinstance(items, dict) and "enum" in items:
        return items["enum"]
    for option in schema.get("anyOf") or []:
        if isinstance(option, dict) and "enum" in option:
            return option["enum"]
    return None


_resolved: dict[int, dict[str, dict[str, Any]]] = {}


def resolve_fields(node_type) -> dict[str, dict[str, Any]]:
    """Every config path of ``node_type`` with its title (always), help, enum labels and hints."""
    cached = _resolved.get(id(node_type))
    if cached is None:
        cached = _resolved[id(node_type)] = _resolve(node_type)
    return cached


def _resolve(node_type) -> dict[str, dict[str, Any]]:
    walked: list[tuple[str, str, dict[str, Any]]] = []
    _walk(node_type.config_schema, "", walked)
    own = node_type.fields
    resolved: dict[str, dict[str, Any]] = {}
    for path, name, schema in walked:
        meta: dict[str, Any] = dict(own.get(path, {}))
        if "title" not in meta:
            meta["title"] = dict(COMMON_TITLES.get(name) or _l(_humanize(name), _humanize(name)))
            if name not in COMMON_TITLES:
                meta["title_missing"] = True
        values = _enum_of(schema)
        if values is not None:
            labels = dict(COMMON_ENUMS.get(name, {}))
            labels.update(meta.get("enum_labels") or {})
            meta["enum_labels"] = {str(v): labels.get(str(v)) or _l(str(v), str(v)) for v in values}
            missing = [str(v) for v in values if str(v) not in labels]
            if missing:
                meta["enum_labels_missing"] = missing
        if path in resolved:  # an anyOf branch met the same path again: keep the first, add what is new
            for key, value in meta.items():
                resolved[path].setdefault(key, value)
        else:
            resolved[path] = meta
    return resolved


def field_title(node_type, path: str) -> Labels:
    """The title of a config path, array indices folded to ``*`` ("conditions.c1.rules.0.left" works)."""
    if node_type is None:
        return _l(path, path)
    facts = resolve_fields(node_type)
    parts = path.split(".")
    candidates = [".".join("*" if p.isdigit() else p for p in parts)]
    # Branch paths name conditions by id, not index: try every segment as a wildcard too.
    candidates.append(".".join("*" if i % 2 == 1 and parts[0] in ("conditions",) and i < 2 else p
                               for i, p in enumerate(parts)))
    for candidate in candidates:
        while candidate:
            if candidate in facts:
                return facts[candidate]["title"]
            if "." not in candidate:
                break
            candidate = candidate.rsplit(".", 1)[0]
    leaf = next((p for p in reversed(parts) if not p.isdigit()), path)
    return dict(COMMON_TITLES.get(leaf) or _l(_humanize(leaf), _humanize(leaf)))


def required_message(node_type, path: str) -> Labels | None:
    if node_type is None:
        return None
    return resolve_fields(node_type).get(path, {}).get("required_message")
