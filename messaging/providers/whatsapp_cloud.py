"""WhatsApp Cloud API: the HTTP client, the request bodies of every message kind, and the provider.

Bodies follow Meta's examples in ``paths./{Version}/{Phone-Number-ID}/messages.post`` of the
v23.0 spec (see ``tests/messaging/test_cloud_contract.py``). The client keeps one pooled
connection pool per Graph host (urllib3 for JSON calls — a send, a read receipt — and a
``requests.Session`` for uploads, downloads and proxied setups) and always sets timeouts; errors come back as
:class:`ProviderError` classified by Meta's error codes (retry, fail with a reason, pause the
channel).
"""

from __future__ import annotations

import json as jsonlib
import os
import threading
from typing import Any

import certifi
import requests
import urllib3
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy
from requests.adapters import HTTPAdapter

from core.metrics import graph_api_call
from messaging.providers.base import ChannelProvider, ProviderError, SendResult
from messaging.providers.registry import register

# --- Error codes (Meta's documentation; see docs/whatsapp.md) ---------------------------------
RETRYABLE_CODES = {130429, 131056, 131016, 4, 80007}
PAUSE_CODES = {190, 368, 131031, 130497}
# Lazy: each reader gets the text in the language active where it is read (the run language in workers).
REASONS: dict[int, Any] = {
    131047: gettext_lazy("more than 24 hours since the customer's last message: use a template"),
    131026: gettext_lazy("message undeliverable (the number may not be on WhatsApp, or has an old app); check the number"),
    131051: gettext_lazy("unsupported message type for WhatsApp"),
    132000: gettext_lazy("the number of template variables does not match the approved template; map one value per variable"),
    132001: gettext_lazy("template missing or not approved in that language; sync templates and pick an approved one"),
    131050: gettext_lazy("the customer stopped marketing messages from this business; recorded as an opt-out"),
    131049: gettext_lazy("Meta did not deliver this marketing message to keep engagement healthy; try later or another template"),
    131008: gettext_lazy("a required parameter is missing in the request"),
    131009: gettext_lazy("a parameter value is invalid (check texts, ids and links)"),
    100: gettext_lazy("invalid parameter in the request (check texts, ids and links)"),
    130429: gettext_lazy("throughput limit reached; retried with backoff"),
    131056: gettext_lazy("too many messages to this customer in a short time; retried with backoff"),
    131016: gettext_lazy("WhatsApp service unavailable; retried with backoff"),
    4: gettext_lazy("too many API calls for this app; retried with backoff"),
    80007: gettext_lazy("WhatsApp Business Account rate limit reached; retried with backoff"),
    190: gettext_lazy("the access token expired or is invalid: set a new token on the channel and resume it"),
    368: gettext_lazy("Meta blocked this account for policy violations: check WhatsApp Manager, then resume the channel"),
    131031: gettext_lazy("the WhatsApp Business Account is locked: check WhatsApp Manager, then resume the channel"),
    130497: gettext_lazy("this business may not message users in that country: check WhatsApp Manager"),
}

CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 15.0

_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
_CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # requests' own, in its order
_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


def _proxied() -> bool:
    return any(os.environ.get(name) for name in _PROXY_VARIABLES)


def _ca_bundle() -> str:
    """The CA bundle the environment names (as requests reads it), else certifi's."""
    return next((os.environ[name] for name in _CA_BUNDLE_VARIABLES if os.environ.get(name)), "") or certifi.where()


def _session(base_url: str) -> requests.Session:
    """One pooled session per Graph host (keep-alive, bounded pool). No urllib3 retries: the
    delivery task owns retries, so a send is never repeated behind its back."""
    with _sessions_lock:
        session = _sessions.get(base_url)
        if session is None:
            session = requests.Session()
            # Proxies from the environment are honoured when set; otherwise skip requests' per-call
            # environment lookups (proxy, netrc, CA bundle variables), a large part of a send's CPU,
            # and read the CA bundle variable once.
            session.trust_env = _proxied()
            if not session.trust_env:
                session.verify = _ca_bundle()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[base_url] = session
        return session


