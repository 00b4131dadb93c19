"""The one HTTP client for outbound calls from flows, AI providers, webhooks and notifications.

Built on ``requests`` with a connection class that asks the SSRF :class:`~core.netguard.Guard`
for the vetted addresses of the host and connects to one of them, while ``Host`` and TLS SNI keep
the name. Redirects are followed by hand (each hop is vetted again at connect time, and credential
headers are dropped when the origin changes). The response body is read in chunks up to a cap.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

import requests
from django.utils.translation import gettext
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from core.logging import mask_text
from core.netguard import BlockedAddress, Guard, guard_for

logger = logging.getLogger(__name__)

REDIRECT_CODES = {301, 302, 303, 307, 308}
USER_AGENT = "Fluxo/1.0 (+https://fluxo.app)"


class ResponseTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(gettext("the response is larger than the %(limit)s bytes allowed") % {"limit": limit})
        self.limit = limit


class TooManyRedirects(Exception):
    pass


class BadURL(ValueError):
    pass


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    content: bytes
    url: str
    elapsed_ms: int
    redirects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode(_charset(self.headers), errors="replace")

    def json(self) -> Any:
        import json

        return json.loads(self.content.decode(_charset(self.headers), errors="replace"))


def _charset(headers: dict[str, str]) -> str:
    content_type = headers.get("content-type", "")
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


class _GuardedMixin:
    """Replaces name resolution + connect: vet the addresses first, then connect to a vetted one."""

    guard: Guard

    def _new_conn(self):  # type: ignore[no-untyped-def]
        addresses = self.guard.vet(self._dns_host, self.port)  # raises BlockedAddress
        last_error: OSError | None = None
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (address, self.port), self.timeout,
                    source_address=self.source_address, socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
            except OSError as exc:
                last_error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}") from last_error


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: Guard):
        self._guard = guard
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        http_conn = type("GuardedHTTPConnection", (_GuardedMixin, HTTPConnection), {"guard": self._guard})
        https_conn = type("GuardedHTTPSConnection", (_GuardedMixin, HTTPSConnection), {"guard": self._guard})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }


def _session(guard: Guard) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # an environment proxy would connect on our behalf, past the guard
    adapter = _GuardedAdapter(guard)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _linked(exc: BaseException) -> list[BaseException]:
    """The exceptions ``exc`` wraps (cause, context, urllib3's ``reason``, exception args)."""
    candidates = [exc.__cause__, exc.__context__, getattr(exc, "reason", None), *getattr(exc, "args", ())]
    return [c for c in candidates if isinstance(c, BaseException)]


def _unwrap_blocked(exc: BaseException) -> BlockedAddress | None:
    """requests wraps connect errors a few levels deep; find our refusal if it is in there."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, BlockedAddress):
            return item
        stack.extend(_linked(item))
    return None


def describe_error(exc: BaseException) -> str:
    """A short reason for a failed connection, without the URL (its path or query may hold a secret:
    requests and urllib3 put ``url: /path?query`` in their messages)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NameResolutionError) or isinstance(item, socket.gaierror):
            return gettext("the host name could not be resolved")
        if isinstance(item, ConnectionRefusedError):
            return gettext("connection refused")
        if isinstance(item, ConnectionResetError):
            return gettext("connection reset by the server")
        if isinstance(item, ssl.SSLError):
            return gettext("TLS error (%(kind)s)") % {"kind": item.__class__.__name__}
        stack.extend(_linked(item))
    return gettext("connection failed (%(kind)s)") % {"kind": exc.__class__.__name__}


def check_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BadURL(gettext("only http and https URLs can be called (got '%(scheme)s')") % {"scheme": parts.scheme or url})
    if not parts.hostname:
        raise BadURL(gettext("'%(url)s' has no host") % {"url": url})
    if parts.username or parts.password:
        raise BadURL(gettext("put credentials in the vault, not in the URL"))
    return parts.scheme, parts.netloc.lower()


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    data: Any = None,
    json_body: Any = None,
    files: Any = None,
    timeout: float = 10.0,
    max_bytes: int = 1_000_000,
    max_redirects: int = 5,
    guard: Guard | None = None,
    sensitive_headers: set[str] | None = None,
    auth: tuple[str, str] | None = None,
    verify: bool | str = True,
    sink: BinaryIO | None = None,
) -> HttpResponse:
    """Send one request through the guard; follow redirects; read at most ``max_bytes``.

    Raises :class:`BlockedAddress`, :class:`BadURL`, :class:`ResponseTooLarge`,
    :class:`TooManyRedirects`, ``requests.Timeout`` or ``requests.ConnectionError``.
    ``timeout`` bounds connecting, each read, and the whole body download. ``verify`` is
    requests' TLS verification (a CA bundle path for private CAs); never turn it off.
    With ``sink`` (a binary file), the body of a final answer is streamed into it instead of memory
    (``content`` is then empty): for files of tens of megabytes, such as media fetched from a link.
    """
    guard = guard or guard_for()
    headers = {"User-Agent": USER_AGENT, **(headers or {})}
    sensitive = {h.lower() for h in (sensitive_headers or set())} | {"authorization", "cookie", "proxy-authorization"}
    started = time.monotonic()
    deadline = started + timeout
    redirects: list[str] = []
    origin = check_url(url)
    session = _session(guard)
    try:
        while True:
            check_url(url)
            try:
                response = session.request(
                    method, url, headers=headers, params=params, data=data, json=json_body, files=files, auth=auth,
                    timeout=(timeout, timeout), allow_redirects=False, stream=True, verify=verify,
                )
            except requests.RequestException as exc:
                blocked = _unwrap_blocked(exc)
                if blocked is not None:
                    raise blocked from None
                raise
            with response:
                if response.status_code in REDIRECT_CODES and response.headers.get("location"):
                    if len(redirects) >= max_redirects:
                        raise TooManyRedirects(gettext("more than %(limit)s redirects") % {"limit": max_redirects})
                    url = urljoin(response.url, response.headers["location"])
                    redirects.append(url)
                    params = None  # the Location is the whole next URL
                    if (response.status_code == 303 and method != "HEAD") or (
                            response.status_code in (301, 302) and method == "POST"):
                        method, data, json_body = "GET", None, None
                    if check_url(url) != origin:
                        # Never hand a credential to another origin.
                        headers = {k: v for k, v in headers.items() if k.lower() not in sensitive}
                        auth = None
                    continue
                content = _read_capped(response, max_bytes, deadline, sink)
                return HttpResponse(
                    status=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    content=content,
                    url=response.url,
                    elapsed_ms=int((time.monotonic() - started) * 1000),
                    redirects=redirects,
                )
    finally:
        session.close()
        logger.debug("http %s %s in %d ms", method, mask_text(url), int((time.monotonic() - started) * 1000))


def _read_capped(response: requests.Response, max_bytes: int, deadline: float, sink: BinaryIO | None = None) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(max_bytes)
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=16384):
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge(max_bytes)
        if time.monotonic() > deadline:
            raise requests.Timeout(gettext("the response took longer than the timeout to arrive"))
        if sink is not None:
            sink.write(chunk)
        else:
            chunks.append(chunk)
    return b"".join(chunks)
