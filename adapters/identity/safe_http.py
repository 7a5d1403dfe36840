"""Outbound HTTP for identity lookups: address guard, bounded time, bounded size.

Handles and did:web name hosts chosen by strangers, so every request a resolver makes is
a potential SSRF into the server's own network. The guard sits in the connection layer
(an httpcore network backend): it resolves the host itself, refuses the connection if any
address is private, loopback, link-local, multicast or otherwise not global (unless
`allow_private`), and connects to the addresses it checked. Checking at connect time, per
hop, closes both redirect tricks and DNS rebinding (a second lookup returning 127.0.0.1).
TLS still verifies the certificate against the host name.

Bodies are read incrementally up to a byte limit, and the whole exchange has a deadline,
so a slow-dripping or endless response costs a bounded amount.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

REFUSED_MARKER: Final = "outbound address refused:"
REDIRECT_STATUSES: Final = frozenset((301, 302, 303, 307, 308))

HostLookup = Callable[[str], Sequence[str]]
"""A host name to its IP addresses (as strings)."""


class OutboundError(Exception):
    """An outbound request did not produce a usable response."""


class OutboundRefused(OutboundError):
    """The target's address is not allowed (private, loopback, ...) or its scheme is not."""


class ResponseTooLarge(OutboundError):
    """The response body is over the byte limit."""


class OutboundFailed(OutboundError):
    """Network failure, timeout, too many redirects."""


def system_lookup(host: str) -> Sequence[str]:
    """The OS resolver's addresses for `host`."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public_address(address: str) -> bool:
    """Whether connecting to `address` leaves the host's own networks (globally routable)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True, slots=True)
class AddressGuard:
    """Decides which addresses outbound requests may connect to."""

    allow_private: bool = False
    lookup: HostLookup = field(default=system_lookup)

    def addresses(self, host: str) -> list[str]:
        """The addresses to connect to for `host`, or `OutboundRefused`."""
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
            candidates: Sequence[str] = [host]
        except ValueError:
            try:
                candidates = self.lookup(host)
            except (OSError, UnicodeError) as exc:
                raise OutboundFailed(f"cannot resolve {host[:100]}: {exc}") from exc
        if not candidates:
            raise OutboundFailed(f"{host[:100]} has no addresses")
        if not self.allow_private:
            for address in candidates:
                if not is_public_address(address):
                    raise OutboundRefused(
                        f"{REFUSED_MARKER} {host[:100]} resolves to non-public {address}"
                    )
        return list(candidates)


class _GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses the guard approved, trying each in turn."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.guard.addresses(host)
        except OutboundError as exc:
            # httpx re-raises this as httpx.ConnectError with the same message.
            raise httpcore.ConnectError(str(exc)) from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError(f"{REFUSED_MARKER} unix sockets")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the connection pool swapped for one on the guarded backend.

    httpx does not take a network backend, so the pool is rebuilt (`_pool` is the one
    attribute of `HTTPTransport` this relies on; the tests fail loudly if it changes).
    """

    def __init__(self, guard: AddressGuard, *, verify: bool = True) -> None:
        super().__init__(verify=verify, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(guard),
        )


def guarded_client(guard: AddressGuard, *, timeout: float) -> httpx.Client:
    """An httpx client whose every connection goes through `guard`; no env proxies."""
    return httpx.Client(
        transport=GuardedTransport(guard),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        # Identity encoding keeps the byte limit a limit on what is decompressed.
        headers={"user-agent": "quire-identity", "accept-encoding": "identity"},
    )


@dataclass(frozen=True, slots=True)
class Fetched:
    """A complete, size-checked response."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: str

    def json(self) -> Any:
        """The body parsed as JSON (`ValueError` if it is not)."""
        return json.loads(self.body)


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    max_redirects: int = 0,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
) -> Fetched:
    """One request (following up to `max_redirects` GET redirects), body capped, deadlined.

    A redirect past the limit is returned as is (status 3xx), so callers see what happened.
    """
    deadline = time.monotonic() + timeout
    for _ in range(max_redirects + 1):
        if urlsplit(url).scheme not in ("http", "https"):
            raise OutboundRefused(f"{REFUSED_MARKER} scheme of {url[:100]}")
        fetched = _once(client, method, url, max_bytes, deadline, json_body, headers)
        location = fetched.headers.get("location")
        if fetched.status not in REDIRECT_STATUSES or location is None or method != "GET":
            return fetched
        url = urljoin(url, location)
    if max_redirects:
        raise OutboundFailed(f"more than {max_redirects} redirects")
    return fetched


def _once(
    client: httpx.Client,
    method: str,
    url: str,
    max_bytes: int,
    deadline: float,
    json_body: Any,
    headers: dict[str, str] | None,
) -> Fetched:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise OutboundFailed("deadline exceeded")
    try:
        with client.stream(
            method,
            url,
            json=json_body,
            headers=headers,
            timeout=httpx.Timeout(remaining),
        ) as response:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise ResponseTooLarge(f"response declares {declared} bytes (limit {max_bytes})")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise ResponseTooLarge(f"response is over {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise OutboundFailed("deadline exceeded while reading the response")
            return Fetched(response.status_code, response.headers, bytes(body), str(response.url))
    except httpx.ConnectError as exc:
        if REFUSED_MARKER in str(exc):
            raise OutboundRefused(str(exc)) from exc
        raise OutboundFailed(f"cannot connect to {url[:100]}: {exc}") from exc
    except httpx.HTTPError as exc:
        raise OutboundFailed(f"{type(exc).__name__} for {url[:100]}: {exc}") from exc
