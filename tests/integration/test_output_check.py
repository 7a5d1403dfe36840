"""`QUIRE_VALIDATE_OUTPUT`: a response that does not match its lexicon never reaches a client.

A small app with deliberately wrong handlers, behind the middleware, over a real socket.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.http.xrpc_output_check import XrpcOutputCheckMiddleware
from adapters.lexicon_files import default_catalog
from tests.integration.conftest import assert_xrpc_error
from tests.integration.live_server import serve

DESCRIBE = "com.atproto.server.describeServer"
LATEST = "com.atproto.sync.getLatestCommit"
GET_REPO = "com.atproto.sync.getRepo"
GOOD = {"did": "did:web:example.com", "availableUserDomains": [".test"]}


async def describe(request: Request) -> JSONResponse:
    return JSONResponse(GOOD if request.query_params.get("good") else {"did": 5})


async def latest(request: Request) -> JSONResponse:
    return JSONResponse({"error": "RepoNotFound", "message": "nope"}, status_code=404)


async def get_repo(request: Request) -> Response:
    return Response(b"\x0a not json", media_type="application/vnd.ipld.car")


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    served = frozenset({DESCRIBE, LATEST, GET_REPO})
    app = Starlette(
        routes=[
            Route(f"/xrpc/{DESCRIBE}", describe, methods=["GET", "HEAD"]),
            Route(f"/xrpc/{LATEST}", latest),
            Route(f"/xrpc/{GET_REPO}", get_repo),
        ],
        middleware=[
            Middleware(XrpcOutputCheckMiddleware, catalog=default_catalog(), served=served)
        ],
    )
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def test_an_output_that_breaks_its_lexicon_becomes_a_500(http: httpx.Client) -> None:
    body = assert_xrpc_error(http.get(f"/xrpc/{DESCRIBE}"), 500, "InternalServerError")
    assert body["message"] == "Internal Server Error"


def test_a_matching_output_passes_unchanged(http: httpx.Client) -> None:
    response = http.get(f"/xrpc/{DESCRIBE}", params={"good": "1"})
    assert response.status_code == 200
    assert response.json() == GOOD


def test_a_head_request_has_no_body_to_check(http: httpx.Client) -> None:
    assert http.head(f"/xrpc/{DESCRIBE}", params={"good": "1"}).status_code == 200


def test_errors_and_binary_outputs_are_not_checked(http: httpx.Client) -> None:
    assert_xrpc_error(http.get(f"/xrpc/{LATEST}"), 404, "RepoNotFound")
    car = http.get(f"/xrpc/{GET_REPO}")
    assert car.status_code == 200
    assert car.content == b"\x0a not json"