_pools: dict[str, urllib3.PoolManager | None] = {}


def _pool(base_url: str) -> urllib3.PoolManager | None:
    """The keep-alive pool for JSON calls to one Graph host; None when a proxy is configured (then
    ``requests``, which honours the environment, makes the call). A CA bundle named by the environment
    (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) is this pool's too: many hosts set one for every program.

    Why not ``requests`` for everything: per call it merges settings, hooks and cookies, which cost
    0.48 ms of CPU per send against 0.17 ms for urllib3 (the library under it) on a kept-alive
    connection, and every inbound message costs two calls (the reply and the read receipt).
    No retries here either: the delivery task owns them. The choice is made once per host and process
    (the environment's proxy and CA variables were read per call: 4% of a read receipt's CPU).
    """
    try:
        return _pools[base_url]
    except KeyError:
        pass
    with _sessions_lock:
        if base_url not in _pools:
            _pools[base_url] = None if _proxied() else urllib3.PoolManager(
                num_pools=4, maxsize=32, block=False, retries=False, cert_reqs="CERT_REQUIRED", ca_certs=_ca_bundle())
        return _pools[base_url]


class _Answer:
    """What the JSON path's response looks like to the code shared with ``requests`` (status, body)."""

    __slots__ = ("status_code", "data")

    def __init__(self, status_code: int, data: bytes):
        self.status_code, self.data = status_code, data

    def json(self) -> Any:
        return jsonlib.loads(self.data)


def classify_error(code: int | None, message: str, *, http_status: int | None = None) -> ProviderError:
    """Turn Meta's answer into a ProviderError that says whether to retry, fail or pause."""
    reason = REASONS.get(code or -1)
    text = f"{reason} ({message})" if reason and message else (str(reason or "") or message or f"HTTP {http_status}")
    if code in PAUSE_CODES:
        return ProviderError(text, code=str(code), pause_channel=True)
    throttled_or_down = http_status is not None and (http_status >= 500 or http_status == 429)
    if code in RETRYABLE_CODES or (throttled_or_down and code not in REASONS):
        return ProviderError(text, code=str(code or http_status), retryable=True)
    return ProviderError(text, code=str(code or http_status or "error"))


# --- Bodies -----------------------------------------------------------------------------------


def _envelope(to: str, kind: str, payload: dict[str, Any], *, reply_to: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                            "type": kind, kind: payload}
    if reply_to:
        body["context"] = {"message_id": reply_to}
    return body


def build_text(to: str, text: str, *, preview_url: bool = False, reply_to: str | None = None) -> dict[str, Any]:
    return _envelope(to, "text", {"body": text, "preview_url": bool(preview_url)}, reply_to=reply_to)


def build_buttons(to: str, text: str, buttons: list[dict[str, str]], *, header: str = "", footer: str = "",
                  reply_to: str | None = None) -> dict[str, Any]:
    """Reply buttons, ``buttons=[{"id": ..., "title": ...}]`` (at most 3)."""
    if not 1 <= len(buttons) <= 3:
        raise ValueError("reply buttons take 1 to 3 buttons")
    interactive: dict[str, Any] = {
        "type": "button", "body": {"text": text},
        "action": {"buttons": [{"type": "reply", "reply": {"id": b["id"], "title": b["title"]}} for b in buttons]},
    }
    if header:
        interactive["header"] = {"type": "text", "text": header}
    if footer:
        interactive["footer"] = {"text": footer}
    return _envelope(to, "interactive", interactive, reply_to=reply_to)


