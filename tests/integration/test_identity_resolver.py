"""Identity resolution against real sockets: a local DNS responder and HTTP well-knowns.

The DNS responder is a few lines of dnspython on a random UDP port of 127.0.0.1; the resolver
is pointed at it, and also looks up HTTP hosts through it, so `alice.test` can be served by
a local web server without touching the machine's resolver.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from adapters.identity.embedded_plc_client import EmbeddedPlcClient
from adapters.identity.plc_registrar import PlcRegistrar
from adapters.identity.plc_store import plc_sqlite_env
from adapters.identity.resolver import Resolver, ResolverConfig
from adapters.identity.safe_http import (
    AddressGuard,
    OutboundRefused,
    guarded_client,
    is_public_address,
    request,
)
from adapters.identity.swr_cache import CachePolicy
from application.plc_directory.app import PlcDirectory
from application.ports.identity_resolver import (
    DidNotFound,
    IdentityResolver,
    InvalidDidDocument,
    ResolutionFailed,
    UnsupportedDid,
)
from domain.crypto.k256 import K256Keypair
from domain.identity.did_document import atproto_identity
from domain.plc.builder import build_tombstone, build_update
from tests.integration.dns_responder import DnsResponder
from tests.integration.live_server import free_port, serve

OTHER_DID = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"


# -- a tiny web server for well-knowns -----------------------------------------------------


@dataclass
class WebHost:
    """Per-Host well-known answers, and a record of which hosts were asked."""

    atproto_did: dict[str, str] = field(default_factory=dict)
    did_json: dict[str, Any] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        def host_of(request: Request) -> str:
            return (request.headers.get("host") or "").rsplit(":", 1)[0]

        async def atproto_did(request: Request) -> Response:
            host = host_of(request)
            self.hits.append(host)
            if host in self.redirects:
                return RedirectResponse(self.redirects[host], status_code=302)
            if host not in self.atproto_did:
                return PlainTextResponse("not found", status_code=404)
            return PlainTextResponse(self.atproto_did[host])

        async def did_json(request: Request) -> Response:
            host = host_of(request)
            self.hits.append(host)
            if host not in self.did_json:
                return JSONResponse({"message": "no"}, status_code=404)
            return JSONResponse(self.did_json[host])

        return Starlette(
            routes=[
                Route("/.well-known/atproto-did", atproto_did),
                Route("/.well-known/did.json", did_json),
            ]
        )


@dataclass
class Env:
    dns: DnsResponder
    web: WebHost
    web_port: int
    directory: PlcDirectory
    registrar: PlcRegistrar
    config: ResolverConfig

    def resolver(self, **changes: Any) -> Resolver:
        return Resolver(EmbeddedPlcClient(self.directory), replace(self.config, **changes))

    def register(self, handle: str) -> str:
        return self.registrar.register(
            handle=handle,
            signing_key=K256Keypair.generate().did(),
            pds_endpoint="https://pds.example.com",
        )


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    responder = DnsResponder(a={"localhost": ["127.0.0.1"]})
    web = WebHost()
    directory = PlcDirectory(plc_sqlite_env(tmp_path))
    port = free_port()
    config = ResolverConfig(
        timeout=2.0,
        allow_private=True,
        dns_nameservers=("127.0.0.1",),
        dns_port=responder.port,
        http_hosts_via_dns=True,
        well_known_scheme="http",
        well_known_port=port,
    )
    registrar = PlcRegistrar(EmbeddedPlcClient(directory), K256Keypair.generate())
    with serve(web.app(), port=port):
        yield Env(responder, web, port, directory, registrar, config)
    responder.close()
    directory.close()


@pytest.fixture
def resolver(env: Env) -> Iterator[Resolver]:
    resolver = env.resolver()
    yield resolver
    resolver.close()


def served_locally(env: Env, *hosts: str) -> None:
    for host in hosts:
        env.dns.a[host] = ["127.0.0.1"]


# -- handles -------------------------------------------------------------------------------


def test_handle_resolves_through_dns_txt(env: Env, resolver: Resolver) -> None:
    env.dns.txt["_atproto.alice.test"] = [f"did={OTHER_DID}"]
    assert resolver.resolve_handle("alice.test") == OTHER_DID


def test_handle_resolves_through_https_well_known(env: Env, resolver: Resolver) -> None:
    served_locally(env, "bob.test")
    env.web.atproto_did["bob.test"] = f"  {OTHER_DID}\n"
    assert resolver.resolve_handle("Bob.Test") == OTHER_DID


def test_dns_wins_when_the_two_methods_disagree(env: Env, resolver: Resolver) -> None:
    served_locally(env, "carol.test")
    env.dns.txt["_atproto.carol.test"] = ["did=did:plc:dnsdnsdnsdnsdnsdnsdnsdns"]
    env.web.atproto_did["carol.test"] = "did:plc:httphttphttphttphttphttp"
    assert resolver.resolve_handle("carol.test") == "did:plc:dnsdnsdnsdnsdnsdnsdnsdns"


def test_unresolvable_handle_is_none(env: Env, resolver: Resolver) -> None:
    served_locally(env, "nobody.test")
    assert resolver.resolve_handle("nobody.test") is None
    assert resolver.resolve_handle("ghost.test") is None


def test_ambiguous_txt_records_do_not_resolve(env: Env, resolver: Resolver) -> None:
    env.dns.txt["_atproto.twice.test"] = [
        f"did={OTHER_DID}",
        "did=did:plc:cccccccccccccccccccccccc",
    ]
    assert resolver.resolve_handle("twice.test") is None


def test_non_did_txt_records_are_ignored(env: Env, resolver: Resolver) -> None:
    env.dns.txt["_atproto.mixed.test"] = ["v=spf1 -all", f"did={OTHER_DID}"]
    assert resolver.resolve_handle("mixed.test") == OTHER_DID


def test_reserved_tlds_and_bad_syntax_never_resolve(env: Env, resolver: Resolver) -> None:
    env.dns.txt["_atproto.alice.local"] = [f"did={OTHER_DID}"]
    assert resolver.resolve_handle("alice.local") is None
    assert resolver.resolve_handle("not a handle") is None
    assert env.dns.queries == []


def test_well_known_that_is_not_a_did_is_ignored(env: Env, resolver: Resolver) -> None:
    served_locally(env, "html.test")
    env.web.atproto_did["html.test"] = "<html>hello</html>"
    assert resolver.resolve_handle("html.test") is None


def test_oversized_well_known_is_ignored(env: Env) -> None:
    served_locally(env, "big.test")
    env.web.atproto_did["big.test"] = OTHER_DID + "\n" + "x" * 10_000
    resolver = env.resolver(max_well_known_bytes=1024)
    assert resolver.resolve_handle("big.test") is None
    resolver.close()


def test_well_known_follows_a_redirect(env: Env, resolver: Resolver) -> None:
    served_locally(env, "moved.test", "target.test")
    env.web.redirects["moved.test"] = f"http://target.test:{env.web_port}/.well-known/atproto-did"
    env.web.atproto_did["target.test"] = OTHER_DID
    assert resolver.resolve_handle("moved.test") == OTHER_DID


def test_redirect_to_another_scheme_is_refused(env: Env, resolver: Resolver) -> None:
    served_locally(env, "sneaky.test")
    env.web.redirects["sneaky.test"] = "file:///etc/passwd"
    assert resolver.resolve_handle("sneaky.test") is None


# -- both directions -----------------------------------------------------------------------


def test_verified_handle_when_both_directions_agree(env: Env, resolver: Resolver) -> None:
    did = env.register("alice.test")
    env.dns.txt["_atproto.alice.test"] = [f"did={did}"]
    port: IdentityResolver = resolver  # the adapter satisfies the application's port
    assert port.verified_handle(did) == "alice.test"


def test_handle_pointing_elsewhere_is_invalid(env: Env, resolver: Resolver) -> None:
    did = env.register("alice.test")
    env.dns.txt["_atproto.alice.test"] = [f"did={OTHER_DID}"]
    assert resolver.verified_handle(did) == "handle.invalid"


def test_handle_that_does_not_resolve_is_invalid(env: Env, resolver: Resolver) -> None:
    did = env.register("nowhere.test")
    assert resolver.verified_handle(did) == "handle.invalid"


def test_unknown_did_has_an_invalid_handle(resolver: Resolver) -> None:
    assert resolver.verified_handle(OTHER_DID) == "handle.invalid"
    assert resolver.verified_handle("did:nope:x") == "handle.invalid"


# -- DIDs ----------------------------------------------------------------------------------


def test_plc_did_resolves_to_its_document(env: Env, resolver: Resolver) -> None:
    did = env.register("alice.test")
    identity = atproto_identity(did, resolver.resolve_did(did))
    assert identity.handle == "alice.test"
    assert identity.pds_endpoint == "https://pds.example.com"
    assert identity.signing_key == env.directory.data(did).signing_key


def test_unknown_and_tombstoned_plc_dids_are_not_found(env: Env, resolver: Resolver) -> None:
    with pytest.raises(DidNotFound):
        resolver.resolve_did(OTHER_DID)
    did = env.register("gone.test")
    last = env.directory.last_op(did)
    env.directory.submit(did, build_tombstone(last, env.registrar.rotation_key).to_value())
    with pytest.raises(DidNotFound):
        resolver.resolve_did(did)


def test_did_web_on_localhost_resolves_over_http(env: Env, resolver: Resolver) -> None:
    did = f"did:web:localhost%3A{env.web_port}"
    env.web.did_json["localhost"] = {"id": did, "alsoKnownAs": ["at://web.test"]}
    assert resolver.resolve_did(did)["alsoKnownAs"] == ["at://web.test"]


def test_did_web_document_for_another_did_is_invalid(env: Env, resolver: Resolver) -> None:
    did = f"did:web:localhost%3A{env.web_port}"
    env.web.did_json["localhost"] = {"id": "did:web:example.com"}
    with pytest.raises(InvalidDidDocument):
        resolver.resolve_did(did)


def test_missing_did_web_document_is_not_found(env: Env, resolver: Resolver) -> None:
    with pytest.raises(DidNotFound):
        resolver.resolve_did(f"did:web:localhost%3A{env.web_port}")


def test_oversized_did_web_document_fails(env: Env) -> None:
    did = f"did:web:localhost%3A{env.web_port}"
    env.web.did_json["localhost"] = {"id": did, "alsoKnownAs": ["at://x.test"] * 500}
    resolver = env.resolver(max_document_bytes=1000)
    with pytest.raises(ResolutionFailed):
        resolver.resolve_did(did)
    resolver.close()


@pytest.mark.parametrize(
    "did",
    [
        "not-a-did",
        "did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N",
        "did:web:example.com:user:alice",
        "did:web:example.com%3A8443",
        "did:web:printer.local",
        "did:plc:UPPERCASEUPPERCASEUPPERC",
    ],
)
def test_unsupported_dids_are_refused_without_lookups(
    env: Env, resolver: Resolver, did: str
) -> None:
    with pytest.raises(UnsupportedDid):
        resolver.resolve_did(did)
    assert env.web.hits == []


def test_slow_servers_time_out(env: Env) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    resolver = env.resolver(timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ResolutionFailed):
        resolver.resolve_did(f"did:web:localhost%3A{port}")
    assert time.monotonic() - started < 3
    resolver.close()
    listener.close()


# -- the SSRF guard ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
    ],
)
def test_guard_refuses_non_public_addresses(address: str) -> None:
    assert not is_public_address(address)
    with pytest.raises(OutboundRefused):
        AddressGuard().addresses(address)
    with pytest.raises(OutboundRefused):
        AddressGuard(lookup=lambda host: [address]).addresses("innocent.example.com")


def test_guard_allows_public_addresses_and_private_ones_when_told() -> None:
    assert AddressGuard(lookup=lambda host: ["8.8.8.8"]).addresses("dns.example") == ["8.8.8.8"]
    assert AddressGuard(allow_private=True).addresses("10.0.0.1") == ["10.0.0.1"]


def test_guarded_request_never_connects_to_a_refused_address(env: Env) -> None:
    client = guarded_client(AddressGuard(lookup=lambda host: ["127.0.0.1"]), timeout=1.0)
    url = f"http://innocent.example.com:{env.web_port}/.well-known/atproto-did"
    with pytest.raises(OutboundRefused):
        request(client, "GET", url, max_bytes=100, timeout=1.0)
    assert env.web.hits == []
    client.close()


def test_resolver_refuses_private_and_loopback_hosts_unless_allowed(env: Env) -> None:
    env.dns.a["internal.test"] = ["10.0.0.1"]
    env.dns.a["loopback.test"] = ["127.0.0.1"]
    env.web.atproto_did["loopback.test"] = OTHER_DID
    strict = env.resolver(allow_private=False)
    assert strict.resolve_handle("internal.test") is None
    assert strict.resolve_handle("loopback.test") is None
    assert env.web.hits == []
    with pytest.raises(ResolutionFailed, match="refused"):
        strict.resolve_did(f"did:web:localhost%3A{env.web_port}")
    strict.close()
    lenient = env.resolver(allow_private=True)
    assert lenient.resolve_handle("loopback.test") == OTHER_DID
    lenient.close()


# -- caching -------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingPlc(EmbeddedPlcClient):
    def __init__(self, directory: PlcDirectory) -> None:
        super().__init__(directory)
        self.calls = 0

    def get_document(self, did: str) -> dict[str, Any]:
        self.calls += 1
        return super().get_document(did)


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_did_documents_are_cached_then_revalidated_in_the_background(env: Env) -> None:
    clock, plc = Clock(), CountingPlc(env.directory)
    policy = CachePolicy(stale_after=60, expire_after=600)
    resolver = Resolver(plc, replace(env.config, did_cache=policy), clock=clock)
    did = env.register("alice.test")
    assert resolver.resolve_did(did)["alsoKnownAs"] == ["at://alice.test"]
    assert resolver.resolve_did(did)["alsoKnownAs"] == ["at://alice.test"]
    assert plc.calls == 1

    rename = build_update(env.directory.last_op(did), env.registrar.rotation_key, handle="b.test")
    env.directory.submit(did, rename.to_value())
    clock.now += 61
    # Stale: answered from the cache at once, refreshed behind the caller's back.
    assert resolver.resolve_did(did)["alsoKnownAs"] == ["at://alice.test"]
    wait_for(lambda: resolver.resolve_did(did)["alsoKnownAs"] == ["at://b.test"])
    assert plc.calls == 2

    clock.now += 601
    # Expired: the caller waits for a fresh lookup.
    resolver.resolve_did(did)
    assert plc.calls == 3
    resolver.resolve_did(did, force_refresh=True)
    assert plc.calls == 4
    resolver.close()


def test_negative_handle_results_expire_sooner(env: Env) -> None:
    clock = Clock()
    policy = CachePolicy(stale_after=300, expire_after=3600, negative_expire_after=30)
    resolver = Resolver(
        EmbeddedPlcClient(env.directory), replace(env.config, handle_cache=policy), clock=clock
    )
    assert resolver.resolve_handle("later.test") is None
    env.dns.txt["_atproto.later.test"] = [f"did={OTHER_DID}"]
    assert resolver.resolve_handle("later.test") is None  # still cached
    clock.now += 31
    assert resolver.resolve_handle("later.test") == OTHER_DID
    env.dns.txt["_atproto.later.test"] = ["did=did:plc:cccccccccccccccccccccccc"]
    clock.now += 31
    assert resolver.resolve_handle("later.test") == OTHER_DID  # positive: still fresh
    resolver.close()
