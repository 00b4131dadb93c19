"""SSRF guard: which addresses outbound HTTP from flows may reach.

Refused by default: loopback, private (RFC 1918, ULA), link-local, IPv6 site-local (``fec0::/10``,
deprecated but still routed by some networks), carrier-grade NAT, multicast, reserved/unspecified/
non-global ranges and cloud-metadata addresses. The check runs on the
addresses a name *resolves to*, at connect time (:mod:`core.httpclient` connects to the
vetted IP and keeps the host name for ``Host`` and TLS SNI), so DNS rebinding and redirects to
internal addresses are caught as well.

The allow-list (``FLUXO_HTTP_ALLOWLIST``, plus a credential's own ``allowed_hosts``) holds host
names (``erp.internal``, ``*.corp.example``) or IPs/CIDRs (``10.0.0.0/8``), each optionally with a
port (``erp.internal:8443``, ``10.0.0.5:8080``, ``[fd00::5]:8080``, ``[fd00::/64]:443``) that scopes
the entry to that port. A listed host name may resolve to private addresses, but never to a
cloud-metadata address unless a CIDR lists it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

METADATA_ADDRESSES = {
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
}
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


# The guard's reasons (kept in English in ``BlockedAddress.reason``, for code), as the user reads them.
_REASONS = {"cloud metadata": lambda: gettext("cloud metadata"), "loopback": lambda: gettext("loopback"),
            "link-local": lambda: gettext("link-local"), "carrier-grade NAT": lambda: gettext("carrier-grade NAT"),
            "multicast": lambda: gettext("multicast"), "reserved": lambda: gettext("reserved"),
            "private": lambda: gettext("private"), "site-local": lambda: gettext("site-local")}


class BlockedAddress(Exception):
    """The destination is refused by the SSRF guard. Not an ``OSError``: nothing retries it."""

    def __init__(self, host: str, address: str, reason: str):
        super().__init__(gettext("%(host)s resolves to %(address)s (%(reason)s), which flows may not reach; "
                                 "an admin can allow it with FLUXO_HTTP_ALLOWLIST or the credential's allowed hosts")
                         % {"host": host, "address": address, "reason": _REASONS.get(reason, lambda: reason)()})
        self.host, self.address, self.reason = host, address, reason


def _unwrap(ip: IPAddress) -> IPAddress:
    """IPv6 forms that embed an IPv4 address are judged by that address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def classify(ip: IPAddress) -> str | None:
    """Why ``ip`` is refused by default (``None``: a public address)."""
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    ip = _unwrap(ip)
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"  # fec0::/10: Python counts it as global
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "carrier-grade NAT"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified or ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for *_rest, sockaddr in infos:
        address = sockaddr[0].split("%")[0]  # drop an IPv6 zone id
        if address not in seen:
            seen.append(address)
    return seen


@lru_cache(maxsize=8)
def _import_resolver(path: str) -> Resolver:
    return import_string(path)


def default_resolver() -> Resolver:
    """``FLUXO_HTTP_RESOLVER`` (a dotted path) lets tests and odd networks inject name resolution."""
    path = getattr(settings, "FLUXO_HTTP_RESOLVER", "") or ""
    return _import_resolver(path) if path else system_resolver


