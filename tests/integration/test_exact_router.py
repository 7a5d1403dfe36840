"""`ExactPathRouter` answers every request exactly as Starlette's own router does: the same
app served twice on real sockets, once with each router, asked the same things."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route

from adapters.http.exact_router import ExactPathRouter
from tests.integration.live_server import serve


def _named(name: str) -> object:
    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{name} {dict(request.path_params)}")

    return endpoint


def _routes() -> list[BaseRoute]:
    return [
        Route("/xrpc/a.get", _named("a.get"), methods=["GET"]),
        Route("/xrpc/a.post", _named("a.post"), methods=["POST"]),
        Route("/shadow/{name}", _named("shadow-param"), methods=["GET"]),
        Route("/shadow/fixed", _named("shadow-fixed"), methods=["GET"]),  # never reached
        Route("/xrpc/twice", _named("twice-get"), methods=["GET"]),
        Route("/xrpc/twice", _named("twice-post"), methods=["POST"]),
        Mount("/plc", routes=[Route("/{did}", _named("plc"))]),
        Route("/slash/", _named("slash")),
        Route("/only-get", _named("only-get"), methods=["GET"]),
        Route("/xrpc/{method}", _named("catch-all"), methods=["GET", "POST"]),
    ]


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[httpx.Client, httpx.Client]]:
    plain = Starlette(routes=_routes())
    exact = Starlette(routes=_routes())
    exact.router = ExactPathRouter(_routes())
    with (
        serve(plain) as plain_url,
        serve(exact) as exact_url,
        httpx.Client(base_url=plain_url) as a,
        httpx.Client(base_url=exact_url) as b,
    ):
        yield a, b


PATHS = [
    "/xrpc/a.get", "/xrpc/a.post", "/shadow/fixed", "/shadow/x", "/xrpc/twice",
    "/plc/did:plc:abc", "/slash", "/slash/", "/only-get", "/xrpc/other.method", "/nowhere",
    "/xrpc/", "/xrpc/a.get/",
]  # fmt: skip


def _redirect(response: httpx.Response) -> str | None:
    """Where a redirect points, on whichever server answered."""
    location = response.headers.get("location")
    return httpx.URL(location).path if location else None


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST", "PUT"]), path=st.sampled_from(PATHS))
def test_every_request_is_answered_as_starlette_answers_it(
    clients: tuple[httpx.Client, httpx.Client], method: str, path: str
) -> None:
    plain, exact = clients
    expected, got = plain.request(method, path), exact.request(method, path)
    assert (got.status_code, got.text, _redirect(got)) == (
        expected.status_code, expected.text, _redirect(expected),
    )  # fmt: skip


def test_a_fixed_path_is_served_by_its_route(clients: tuple[httpx.Client, httpx.Client]) -> None:
    _plain, exact = clients
    assert exact.get("/xrpc/a.get").text == "a.get {}"
    assert exact.post("/xrpc/twice").text == "twice-post {}"
    assert exact.post("/xrpc/a.get").text == "catch-all {'method': 'a.get'}"
    assert exact.get("/shadow/fixed").text == "shadow-param {'name': 'fixed'}"
