"""Which addresses a library server may have: the guard against server-side request forgery.

Connecting a library makes this server send requests to a URL a listener typed. A listener
must not be able to point it at what only the server can reach: the cloud metadata service,
the server's own loopback services (PostgreSQL, Redis, Qdrant), or itself.

Invariants:
- ``GuardedTransport`` resolves the host, checks every address it resolves to, and then
  connects to the address it checked (the URL's host is replaced by it; the Host header and,
  for https, the TLS server name stay the original name, so certificates are still verified
  against the name). A second lookup that could answer differently (DNS rebinding) never
  happens. Every request is checked, not only the first.
- Always refused, whatever the settings: link-local addresses (169.254.0.0/16, fe80::/10, where
  cloud metadata services live), the known metadata addresses outside them, the unspecified
  address, multicast and broadcast.
- With an allow-list (``library_allowed_hosts``: host names, addresses or networks), only a
  host on it may be used. Without one, private LAN and public addresses are allowed and
  loopback and this server's own public host are refused.
- Redirects are never followed (the client is built with ``follow_redirects=False``), so a
  checked server cannot hand the request on to an unchecked one.

Nothing here knows about settings or HTTP routes: the service layer builds the policy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import httpx

from recsys.importers.subsonic import LibraryError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NEVER: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in (
    "169.254.0.0/16",      # IPv4 link-local: AWS, GCP, Azure, OpenStack metadata (169.254.169.254)
    "fe80::/10",           # IPv6 link-local
    "fd00:ec2::254/128",   # AWS metadata over IPv6
    "100.100.100.200/32",  # Alibaba Cloud metadata
    "0.0.0.0/8", "::/128",  # "this host": reaches the server itself on many systems
    "224.0.0.0/4", "ff00::/8", "255.255.255.255/32",
))


class AddressRefused(LibraryError):
    def __init__(self, message: str) -> None:
        super().__init__(message, "forbidden")


def _plain(address: IPAddress) -> IPAddress:
    # ::ffff:127.0.0.1 is 127.0.0.1 to the kernel; judge it as that.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """What a guarded library may resolve to (rules in the module docstring)."""

    allowed_hosts: frozenset[str] = frozenset()  # lowercase host names
    allowed_networks: tuple[IPNetwork, ...] = ()
    own_hosts: frozenset[str] = frozenset()  # this server's public host name(s)

    @classmethod
    def build(cls, allowed: Iterable[str], own_hosts: Iterable[str] = ()) -> AddressPolicy:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (e.strip().lower() for e in allowed):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks), frozenset(h.lower() for h in own_hosts if h))

    @property
    def has_allow_list(self) -> bool:
        return bool(self.allowed_hosts or self.allowed_networks)

    def check(self, host: str, addresses: Sequence[IPAddress]) -> None:
        """Raise ``AddressRefused`` unless every address of ``host`` is allowed."""
        name = host.lower().rstrip(".")
        if not addresses:
            raise AddressRefused(f"{host} does not resolve to any address")
        for raw in addresses:
            address = _plain(raw)
            if any(address in net for net in _NEVER):
                raise AddressRefused(f"{host} resolves to {address}, a link-local, metadata or "
                                     "special address that a library can never have")
        if self.has_allow_list:
            listed = name in self.allowed_hosts or all(
                any(_plain(a) in net for net in self.allowed_networks) for a in addresses)
            if not listed:
                raise AddressRefused(f"{host} is not in library_allowed_hosts")
            return
        if name in self.own_hosts:
            raise AddressRefused(f"{host} is this server itself")
        for raw in addresses:
            if _plain(raw).is_loopback:
                raise AddressRefused(f"{host} resolves to a loopback address ({_plain(raw)}), where "
                                     "this server's own services listen")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an address literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise LibraryError(f"the library server's name {host} cannot be resolved", "offline") from exc
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that checks the address before each request and connects to it."""

    def __init__(self, policy: AddressPolicy, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.policy = policy
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        addresses = await resolve(host, port)
        self.policy.check(host, addresses)
        # Pin the checked address: httpx already set the Host header from the original URL.
        request.url = request.url.copy_with(host=str(addresses[0]))
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