_HOST_PATTERN = re.compile(r"^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_allow_entry(raw: str) -> tuple[str | Network, int | None]:
    """One allow-list entry: a host name (``*.`` wildcard allowed), an IP or a CIDR, and its port.

    ``host:port``, ``1.2.3.4:port``, ``10.0.0.0/8:port``, ``[v6]:port`` or ``[v6/64]:port`` scope the
    entry to that port; a bare IPv6 address or network has no port. Raises ``ValueError`` for
    anything else.
    """
    entry = (raw or "").strip().lower()
    if not entry:
        raise ValueError("empty entry")
    port: int | None = None
    if entry.startswith("["):
        inside, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{raw!r}: write an IPv6 address as [address] or [address]:port")
        entry, port_text = inside, rest[1:] if rest else ""
        if rest:
            port = _port(port_text, raw)
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{raw!r}: not an IPv6 address or network") from None
        if network.version != 6:
            raise ValueError(f"{raw!r}: brackets are for IPv6 addresses")
        return network, port
    if entry.count(":") == 1:  # host:port or IPv4[/len]:port (IPv6 has two colons at least)
        entry, port_text = entry.split(":")
        port = _port(port_text, raw)
    try:
        return ipaddress.ip_network(entry, strict=False), port
    except ValueError:
        pass
    host = entry.rstrip(".")
    if ":" in host or not _HOST_PATTERN.match(host) or len(host) > 253:
        raise ValueError(f"{raw!r}: not a host name, IP address or network")
    return host, port


def _port(text: str, raw: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{raw!r}: the port must be a number from 1 to 65535")
    return int(text)


def allow_entries(value) -> list[str]:
    """A stored allow-list as a list of entries. Lists written before the API and admin refused
    strings may hold one ("erp.internal" or "a, b"): split it into entries, never into characters."""
    if not value:
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,]+", value) if part]
    return [str(item) for item in value if isinstance(item, str)]


MAX_ALLOW_ENTRIES = 100


def validate_allow_list(value) -> None:
    """A credential's ``allowed_hosts``: a JSON list of entries :func:`parse_allow_entry` reads.

    A string is refused (it was read character by character, each letter an allowed "host").
    """
    if not isinstance(value, list):
        raise ValidationError(_('must be a list of hosts, e.g. ["erp.internal", "10.0.0.0/8", "erp.internal:8443"]'),
                              code="not_a_list")
    if len(value) > MAX_ALLOW_ENTRIES:
        raise ValidationError(_("at most %(limit)d hosts"), code="too_many", params={"limit": MAX_ALLOW_ENTRIES})
    errors = []
    for item in value:
        if not isinstance(item, str):
            errors.append(ValidationError(_("each host must be a string, not %(value)s"), code="not_a_string",
                                          params={"value": repr(item)[:60]}))
            continue
        try:
            parse_allow_entry(item)
        except ValueError:
            errors.append(ValidationError(
                _("%(entry)s is not a host name, IP address or network (optionally with :port)"),
                code="bad_host", params={"entry": repr(item)[:100]}))
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class Guard:
    # (host or "*.suffix", port or None): None allows every port.
    allow_hosts: frozenset[tuple[str, int | None]] = frozenset()
    allow_networks: tuple[tuple[Network, int | None], ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def build(cls, entries: Iterable[str], resolver: Resolver | None = None) -> Guard:
        hosts, networks = set(), []
        for raw in entries:
            if not (raw or "").strip():
                continue
            try:
                target, port = parse_allow_entry(raw)
            except ValueError:
                continue  # an entry that names nothing allows nothing (the API and admin refuse it)
            if isinstance(target, str):
                hosts.add((target, port))
            else:
                networks.append((target, port))
        return cls(frozenset(hosts), tuple(networks), resolver or default_resolver())

    def host_allowed(self, host: str, port: int | None = None) -> bool:
        host = host.lower().rstrip(".")
        return any((host == h or (h.startswith("*.") and host.endswith(h[1:]))) and (p is None or p == port)
                   for h, p in self.allow_hosts)

    def ip_allowed(self, ip: IPAddress, port: int | None = None) -> bool:
        return any((ip in net or _unwrap(ip) in net) and (p is None or p == port) for net, p in self.allow_networks)

    def vet(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` and return its addresses if every one may be reached; raise otherwise.

        All addresses must pass (not just one): a name that mixes public and internal
        addresses is refused, since the connection could land on either. Entries scoped to a port
        allow only connections to that port.
        """
        host = host.strip("[]")
        try:
            addresses = [host] if _is_ip(host) else self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise socket.gaierror(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise socket.gaierror(f"cannot resolve {host}: no addresses")
        named_ok = self.host_allowed(host, port)
        for address in addresses:
            ip = ipaddress.ip_address(address)
            reason = classify(ip)
            if reason is None or self.ip_allowed(ip, port):
                continue
            if named_ok and reason != "cloud metadata":
                continue
            raise BlockedAddress(host, address, reason)
        return addresses


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def guard_for(extra_allow: Iterable[str] = (), resolver: Resolver | None = None) -> Guard:
    """The guard of the current settings, widened by ``extra_allow`` (a credential's hosts)."""
    return Guard.build([*getattr(settings, "FLUXO_HTTP_ALLOWLIST", []), *allow_entries(extra_allow)], resolver)
