"""resolveHandle for any handle, as the reference PDS answers it, over a real socket.

Hosted handles come from the accounts view; a missing handle under the server's own domains
is not found without a lookup; any other handle goes to DNS/HTTPS resolution (a stand-in
here, recording what it was asked; the real resolver has its own tests).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from adapters.http.handle_routes import HandleRoutes
from adapters.http.xrpc_errors import XrpcError, handle_xrpc_error
from application.views import AccountRow
from tests.integration.conftest import assert_xrpc_error, live_server
from tests.integration.live_server import serve

HOSTED = AccountRow("did:plc:hostedhostedhostedhosted", "alice.test", None, "active", "did:key:z")
ELSEWHERE = {"bob.example.com": "did:plc:bobbobbobbobbobbobbobbob"}
RESOLVE = "/xrpc/com.atproto.identity.resolveHandle"


class Resolutions:
    """The stand-in resolver: a fixed table, and the handles it was asked about."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, handle: str) -> str | None:
        self.asked.append(handle)
        return ELSEWHERE.get(handle)


@pytest.fixture
def handles() -> Iterator[tuple[httpx.Client, Resolutions]]:
    resolutions = Resolutions()
    routes = HandleRoutes(
        lambda handle: HOSTED if handle == HOSTED.handle else None, resolutions, (".test",)
    )
    app = Starlette(routes=routes.routes(), exception_handlers={XrpcError: handle_xrpc_error})
    with serve(app) as url, httpx.Client(base_url=url) as http:
        yield http, resolutions


def test_a_hosted_handle_is_answered_from_the_accounts_view(
    handles: tuple[httpx.Client, Resolutions],
) -> None:
    http, resolutions = handles
    response = http.get(RESOLVE, params={"handle": "Alice.Test"})
    assert response.json() == {"did": HOSTED.did}
    assert resolutions.asked == []


def test_a_missing_handle_under_our_domains_is_not_found_without_a_lookup(
    handles: tuple[httpx.Client, Resolutions],
) -> None:
    http, resolutions = handles
    assert_xrpc_error(http.get(RESOLVE, params={"handle": "nobody.test"}), 400, "HandleNotFound")
    assert resolutions.asked == []


def test_any_other_handle_is_resolved_elsewhere(
    handles: tuple[httpx.Client, Resolutions],
) -> None:
    http, resolutions = handles
    response = http.get(RESOLVE, params={"handle": "bob.example.com"})
    assert response.json() == {"did": ELSEWHERE["bob.example.com"]}
    missing = http.get(RESOLVE, params={"handle": "carol.example.com"})
    assert_xrpc_error(missing, 400, "HandleNotFound")
    assert resolutions.asked == ["bob.example.com", "carol.example.com"]


def test_well_known_did_answers_only_for_hosted_handles(
    handles: tuple[httpx.Client, Resolutions],
) -> None:
    http, _ = handles
    hosted = http.get("/.well-known/atproto-did", headers={"host": "alice.test"})
    assert (hosted.status_code, hosted.text) == (200, HOSTED.did)
    other = http.get("/.well-known/atproto-did", headers={"host": "bob.example.com"})
    assert other.status_code == 404


def test_the_server_refuses_unresolvable_outside_handles_quickly(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The real wiring: a reserved TLD is never looked up, and is HandleNotFound."""
    with live_server(tmp_path_factory.mktemp("handles")) as live:
        response = live.http.get(RESOLVE, params={"handle": "nobody.invalid"})
        assert_xrpc_error(response, 400, "HandleNotFound")
