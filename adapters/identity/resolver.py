"""`IdentityResolver`: DIDs (did:plc, did:web) and handles (DNS TXT, HTTPS well-known).

Rules, from the atproto DID and handle specs:

- did:plc resolves through the configured PLC directory; did:web through
  `https://<host>/.well-known/did.json`, hostname-level only (no paths), no ports except for
  `localhost`/`127.0.0.1`, which are fetched over http (development and tests). Redirects are
  not followed for documents (as the reference resolver), and the document must name the DID.
- a handle resolves via the TXT record `_atproto.<handle>` (`did=<DID>`; several distinct
  DIDs means no answer) and via `https://<handle>/.well-known/atproto-did` (first line,
  trimmed, up to a few redirects). Both start together; DNS wins when both answer.
- reserved TLDs (`.local`, `.onion`, ...) never resolve.
- a Lexicon authority (`toy.app` for `app.toy.record`) resolves like a handle's TXT record,
  at `_lexicon.<authority>`.

Every outbound HTTP request goes through the address guard of `safe_http`; DNS queries go
to the configured nameservers only. Results are cached with stale-while-revalidate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote

import dns.exception
import dns.rdatatype
import dns.resolver
import httpx

from adapters.identity.safe_http import (
    AddressGuard,
    OutboundError,
    OutboundRefused,
    guarded_client,
    request,
    system_lookup,
)
from adapters.identity.swr_cache import CachePolicy, SwrCache
from application.ports.identity_resolver import (
    DidNotFound,
    IdentityError,
    InvalidDidDocument,
    ResolutionFailed,
    UnsupportedDid,
)
from application.ports.plc_client import PlcClient, PlcDidNotFound, PlcUnavailable
from domain.identity.did_document import (
    INVALID_HANDLE,
    MalformedDidDocument,
    atproto_identity,
    check_did_document,
)
from domain.plc.did import is_plc_did
from domain.syntax.did import is_valid_did
from domain.syntax.handle import has_disallowed_tld, is_valid_handle, normalize_handle

log = logging.getLogger(__name__)

DNS_PREFIX: Final = "_atproto."
LEXICON_DNS_PREFIX: Final = "_lexicon."
TXT_PREFIX: Final = "did="
WELL_KNOWN_DID: Final = "/.well-known/atproto-did"
WELL_KNOWN_DOC: Final = "/.well-known/did.json"
LOCAL_HOSTS: Final = frozenset(("localhost", "127.0.0.1"))


@dataclass(frozen=True, slots=True)
class ResolverConfig:
    """Knobs; the defaults are for production (https, system DNS, public addresses only)."""

    timeout: float = 3.0
    allow_private: bool = False
    dns_nameservers: tuple[str, ...] = ()
    """Empty: the system's resolv.conf."""
    dns_port: int = 53
    http_hosts_via_dns: bool = False
    """Look up HTTP hosts through `dns_nameservers` too, not the OS (tests, split horizons)."""
    well_known_scheme: str = "https"
    well_known_port: int | None = None
    max_document_bytes: int = 200_000
    max_well_known_bytes: int = 4096
    max_redirects: int = 3
    did_cache: CachePolicy = field(
        default_factory=lambda: CachePolicy(stale_after=3600, expire_after=86400)
    )
    handle_cache: CachePolicy = field(
        default_factory=lambda: CachePolicy(
            stale_after=300, expire_after=3600, negative_expire_after=60
        )
    )


