"""SSRF guard: which addresses outbound HTTP from flows may reach.

Refused by default: loopback, private (RFC 1918, ULA), link-local, carrier-grade NAT, multicast,
reserved/unspecified/non-global ranges and cloud-metadata addresses. The check runs on the
addresses a name *resolves to*, at connect time (:mod:`integrations.http.client` connects to the
vetted IP and keeps the host name for ``Host`` and TLS SNI), so DNS rebinding and redirects to
internal addresses are caught as well.

The allow-list (``FLUXO_HTTP_ALLOWLIST``, plus a credential's own ``allowed_hosts``) holds host
names (``erp.internal``, ``*.corp.example``) or IPs/CIDRs (``10.0.0.0/8``). A listed host name may
resolve to private addresses, but never to a cloud-metadata address unless a CIDR lists it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext

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
            "private": lambda: gettext("private")}


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


@dataclass(frozen=True)
class Guard:
    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def build(cls, entries: Iterable[str], resolver: Resolver | None = None) -> Guard:
        hosts, networks = set(), []
        for raw in entries:
            entry = (raw or "").strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks), resolver or default_resolver())

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == h or (h.startswith("*.") and host.endswith(h[1:])) for h in self.allow_hosts)

    def ip_allowed(self, ip: IPAddress) -> bool:
        return any(ip in net or _unwrap(ip) in net for net in self.allow_networks)

    def vet(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` and return its addresses if every one may be reached; raise otherwise.

        All addresses must pass (not just one): a name that mixes public and internal
        addresses is refused, since the connection could land on either.
        """
        host = host.strip("[]")
        try:
            addresses = [host] if _is_ip(host) else self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise socket.gaierror(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise socket.gaierror(f"cannot resolve {host}: no addresses")
        named_ok = self.host_allowed(host)
        for address in addresses:
            ip = ipaddress.ip_address(address)
            reason = classify(ip)
            if reason is None or self.ip_allowed(ip):
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
    return Guard.build([*getattr(settings, "FLUXO_HTTP_ALLOWLIST", []), *extra_allow], resolver)
