"""``http_request_execute``: the runtime service behind the ``http_request`` node.

Resolves the credential from the vault, sends through the SSRF-guarded client, retries 5xx, 429,
timeouts and connection errors with exponential backoff and jitter, and answers a dict the node
maps into variables. Every failure is a :class:`flows.nodes.base.StepError` with a clear reason,
so the node takes its failure port. Nothing returned or logged holds the secret.
"""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.utils.translation import gettext, ngettext

from core.logging import mask_text
from flows.nodes.base import StepError
from integrations.http import client
from integrations.http.guard import BlockedAddress, allow_entries, guard_for
from integrations.vault.selectors import credential_get_by_name
from integrations.vault.services import MASK, AppliedCredential, credential_apply, credential_touch

logger = logging.getLogger(__name__)

PREVIEW_BYTES = 2048
SENSITIVE_HEADER_WORDS = ("authorization", "token", "secret", "api-key", "apikey", "password", "cookie")
KEPT_RESPONSE_HEADERS = ("content-type", "content-length", "location", "retry-after", "etag", "x-request-id")


def backoff_delay(attempt: int, *, base: float | None = None, cap: float = 8.0) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, …): exponential with full jitter on top."""
    base = settings.FLUXO_HTTP_BACKOFF_BASE if base is None else base
    delay = min(cap, base * (2 ** (attempt - 1)))
    return delay * random.uniform(0.5, 1.5)  # jitter: retries of many runs do not stampede together


def _masked_headers(headers: dict[str, str], applied: AppliedCredential) -> dict[str, str]:
    shown = {}
    for key, value in headers.items():
        lowered = key.lower()
        if lowered in applied.sensitive_headers or any(word in lowered for word in SENSITIVE_HEADER_WORDS):
            shown[key] = MASK
        else:
            shown[key] = mask_text(str(value))
    shown.update(applied.masked)
    return shown


def _display_url(url: str, query: dict[str, Any], applied: AppliedCredential) -> str:
    params = {**query, **{key: MASK for key in applied.params}}
    if not params:
        return mask_text(url)
    parts = urlsplit(url)
    extra = "&".join(f"{quote(str(k))}={MASK if k in applied.params else quote(str(v))}" for k, v in params.items())
    return mask_text(urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra)))


def _parse_body(response: client.HttpResponse) -> Any:
    if not response.content:
        return None
    content_type = response.headers.get("content-type", "")
    text = response.text
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def _preview(response: client.HttpResponse) -> str:
    return mask_text(response.content[:PREVIEW_BYTES].decode("utf-8", errors="replace"))


def http_request_execute(*, run=None, request: dict[str, Any]) -> dict[str, Any]:
    """Send ``request`` (``method``, ``url``, ``headers``, ``query``, ``body_type``, ``body``,
    ``credential``, ``timeout``, ``retries``, ``max_response_bytes``, ``idempotency_key``).

    Returns ``{"status", "ok", "body", "headers", "attempts", "duration_ms", "request"}`` for a 2xx
    (or a 4xx when ``request["fail_on_error"]`` is false); raises ``StepError`` otherwise.
    """
    method = str(request.get("method") or "GET").upper()
    url = str(request.get("url") or "").strip()
    headers = {str(k): str(v) for k, v in (request.get("headers") or {}).items()}
    query = {str(k): v for k, v in (request.get("query") or {}).items()}
    timeout = float(request.get("timeout") or settings.FLUXO_HTTP_TIMEOUT)
    retries = int(request.get("retries") if request.get("retries") is not None else settings.FLUXO_HTTP_RETRIES)
    max_bytes = int(request.get("max_response_bytes") or settings.FLUXO_HTTP_MAX_RESPONSE_BYTES)
    max_bytes = min(max_bytes, settings.FLUXO_HTTP_MAX_RESPONSE_BYTES_LIMIT)
    fail_on_error = request.get("fail_on_error", True)

    applied, extra_allow = AppliedCredential(), []
    credential_name = request.get("credential") or ""
    if credential_name:
        credential = credential_get_by_name(credential_name)
        if credential is None:
            raise StepError(gettext("credential '%(credential)s' is not in the vault (Integrations › Credentials)")
                            % {"credential": credential_name},
                            code="credential_missing", details={"credential": credential_name})
        applied = credential_apply(credential)
        extra_allow = allow_entries(credential.allowed_hosts)  # never a string read character by character
        credential_touch(credential=credential)

    for name, value in headers.items():
        # Header values often come from contact data: a line break would smuggle in new headers.
        if any(c in name for c in "\r\n:") or not name.strip() or "\r" in value or "\n" in value:
            raise StepError(gettext("header '%(header)s' has a line break or an invalid name") % {"header": name[:60]},
                            code="http_bad_header")
    send_headers = {**headers, **applied.headers}
    if request.get("idempotency_key") and method not in ("GET", "HEAD"):
        send_headers.setdefault("Idempotency-Key", str(request["idempotency_key"]))
    body_type = request.get("body_type") or "none"
    json_body = request.get("body") if body_type == "json" else None
    data = request.get("body") if body_type in ("form", "multipart") else None
    files = _files(request.get("files") or {}) if body_type == "multipart" else None
    described = {"method": method, "url": _display_url(url, query, applied),
                 "headers": _masked_headers(send_headers, applied)}
    if body_type != "none":
        described["body_type"] = body_type

    guard = guard_for(extra_allow)
    started = time.monotonic()
    attempts = 0
    last_error: StepError | None = None
    budget = float(settings.FLUXO_HTTP_MAX_TOTAL_SECONDS)
    while attempts <= retries:
        attempts += 1
        if attempts > 1:
            pause = backoff_delay(attempts - 1)
            # A step runs inside the contact's lock: never let retries hold it past the budget.
            if time.monotonic() - started + pause + min(timeout, 1.0) > budget:
                attempts -= 1
                break
            time.sleep(pause)
        try:
            response = client.request(
                method, url, headers=send_headers, params={**query, **applied.params} or None, data=data,
                json_body=json_body, files=files, timeout=timeout, max_bytes=max_bytes, guard=guard,
                sensitive_headers=applied.sensitive_headers, auth=applied.auth,
            )
        except BlockedAddress as exc:
            raise StepError(str(exc), code="http_blocked", details={"request": described, "reason": exc.reason})
        except client.BadURL as exc:
            raise StepError(gettext("bad URL: %(error)s") % {"error": exc}, code="http_bad_url",
                            details={"request": described})
        except client.ResponseTooLarge as exc:
            raise StepError(str(exc), code="http_too_large", details={"request": described, "limit": exc.limit})
        except client.TooManyRedirects as exc:
            raise StepError(str(exc), code="http_redirects", details={"request": described})
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader) as exc:
            raise StepError(gettext("the request is malformed (%(kind)s)") % {"kind": exc.__class__.__name__},
                            code="http_bad_request",
                            details={"request": described})
        except requests.Timeout:
            last_error = StepError(gettext("%(url)s did not answer within %(seconds)s s")
                                   % {"url": described["url"], "seconds": f"{timeout:g}"},
                                   code="http_timeout", details={"request": described})
            continue
        except requests.RequestException as exc:
            last_error = StepError(gettext("could not connect to %(url)s: %(reason)s")
                                   % {"url": described["url"], "reason": client.describe_error(exc)},
                                   code="http_connection", details={"request": described})
            continue

        result = {
            "status": response.status, "ok": response.ok, "body": _parse_body(response),
            "headers": {k: v for k, v in response.headers.items() if k in KEPT_RESPONSE_HEADERS},
            "attempts": attempts, "duration_ms": int((time.monotonic() - started) * 1000),
            "request": described, "redirects": [mask_text(u) for u in response.redirects],
        }
        logger.info("http_request %s %s → %s (%d attempt(s), %d ms)", method, described["url"], response.status,
                    attempts, result["duration_ms"])
        if response.status >= 500 or response.status == 429:
            last_error = StepError(gettext("%(url)s answered %(status)s") % {"url": described["url"], "status": response.status},
                                   code="http_status",
                                   details={"status": response.status, "body": _preview(response), "request": described})
            continue
        if response.status >= 400 and fail_on_error:
            raise StepError(gettext("%(url)s answered %(status)s") % {"url": described["url"], "status": response.status},
                            code="http_status",
                            details={"status": response.status, "body": _preview(response), "request": described})
        return result

    assert last_error is not None
    last_error.details["attempts"] = attempts
    last_error.message = ngettext("%(error)s (after %(attempts)d attempt)", "%(error)s (after %(attempts)d attempts)",
                                  attempts) % {"error": last_error.message, "attempts": attempts}
    last_error.args = (last_error.message,)
    logger.info("http_request %s %s failed: %s", method, described["url"], last_error.message)
    raise last_error


def _files(references: dict[str, str]) -> dict[str, tuple[str, bytes, str]]:
    """Multipart parts from Fluxo files (``{{trigger.media.url}}`` links or ids): read from the storage
    (fetched first when a received file is still downloading). Outside any transaction (calls queue)."""
    from messaging.media import MediaRefused, media_read

    parts = {}
    for name, reference in references.items():
        try:
            parts[name] = media_read(reference)
        except MediaRefused as exc:
            raise StepError(f"file '{name}': {exc.message}", code="http_file_missing",
                            details={"field": name}) from exc
    return parts
