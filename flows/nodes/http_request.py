"""requisição HTTP: call a company system (CRM, ERP, helpdesk…) and map the answer into variables.

The request is rendered here (every text field takes ``{{ }}`` expressions); sending it — vault
credential, SSRF guard, retries, size cap — is the runtime's ``http_request`` service
(:func:`integrations.http.services.http_request_execute`). The credential is named, never inlined,
so no secret ever sits in the flow definition or its step traces.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import gettext

from flows.calls import call_accepts, call_outcome
from flows.nodes import registry
from flows.nodes.base import FAILURE, Next, NodeType, Port, StepError, ValidationIssue, Wait, labels
from flows.nodes.fields import field
from flows.nodes.registry import register

VAR_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,63}$"
SUCCESS = Port("success", labels("Sucesso", "Success"))
MAX_BODY_DEPTH = 20
OUTPUT_PREVIEW = 2000
MAX_VARIABLE_BYTES = 64 * 1024  # run variables live in the run's context row: keep them small
CALL_GRACE_SECONDS = 60  # beyond the call's own time budget: queueing, a busy calls worker

STRING_MAP = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}, "maxProperties": 50}


def _walk_strings(value: Any, prefix: str, depth: int = 0):
    """(field, text) for every string inside a JSON body, for expression checks."""
    if depth > MAX_BODY_DEPTH:
        return
    if isinstance(value, str):
        yield prefix, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_strings(item, f"{prefix}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_strings(item, f"{prefix}.{index}", depth + 1)


def _render_tree(ctx, value: Any, field_name: str, depth: int = 0) -> Any:
    """Render every string of a JSON body; a string that is one expression keeps its type."""
    if depth > MAX_BODY_DEPTH:
        raise StepError(gettext("the body is nested too deeply"), code="http_body_too_deep", details={"field": field_name})
    if isinstance(value, str):
        return ctx.render_value(value, field_name=field_name) if "{{" in value else value
    if isinstance(value, dict):
        return {key: _render_tree(ctx, item, f"{field_name}.{key}", depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_render_tree(ctx, item, f"{field_name}.{i}", depth + 1) for i, item in enumerate(value)]
    return value


def _preview(value: Any) -> Any:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= OUTPUT_PREVIEW else text[:OUTPUT_PREVIEW] + "…"


@register
class HttpRequestNode(NodeType):
    key = "http_request"
    label = labels("Requisição HTTP", "HTTP request")
    description = labels(
        "Chama um sistema da empresa (CRM, ERP, loja) e guarda campos da resposta em variáveis. "
        "Credenciais vêm do cofre, pelo nome.",
        "Calls a company system (CRM, ERP, shop) and stores response fields in variables. "
        "Credentials come from the vault, by name.",
    )
    category = "integration"
    icon = "globe"
    ports = [SUCCESS, FAILURE]
    default_config = {"method": "GET", "url": "https://", "timeout_seconds": 10, "retries": 2,
                      "response_mapping": []}
    summary = ["method", "url"]
    fields = {
        "url": field("URL", "URL", placeholder="https://erp.exemplo.com.br/pedidos/{{vars.order_id}}",
                     required_message=("Informe a URL do sistema a chamar.", "Give the URL to call.")),
        "body_type": field("Tipo do corpo", "Body type", enum={"none": ("sem corpo", "none"), "json": ("JSON", "JSON"),
                                                               "form": ("formulário", "form"),
                                                               "multipart": ("arquivo (multipart)", "file (multipart)")}),
        "body": field("Corpo", "Body", visible_when={"body_type": ["json", "form", "multipart"]}),
        "files": field("Arquivos", "Files", visible_when={"body_type": "multipart"},
                       help=("Nome do campo → o link do arquivo, por exemplo {{trigger.media.url}}.",
                             "Field name → the file's link, for example {{trigger.media.url}}.")),
        "credential": field("Credencial do cofre", "Vault credential", widget="plain",
                            help=("O nome de uma credencial do cofre; o segredo nunca fica no fluxo.",
                                  "The name of a vault credential; the secret never sits in the flow.")),
        "retries": field("Tentativas", "Retries", help=("Em 5xx, 429, tempo esgotado e falha de conexão.",
                                                        "On 5xx, 429, timeouts and connection errors.")),
        "fail_on_error": field("Resposta 4xx segue por Falha", "A 4xx answer takes Failure"),
        "response_mapping": field("Guardar campos da resposta", "Store response fields",
                                  help=("Cada item vira {{vars.variável}} para os próximos blocos.",
                                        "Each item becomes {{vars.variable}} for the next blocks.")),
        "response_mapping.*.variable": field("Variável", "Variable", placeholder="status_pedido", widget="plain"),
        "response_mapping.*.path": field("Caminho JSON", "JSON path", placeholder="$.order.status", widget="plain"),
        "response_mapping.*.required": field("Obrigatório", "Required"),
        "save_response_as": field("Guardar resposta inteira em", "Save the whole response as", widget="plain"),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"], "default": "GET"},
            "url": {"type": "string", "minLength": 8, "maxLength": 2000,
                    "description": "e.g. https://erp.example.com/orders/{{vars.order_id}}"},
            "headers": STRING_MAP,
            "query": STRING_MAP,
            "body_type": {"enum": ["none", "json", "form", "multipart"], "default": "none"},
            "files": STRING_MAP,
            "body": {"type": ["object", "array"],
                     "description": "JSON body, or form fields (an object of strings). Strings take {{ }}."},
            "credential": {"type": "string", "maxLength": 80, "pattern": "^[-a-zA-Z0-9_]*$",
                           "description": "Name of a credential in the vault."},
            "timeout_seconds": {"type": "number", "minimum": 1, "maximum": 60, "default": 10},
            "retries": {"type": "integer", "minimum": 0, "maximum": 5, "default": 2,
                        "description": "Retries on 5xx, 429, timeouts and connection errors, with backoff."},
            "max_response_kb": {"type": "integer", "minimum": 1, "maximum": 5120, "default": 1024},
            "fail_on_error": {"type": "boolean", "default": True,
                              "description": "A 4xx answer takes the failure port (else success, with its status)."},
            "response_mapping": {
                "type": "array", "maxItems": 30,
                "items": {
                    "type": "object",
                    "properties": {
                        "variable": {"type": "string", "pattern": VAR_PATTERN},
                        "path": {"type": "string", "minLength": 1, "maxLength": 500,
                                 "description": "JSON path in the response body, e.g. $.order.status"},
                        "default": {},
                        "required": {"type": "boolean"},
                    },
                    "required": ["variable", "path"],
                    "additionalProperties": False,
                },
            },
            "save_response_as": {"type": "string", "pattern": VAR_PATTERN,
                                 "description": "Keep {status, body} of the response in this variable."},
        },
        "required": ["method", "url"],
        "additionalProperties": False,
    }

    def expressions(self, config):
        found = [("url", config.get("url") or "")]
        for section in ("headers", "query"):
            found += [(f"{section}.{k}", v) for k, v in (config.get(section) or {}).items() if isinstance(v, str)]
        if config.get("body_type") in ("json", "form", "multipart"):
            found += list(_walk_strings(config.get("body"), "body"))
        if config.get("body_type") == "multipart":
            found += [(f"files.{k}", v) for k, v in (config.get("files") or {}).items() if "{{" in str(v)]
        return [(name, text) for name, text in found if "{{" in text]

    def defines(self, config):
        names = [m["variable"] for m in config.get("response_mapping") or [] if m.get("variable")]
        if config.get("save_response_as"):
            names.append(config["save_response_as"])
        return [f"vars.{name}" for name in names]

    def validate(self, node_id, config):
        from flows.jsonpath import JSONPathError, parse

        issues = []
        for index, mapping in enumerate(config.get("response_mapping") or []):
            try:
                parse(mapping.get("path") or "")
            except JSONPathError as exc:
                issues.append(ValidationIssue(
                    "invalid_json_path",
                    labels(f"Caminho JSON inválido: {exc}", f"Invalid JSON path: {exc}"),
                    node_id, f"response_mapping.{index}.path"))
        body_type = config.get("body_type") or "none"
        if body_type == "multipart" and not config.get("files"):
            issues.append(ValidationIssue(
                "files_required", labels("Escolha ao menos um arquivo para enviar, como {{trigger.media.url}}.",
                                         "Pick at least one file to send, such as {{trigger.media.url}}."),
                node_id, "files"))
        if body_type in ("form", "multipart") and not isinstance(config.get("body") or {}, dict):
            issues.append(ValidationIssue(
                "form_body_object",
                labels("Um corpo de formulário é um objeto de campos.", "A form body is an object of fields."),
                node_id, "body"))
        if body_type != "none" and config.get("method") in ("GET", "HEAD"):
            issues.append(ValidationIssue(
                "body_with_get",
                labels("GET e HEAD não levam corpo.", "GET and HEAD do not carry a body."), node_id, "body_type"))
        if config.get("credential") and not registry.name_exists("credential", config["credential"]):
            issues.append(ValidationIssue(
                "credential_unknown",
                labels(f"A credencial '{config['credential']}' não está no cofre.",
                       f"Credential '{config['credential']}' is not in the vault."),
                node_id, "credential"))
        return issues

    def execute(self, ctx):
        config = ctx.config
        body_type = config.get("body_type") or "none"
        request = {
            "method": config.get("method") or "GET",
            "url": ctx.render(config["url"], field_name="url").strip(),
            "headers": {k: ctx.render(str(v), field_name=f"headers.{k}") for k, v in (config.get("headers") or {}).items()},
            "query": {k: ctx.render(str(v), field_name=f"query.{k}") for k, v in (config.get("query") or {}).items()},
            "body_type": body_type,
            "body": _render_tree(ctx, config.get("body"), "body") if body_type != "none" else None,
            "files": ({k: ctx.render(str(v), field_name=f"files.{k}") for k, v in (config.get("files") or {}).items()}
                      if body_type == "multipart" else {}),
            "credential": config.get("credential") or "",
            "timeout": float(config.get("timeout_seconds") or 10),
            "retries": int(config.get("retries", 2)),
            "max_response_bytes": int(config.get("max_response_kb") or 1024) * 1024,
            "fail_on_error": config.get("fail_on_error", True),
            "idempotency_key": ctx.idempotency_key(),
        }
        # The call is made outside the transaction and the contact's lock (flows.calls); the run waits.
        budget = request["timeout"] * (request["retries"] + 1) + request["retries"] * 2
        deadline = min(budget, float(settings.FLUXO_HTTP_MAX_TOTAL_SECONDS)) + CALL_GRACE_SECONDS
        return Wait("call", wake_at=ctx.now() + timedelta(seconds=deadline),
                    output={"request": {"method": request["method"], "url": request["url"]}},
                    call={"service": "http_request", "kwargs": {"request": request}})

    def accepts(self, ctx):
        return call_accepts(ctx)

    def resume(self, ctx):
        from flows.jsonpath import MISSING, JSONPathError, get

        config = ctx.config
        try:
            result = call_outcome(ctx)
        except StepError as exc:
            # Keep what is known of the failure where the failure path can branch on it.
            if config.get("save_response_as"):
                ctx.vars[config["save_response_as"]] = {"status": exc.details.get("status"), "body": None,
                                                        "error": exc.code}
            raise
        body = result.get("body")
        mapped: dict[str, Any] = {}
        for mapping in config.get("response_mapping") or []:
            try:
                value = get(body, mapping["path"])
            except JSONPathError as exc:
                raise StepError(gettext("invalid JSON path '%(path)s': %(error)s") % {"path": mapping["path"], "error": exc},
                                code="invalid_json_path") from exc
            if value is MISSING:
                if mapping.get("required"):
                    raise StepError(gettext("the response has no '%(path)s' (needed for vars.%(variable)s)")
                                    % {"path": mapping["path"], "variable": mapping["variable"]},
                                    code="http_missing_field",
                                    details={"path": mapping["path"], "body": _preview(body)})
                value = mapping.get("default")
            _check_size(mapping["variable"], value)
            mapped[mapping["variable"]] = value
        ctx.vars.update(mapped)
        if config.get("save_response_as"):
            saved = {"status": result.get("status"), "body": body}
            _check_size(config["save_response_as"], saved)
            ctx.vars[config["save_response_as"]] = saved
        return Next("success", {
            "request": result.get("request"), "status": result.get("status"), "attempts": result.get("attempts"),
            "duration_ms": result.get("duration_ms"), "redirects": result.get("redirects") or [],
            "mapped": {k: _preview(v) for k, v in mapped.items()}, "body_preview": _preview(body),
        })


def _check_size(variable: str, value: Any) -> None:
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
    if size > MAX_VARIABLE_BYTES:
        raise StepError(gettext("vars.%(variable)s would hold %(size)s KB (at most %(limit)s KB): "
                                "map only the fields you need")
                        % {"variable": variable, "size": size // 1024, "limit": MAX_VARIABLE_BYTES // 1024},
                        code="http_variable_too_large")