class Resolver:
    """Caching DID and handle resolution; `close()` it to stop its worker threads."""

    def __init__(
        self,
        plc: PlcClient,
        config: ResolverConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        http: httpx.Client | None = None,
    ) -> None:
        self.plc = plc
        self.config = config or ResolverConfig()
        self.dns = _dns_resolver(self.config)
        lookup = self._dns_lookup if self.config.http_hosts_via_dns else system_lookup
        self.guard = AddressGuard(allow_private=self.config.allow_private, lookup=lookup)
        self._owns_http = http is None
        self.http = http or guarded_client(self.guard, timeout=self.config.timeout)
        # Refreshes may start lookups; separate pools so they never wait on each other.
        self.refresher = ThreadPoolExecutor(max_workers=4, thread_name_prefix="identity-swr")
        self.lookups = ThreadPoolExecutor(max_workers=8, thread_name_prefix="identity-http")
        self.dids: SwrCache[str, dict[str, Any]] = SwrCache(
            self.config.did_cache,
            self.refresher,
            clock=clock,
            keep_on_error=lambda exc: not isinstance(exc, DidNotFound),
        )
        self.handles: SwrCache[str, str | None] = SwrCache(
            self.config.handle_cache, self.refresher, clock=clock
        )

    def close(self) -> None:
        """Stop background refreshes and release connections."""
        self.refresher.shutdown(wait=False, cancel_futures=True)
        self.lookups.shutdown(wait=False, cancel_futures=True)
        if self._owns_http:
            self.http.close()

    # -- DIDs -------------------------------------------------------------------------------

    def resolve_did(self, did: str, *, force_refresh: bool = False) -> dict[str, Any]:
        """The DID document; `DidNotFound`, `UnsupportedDid`, `InvalidDidDocument` or
        `ResolutionFailed` otherwise."""
        load = self._did_loader(did)
        try:
            return self.dids.get(did, load, force_refresh=force_refresh)
        except DidNotFound:
            self.dids.evict(did)
            raise

    def _did_loader(self, did: str) -> Callable[[], dict[str, Any]]:
        if not is_valid_did(did):
            raise UnsupportedDid(f"invalid DID syntax: {did[:100]!r}")
        if did.startswith("did:plc:"):
            if not is_plc_did(did):
                raise UnsupportedDid(f"invalid did:plc: {did[:100]!r}")
            return lambda: self._resolve_plc(did)
        if did.startswith("did:web:"):
            url = self._did_web_url(did)
            return lambda: self._resolve_web(did, url)
        raise UnsupportedDid(f"unsupported DID method: {did[:100]!r}")

    def _resolve_plc(self, did: str) -> dict[str, Any]:
        try:
            doc = self.plc.get_document(did)
        except PlcDidNotFound as exc:  # deactivated included
            raise DidNotFound(str(exc)) from exc
        except PlcUnavailable as exc:
            raise ResolutionFailed(str(exc)) from exc
        return _checked(did, doc)

    def _did_web_url(self, did: str) -> str:
        ident = did[len("did:web:") :]
        if ":" in ident:
            raise UnsupportedDid(f"did:web with a path is not supported in atproto: {did[:100]}")
        host = unquote(ident).lower()
        name, _, port = host.partition(":")
        if name in LOCAL_HOSTS:
            if port and not port.isdigit():
                raise UnsupportedDid(f"invalid did:web port: {did[:100]}")
            return f"http://{host}{WELL_KNOWN_DOC}"
        if port:
            raise UnsupportedDid(f"did:web ports are only allowed for localhost: {did[:100]}")
        if not is_valid_handle(name) or has_disallowed_tld(name):
            raise UnsupportedDid(f"did:web host is not a usable hostname: {did[:100]}")
        return f"https://{name}{WELL_KNOWN_DOC}"

    def _resolve_web(self, did: str, url: str) -> dict[str, Any]:
        try:
            fetched = request(
                self.http,
                "GET",
                url,
                max_bytes=self.config.max_document_bytes,
                timeout=self.config.timeout,
                headers={"accept": "application/did+ld+json,application/json"},
            )
        except OutboundError as exc:
            raise ResolutionFailed(f"cannot fetch {url}: {exc}") from exc
        if fetched.status in (404, 410):
            raise DidNotFound(f"{url} answered {fetched.status}")
        if fetched.status != 200:
            raise ResolutionFailed(f"{url} answered HTTP {fetched.status}")
        try:
            doc = fetched.json()
        except ValueError as exc:
            raise InvalidDidDocument(f"{url} did not answer JSON") from exc
        return _checked(did, doc)

    # -- handles ----------------------------------------------------------------------------

    def resolve_handle(self, handle: str, *, force_refresh: bool = False) -> str | None:
        """The DID the handle points at, or None (unresolvable, ambiguous, reserved TLD)."""
        handle = normalize_handle(handle)
        if not is_valid_handle(handle) or has_disallowed_tld(handle):
            return None
        return self.handles.get(
            handle, lambda: self._resolve_handle(handle), force_refresh=force_refresh
        )

    def _resolve_handle(self, handle: str) -> str | None:
        via_http: Future[str | None] = self.lookups.submit(self.resolve_handle_http, handle)
        via_dns = self.resolve_handle_dns(handle)
        if via_dns is not None:
            via_http.cancel()
            return via_dns
        try:
            return via_http.result(timeout=self.config.timeout * (self.config.max_redirects + 2))
        except FutureTimeout:
            return None

    def resolve_handle_dns(self, handle: str) -> str | None:
        """The single distinct `did=` value of the `_atproto.` TXT records, or None."""
        return self._txt_did(DNS_PREFIX + handle)

    def lexicon_did(self, authority: str) -> str | None:
        """The DID of `_lexicon.<authority>` (Lexicon resolution), read as handles' TXT are.

        Not cached here: the spec asks that these not be kept long, and resolved lexicons
        are cached whole (`lexicon_cache`).
        """
        authority = normalize_handle(authority)
        if not is_valid_handle(authority) or has_disallowed_tld(authority):
            return None
        return self._txt_did(LEXICON_DNS_PREFIX + authority)

    def _txt_did(self, name: str) -> str | None:
        """The single distinct `did=` value of the TXT records at `name`, or None."""
        try:
            answer = self.dns.resolve(name, dns.rdatatype.TXT, raise_on_no_answer=False)
        except dns.exception.DNSException as exc:
            log.debug("TXT lookup for %s failed: %s", name, exc)
            return None
        found: set[str] = set()
        for rdata in answer.rrset or ():
            text = b"".join(rdata.strings).decode("utf-8", "replace")
            if text.startswith(TXT_PREFIX):
                found.add(text[len(TXT_PREFIX) :].strip())
        if len(found) != 1:
            return None
        did = found.pop()
        return did if is_valid_did(did) else None

    def resolve_handle_http(self, handle: str) -> str | None:
        """The DID served at the handle's `/.well-known/atproto-did`, or None."""
        port = f":{self.config.well_known_port}" if self.config.well_known_port else ""
        url = f"{self.config.well_known_scheme}://{handle}{port}{WELL_KNOWN_DID}"
        try:
            fetched = request(
                self.http,
                "GET",
                url,
                max_bytes=self.config.max_well_known_bytes,
                timeout=self.config.timeout,
                max_redirects=self.config.max_redirects,
            )
        except OutboundRefused as exc:
            log.info("refused handle lookup %s: %s", url, exc)
            return None
        except OutboundError as exc:
            log.debug("handle lookup %s failed: %s", url, exc)
            return None
        if not 200 <= fetched.status < 300:
            return None
        try:
            lines = fetched.body.decode("utf-8").strip().splitlines()
        except UnicodeDecodeError:
            return None
        did = lines[0].strip() if lines else ""
        return did if is_valid_did(did) else None

    # -- both ways --------------------------------------------------------------------------

    def verified_handle(self, did: str) -> str:
        """The DID document's claimed handle if it resolves back to `did`, else
        `handle.invalid` (also when the DID itself does not resolve)."""
        try:
            handle = atproto_identity(did, self.resolve_did(did)).handle
        except (IdentityError, MalformedDidDocument):
            return INVALID_HANDLE
        if handle is None or self.resolve_handle(handle) != did:
            return INVALID_HANDLE
        return handle

    # -- DNS plumbing -----------------------------------------------------------------------

    def _dns_lookup(self, host: str) -> Sequence[str]:
        addresses: list[str] = []
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            try:
                answer = self.dns.resolve(host, rdtype, raise_on_no_answer=False)
            except dns.exception.DNSException:
                continue
            addresses.extend(rdata.address for rdata in answer.rrset or ())
        return addresses


def _dns_resolver(config: ResolverConfig) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=not config.dns_nameservers)
    if config.dns_nameservers:
        resolver.nameservers = list(config.dns_nameservers)
        resolver.port = config.dns_port
    resolver.lifetime = config.timeout
    resolver.timeout = min(config.timeout, 2.0)
    return resolver


def _checked(did: str, doc: Any) -> dict[str, Any]:
    try:
        return check_did_document(did, doc)
    except MalformedDidDocument as exc:
        raise InvalidDidDocument(str(exc)) from exc