def build_list(to: str, text: str, button: str, sections: list[dict[str, Any]], *, header: str = "",
               footer: str = "", reply_to: str | None = None) -> dict[str, Any]:
    """A list message: ``sections=[{"title": ..., "rows": [{"id", "title", "description"}]}]`` (≤ 10 rows)."""
    if sum(len(s.get("rows") or []) for s in sections) > 10:
        raise ValueError("a list takes at most 10 rows")
    interactive: dict[str, Any] = {"type": "list", "body": {"text": text},
                                   "action": {"button": button, "sections": sections}}
    if header:
        interactive["header"] = {"type": "text", "text": header}
    if footer:
        interactive["footer"] = {"text": footer}
    return _envelope(to, "interactive", interactive, reply_to=reply_to)


def template_components(*, body: list[Any] | dict[str, Any] | None = None, header: list[Any] | None = None,
                        header_media: dict[str, str] | None = None,
                        buttons: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Components of a template message.

    ``body`` is positional (a list of values) or named (a dict name → value, Meta's
    ``parameter_name``). ``header_media`` is ``{"type": "image", "link"|"id": ...}``. ``buttons``
    are ``{"index": 0, "sub_type": "quick_reply"|"url"|"copy_code", "value": ...}``.
    """

    def params(values):
        if isinstance(values, dict):
            return [{"type": "text", "parameter_name": k, "text": str(v)} for k, v in values.items()]
        return [{"type": "text", "text": str(v)} for v in values]

    components: list[dict[str, Any]] = []
    if header_media:
        kind = header_media.get("type", "image")
        ref = {"id": header_media["id"]} if header_media.get("id") else {"link": header_media["link"]}
        components.append({"type": "header", "parameters": [{"type": kind, kind: ref}]})
    elif header:
        components.append({"type": "header", "parameters": params(header)})
    if body:
        components.append({"type": "body", "parameters": params(body)})
    for button in buttons or []:
        sub_type = button["sub_type"]
        if sub_type == "quick_reply":
            param = {"type": "payload", "payload": button["value"]}
        elif sub_type == "copy_code":
            param = {"type": "coupon_code", "coupon_code": button["value"]}
        else:
            param = {"type": "text", "text": button["value"]}
        components.append({"type": "button", "sub_type": sub_type, "index": str(button["index"]),
                           "parameters": [param]})
    return components


def build_template(to: str, name: str, language: str, components: list[dict[str, Any]] | None = None,
                   *, reply_to: str | None = None) -> dict[str, Any]:
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components:
        template["components"] = components
    return _envelope(to, "template", template, reply_to=reply_to)


MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")


def build_media(to: str, kind: str, *, media_id: str = "", link: str = "", caption: str = "", filename: str = "",
                reply_to: str | None = None) -> dict[str, Any]:
    """Media by uploaded id or by public link. Captions on image/video/document; filename on documents."""
    if kind not in MEDIA_KINDS:
        raise ValueError(f"unknown media kind {kind!r}")
    if bool(media_id) == bool(link):
        raise ValueError("give exactly one of media_id or link")
    payload: dict[str, Any] = {"id": media_id} if media_id else {"link": link}
    if caption and kind in ("image", "video", "document"):
        payload["caption"] = caption
    if filename and kind == "document":
        payload["filename"] = filename
    return _envelope(to, kind, payload, reply_to=reply_to)


def build_reaction(to: str, message_id: str, emoji: str) -> dict[str, Any]:
    return _envelope(to, "reaction", {"message_id": message_id, "emoji": emoji})


def build_location(to: str, *, latitude: float, longitude: float, name: str = "", address: str = "",
                   reply_to: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if name:
        payload["name"] = name
    if address:
        payload["address"] = address
    return _envelope(to, "location", payload, reply_to=reply_to)


def build_mark_read(message_id: str, *, typing: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    if typing:
        body["typing_indicator"] = {"type": "text"}
    return body


def build_for_message(message) -> dict[str, Any]:
    """The request body of a stored outbound message (``kind`` + ``content`` as the engine stored it).

    ``content`` holds the Cloud API object of its kind (``{"text": {...}}``, ``{"template": {...}}``,
    ...) plus optional ``context`` (reply to a wamid). ``biz_opaque_callback_data`` carries our
    idempotency key: Meta echoes it in status webhooks, which lets Fluxo reconcile a send whose
    result a dying worker never recorded (docs/whatsapp.md, "Exactly once?").
    """
    kind = message.kind
    content = message.content or {}
    payload = content.get(kind)
    if payload is None:
        raise ProviderError(gettext("message %(id)s has no '%(kind)s' content") % {"id": message.pk, "kind": kind},
                            code="bad_content")
    body = _envelope(message.contact.phone, kind, payload)
    reply_to = (content.get("context") or {}).get("message_id")
    if reply_to:
        body["context"] = {"message_id": reply_to}
    if message.idempotency_key:
        body["biz_opaque_callback_data"] = message.idempotency_key[:512]
    return body


# --- Client -----------------------------------------------------------------------------------


def _never_sent(exc: BaseException) -> bool:
    """Whether a connection error happened before the request could be written (refused, DNS, TLS)."""
    import urllib3.exceptions

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError
                      | ConnectionRefusedError | urllib3.exceptions.SSLError):
            return True
        current = current.__context__ or current.__cause__ or (current.args[0] if current.args and
                                                               isinstance(current.args[0], BaseException) else None)
    reason = getattr(getattr(exc, "args", [None])[0], "reason", None)
    return isinstance(reason, urllib3.exceptions.NewConnectionError | ConnectionRefusedError)


class CloudClient:
    """Calls the Graph API for one channel. Every call has a timeout; errors raise ProviderError."""

    def __init__(self, *, base_url: str, version: str, phone_number_id: str, waba_id: str, access_token: str,
                 timeout: tuple[float, float] | None = None):
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.access_token = access_token
        self.timeout = timeout or (CONNECT_TIMEOUT, float(getattr(settings, "WHATSAPP_HTTP_TIMEOUT", READ_TIMEOUT)))
        self.session = _session(self.base_url)

    @classmethod
    def for_channel(cls, channel) -> CloudClient:
        return cls(base_url=channel.graph_api_base_url, version=channel.graph_api_version,
                   phone_number_id=channel.phone_number_id, waba_id=channel.waba_id,
                   access_token=channel.access_token)

    def _request(self, method: str, path: str, *, json: dict[str, Any] | None = None,
                 params: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
                 files: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.base_url}/{self.version}/{path}"
        headers = {"Authorization": f"Bearer {self.access_token}"}
        plain = data is None and files is None and (params is None or method in ("GET", "DELETE"))
        pool = _pool(self.base_url) if plain else None
        if pool is not None:
            response = self._json_call(pool, method, url, headers=headers, body=json, params=params)
            return self._answer(response)
        try:
            response = graph_api_call(self.session.request, method, url, json=json, params=params, headers=headers,
                                      data=data, files=files, timeout=self.timeout)
        except requests.ConnectTimeout as exc:
            raise ProviderError(gettext("Graph API did not accept the connection in time; retried with backoff"),
                                code="connect_timeout", retryable=True) from exc
        except requests.Timeout as exc:
            # The request went out and no answer came: Meta may have taken it.
            raise ProviderError(gettext("Graph API did not answer in time (%(kind)s)") % {"kind": type(exc).__name__},
                                code="timeout",
                                retryable=True, uncertain=method == "POST") from exc
        except requests.ConnectionError as exc:
            refused = _never_sent(exc)
            raise ProviderError(gettext("Graph API unreachable (%(kind)s); retried with backoff") % {"kind": type(exc).__name__},
                                code="connection", retryable=True, uncertain=method == "POST" and not refused) from exc
        except requests.RequestException as exc:
            raise ProviderError(gettext("Graph API request failed (%(kind)s); retried with backoff")
                                % {"kind": type(exc).__name__},
                                code="connection", retryable=True) from exc
        return self._answer(response)

    def _json_call(self, pool: urllib3.PoolManager, method: str, url: str, *, headers: dict[str, str],
                   body: dict[str, Any] | None, params: dict[str, Any] | None) -> _Answer:
        """One JSON call through urllib3, its failures classified exactly as the ``requests`` path does."""
        payload = None
        if body is not None:
            payload = jsonlib.dumps(body, allow_nan=False).encode()
            headers = {**headers, "Content-Type": "application/json"}
        try:
            response = graph_api_call(pool.request, method, url, body=payload, fields=params, headers=headers,
                                      timeout=urllib3.Timeout(connect=self.timeout[0], read=self.timeout[1]),
                                      redirect=False)
        except urllib3.exceptions.NewConnectionError as exc:  # refused, DNS: never written (before ConnectTimeout)
            raise ProviderError(gettext("Graph API unreachable (%(kind)s); retried with backoff") % {"kind": type(exc).__name__},
                                code="connection", retryable=True, uncertain=False) from exc
        except urllib3.exceptions.ConnectTimeoutError as exc:
            raise ProviderError(gettext("Graph API did not accept the connection in time; retried with backoff"),
                                code="connect_timeout", retryable=True) from exc
        except urllib3.exceptions.ReadTimeoutError as exc:
            # The request went out and no answer came: Meta may have taken it.
            raise ProviderError(gettext("Graph API did not answer in time (%(kind)s)") % {"kind": "ReadTimeout"},
                                code="timeout", retryable=True, uncertain=method == "POST") from exc
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.SSLError, urllib3.exceptions.ProxyError,
                OSError) as exc:
            refused = _never_sent(exc)
            raise ProviderError(gettext("Graph API unreachable (%(kind)s); retried with backoff") % {"kind": "ConnectionError"},
                                code="connection", retryable=True, uncertain=method == "POST" and not refused) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise ProviderError(gettext("Graph API request failed (%(kind)s); retried with backoff")
                                % {"kind": type(exc).__name__},
                                code="connection", retryable=True) from exc
        return _Answer(response.status, response.data)

    @staticmethod
    def _answer(response: Any) -> dict[str, Any]:
        """The JSON of a Graph answer, or the classified ProviderError of an error answer."""
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400 or "error" in data:
            error = data.get("error") or {}
            details = (error.get("error_data") or {}).get("details") or error.get("message", "")
            raise classify_error(error.get("code"), details, http_status=response.status_code)
        return data

    def send(self, body: dict[str, Any]) -> str:
        """POST a message body; returns the new wamid."""
        data = self._request("POST", f"{self.phone_number_id}/messages", json=body)
        try:
            return data["messages"][0]["id"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ProviderError(gettext("Graph API answered without a message id"), code="bad_response",
                                retryable=False) from exc

    def mark_read(self, message_id: str, *, typing: bool = False) -> None:
        self._request("POST", f"{self.phone_number_id}/messages", json=build_mark_read(message_id, typing=typing))

    # --- Media (``Media`` endpoints of the v23.0 spec) ---

    def media_upload(self, *, content: bytes, mime_type: str, filename: str) -> str:
        """``POST /{phone-number-id}/media`` (multipart): the media id Meta keeps for about 30 days."""
        data = self._request("POST", f"{self.phone_number_id}/media",
                             data={"messaging_product": "whatsapp", "type": mime_type},
                             files={"file": (filename or "file", content, mime_type)})
        media_id = str(data.get("id") or "")
        if not media_id:
            raise ProviderError("Graph API answered the upload without a media id", code="bad_response")
        return media_id

    def media_lookup(self, media_id: str) -> dict[str, Any]:
        """``GET /{media-id}``: the download URL (valid about 5 minutes), mime_type, sha256, file_size."""
        data = self._request("GET", media_id, params={"phone_number_id": self.phone_number_id})
        if not data.get("url"):
            raise ProviderError(f"Graph API gave no download URL for media {media_id}", code="bad_response")
        return data

    def media_delete(self, media_id: str) -> None:
        """``DELETE /{media-id}``."""
        self._request("DELETE", media_id, params={"phone_number_id": self.phone_number_id})

    def media_download(self, url: str, destination, *, max_bytes: int, deadline_seconds: float = 120.0) -> dict[str, Any]:
        """Stream the file at ``url`` (from :meth:`media_lookup`) into ``destination`` (a binary file).

        The channel's token goes in the ``Authorization`` header (Meta's URLs need it). Refused as
        soon as the file passes ``max_bytes`` (announced or streamed) or the whole download
        ``deadline_seconds``. Returns ``{"size", "sha256", "mime_type"}``.
        """
        import hashlib
        import time

        started = time.monotonic()
        headers = {"Authorization": f"Bearer {self.access_token}"}
        try:
            response = graph_api_call(self.session.get, url, headers=headers, stream=True, timeout=self.timeout)
        except requests.Timeout as exc:
            raise ProviderError("the media download did not answer in time", code="timeout", retryable=True) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"the media download failed ({type(exc).__name__})", code="connection",
                                retryable=True) from exc
        with response:
            if response.status_code >= 400:
                if response.status_code in (401, 403):
                    raise ProviderError("the media download was refused: the channel's token is not valid for it",
                                        code=str(response.status_code))
                if response.status_code == 404:
                    raise ProviderError("the media URL expired or the media no longer exists", code="expired",
                                        retryable=True)
                raise ProviderError(f"the media download answered HTTP {response.status_code}",
                                    code=str(response.status_code), retryable=response.status_code >= 500)
            announced = response.headers.get("Content-Length")
            if announced and announced.isdigit() and int(announced) > max_bytes:
                raise ProviderError(f"the file has {int(announced)} bytes, more than the {max_bytes} allowed",
                                    code="too_large")
            digest = hashlib.sha256()
            size = 0
            try:
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ProviderError(f"the file passed the {max_bytes} bytes allowed while downloading",
                                            code="too_large")
                    if time.monotonic() - started > deadline_seconds:
                        raise ProviderError(f"the media download took more than {deadline_seconds:.0f} s",
                                            code="timeout", retryable=True)
                    digest.update(chunk)
                    destination.write(chunk)
            except requests.RequestException as exc:
                raise ProviderError(f"the media download broke off ({type(exc).__name__})", code="connection",
                                    retryable=True) from exc
            mime = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        return {"size": size, "sha256": digest.hexdigest(), "mime_type": mime}

    PHONE_NUMBER_FIELDS = ("display_phone_number,verified_name,quality_rating,messaging_limit_tier,throughput,"
                           "name_status,code_verification_status")

    def phone_number_info(self) -> dict[str, Any]:
        """``GET /{phone-number-id}``: proves the token works for this number and says its display
        number, verified name, quality rating and messaging limit tier."""
        return self._request("GET", self.phone_number_id, params={"fields": self.PHONE_NUMBER_FIELDS})

    def templates_page(self, *, after: str | None = None, limit: int = 100) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "fields": "id,name,language,status,category,components"}
        if after:
            params["after"] = after
        return self._request("GET", f"{self.waba_id}/message_templates", params=params)

    def templates_all(self, *, limit: int = 100, max_pages: int = 200):
        """Every template of the WABA, following ``paging.cursors.after`` while ``paging.next`` is given."""
        after = None
        for _ in range(max_pages):
            page = self.templates_page(after=after, limit=limit)
            yield from page.get("data") or []
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return

    def phone_number_health(self) -> dict[str, Any]:
        """The number's quality rating, messaging limit tier and status (``GET /{phone-number-id}``)."""
        return self._request("GET", self.phone_number_id,
                             params={"fields": "quality_rating,messaging_limit_tier,status"})


@register
class WhatsAppCloudProvider(ChannelProvider):
    key = "whatsapp_cloud"

    def send(self, message) -> SendResult:
        wamid = CloudClient.for_channel(self.channel).send(build_for_message(message))
        return SendResult(provider_message_id=wamid, status="sent")

    def mark_read(self, message_id: str) -> None:
        CloudClient.for_channel(self.channel).mark_read(message_id)
