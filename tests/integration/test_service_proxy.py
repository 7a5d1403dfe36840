"""Service proxying over real sockets: a stand-in AppView (its own HTTP server with a did:web
document) receives the forwarded call with a service token it verifies with the `atproto`
SDK against the account's key, and its answer comes back through the PDS unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.integration.conftest import (
    PASSWORD,
    app_password_session,
    assert_xrpc_error,
    bearer,
    live_server,
)
from tests.integration.live_server import serve
from tests.integration.stand_in_service import StandInService


class Upstream(StandInService):
    """A stand-in AppView (service `#bsky_appview`)."""

    SERVICE_ID = "#bsky_appview"
    SERVICE_TYPE = "BskyAppView"

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []  # the methods that reached this service

    async def xrpc(self, request: Request) -> Response:
        nsid = request.path_params["method"]
        self.calls.append(nsid)
        if nsid == "app.bsky.feed.getTimeline":
            return JSONResponse({"error": "InvalidRequest", "message": "bad cursor"}, 400)
        payload = self.verified(request)
        body = await request.body()
        return JSONResponse(
            {
                "iss": payload.iss, "aud": payload.aud, "lxm": payload.lxm,
                "query": dict(request.query_params),
                "body": json.loads(body) if body else None,
                "language": request.headers.get("accept-language"),
            },
            headers={"content-language": "en", "x-internal": "not forwarded"},
        )  # fmt: skip

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/did.json", self.did_doc),
            Route("/xrpc/{method}", self.xrpc, methods=["GET", "POST"]),
        ])  # fmt: skip


@pytest.fixture(scope="module")
def proxied(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Upstream, httpx.Client, dict[str, str], str]]:
    """(upstream, PDS client, auth headers of an account, its DID)."""
    upstream = Upstream()
    with (
        serve(upstream.app(), upstream.port),
        live_server(
            tmp_path_factory.mktemp("proxy-pds"),
            appview_url=f"http://localhost:{upstream.port}",
            appview_did=upstream.did,
            allow_private_identity=True,
        ) as live,
    ):
        upstream.services = live.services
        created = live.http.post(
            "/xrpc/com.atproto.server.createAccount",
            json={"handle": "proxied.test", "password": PASSWORD},
        ).json()
        auth = {"authorization": f"Bearer {created['accessJwt']}"}
        yield upstream, live.http, auth, created["did"]


def test_an_app_view_query_is_forwarded_with_a_service_token(
    proxied: tuple[Upstream, httpx.Client, dict[str, str], str],
) -> None:
    upstream, http, auth, did = proxied
    response = http.get(
        "/xrpc/app.bsky.actor.getProfile",
        params={"actor": "proxied.test"},
        headers={**auth, "accept-language": "fr"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["iss"], body["aud"], body["lxm"]) == (
        did,
        upstream.did,
        "app.bsky.actor.getProfile",
    )
    assert (body["query"], body["language"]) == ({"actor": "proxied.test"}, "fr")
    assert response.headers["content-language"] == "en"
    assert "x-internal" not in response.headers


def test_a_procedure_body_is_forwarded_and_a_named_service_is_resolved(
    proxied: tuple[Upstream, httpx.Client, dict[str, str], str],
) -> None:
    upstream, http, auth, _did = proxied
    named = f"did:web:localhost%3A{upstream.port}#bsky_appview"
    response = http.post(
        "/xrpc/chat.bsky.convo.sendMessage",
        json={"convoId": "c1", "message": {"text": "hi"}},
        headers={**auth, "atproto-proxy": named},
    )
    assert response.status_code == 200, response.text
    assert response.json()["body"] == {"convoId": "c1", "message": {"text": "hi"}}
    assert response.json()["aud"] == named


def test_upstream_errors_pass_through_and_routing_errors_are_typed(
    proxied: tuple[Upstream, httpx.Client, dict[str, str], str],
) -> None:
    _upstream, http, auth, _did = proxied
    failed = http.get("/xrpc/app.bsky.feed.getTimeline", headers=auth)
    assert_xrpc_error(failed, 400, "InvalidRequest")
    assert failed.json()["message"] == "bad cursor"
    no_fragment = http.get(
        "/xrpc/app.bsky.feed.getTimeline", headers={**auth, "atproto-proxy": "did:web:x.example"}
    )
    assert_xrpc_error(no_fragment, 400, "InvalidRequest")
    assert_xrpc_error(
        http.get("/xrpc/app.bsky.actor.getProfile", params={"actor": "x.test"}),
        401, "AuthenticationRequired",
    )  # fmt: skip
    assert_xrpc_error(http.get("/xrpc/com.example.nothing", headers=auth), 501,
                      "MethodNotImplemented")  # fmt: skip


def test_a_protected_method_is_never_proxied_and_served_ones_stay_local(
    proxied: tuple[Upstream, httpx.Client, dict[str, Any], str],
) -> None:
    upstream, http, auth, _did = proxied
    named = f"did:web:localhost%3A{upstream.port}#bsky_appview"
    protected = http.post(
        "/xrpc/com.atproto.admin.sendEmail",
        json={"recipientDid": _did, "content": "x", "senderDid": _did},
        headers={**auth, "atproto-proxy": named},
    )
    assert_xrpc_error(protected, 401, "AuthenticationRequired")  # served here, for the operator
    local = http.get(
        "/xrpc/com.atproto.server.getSession", headers={**auth, "atproto-proxy": named}
    )
    assert local.status_code == 200 and local.json()["did"] == _did  # answered here


GET_LOG = "chat.bsky.convo.getLog"


@pytest.mark.parametrize(
    ("privileged", "reached"), [(True, True), (False, False)], ids=["privileged", "plain"]
)
def test_only_a_privileged_app_password_session_reaches_a_chat_method(
    proxied: tuple[Upstream, httpx.Client, dict[str, str], str], privileged: bool, reached: bool
) -> None:
    upstream, http, auth, did = proxied
    name = "chat-privileged" if privileged else "chat-plain"
    session = app_password_session(http, "proxied.test", auth, name, privileged=privileged)
    named = f"{upstream.did}#bsky_appview"
    upstream.calls.clear()

    response = http.get(
        f"/xrpc/{GET_LOG}",
        params={"cursor": "c1"},
        headers={**bearer(session["accessJwt"]), "atproto-proxy": named},
    )

    if reached:
        assert response.status_code == 200, response.text
        assert (response.json()["iss"], response.json()["lxm"]) == (did, GET_LOG)
        assert upstream.calls == [GET_LOG]
    else:
        body = assert_xrpc_error(response, 400, "InvalidToken")
        assert body["message"] == "Bad token method"
        assert upstream.calls == []
        ordinary = http.get(
            "/xrpc/app.bsky.actor.getProfile",
            params={"actor": "proxied.test"},
            headers=bearer(session["accessJwt"]),
        )
        assert ordinary.status_code == 200, ordinary.text  # the rest is proxied as before


def test_a_protected_method_in_other_case_is_refused_before_anything_else(
    proxied: tuple[Upstream, httpx.Client, dict[str, str], str],
) -> None:
    upstream, http, auth, _did = proxied
    named = f"{upstream.did}#bsky_appview"
    upstream.calls.clear()
    for headers in ({**auth, "atproto-proxy": named}, {"atproto-proxy": named}):
        response = http.get("/xrpc/com.atproto.server.GetSession", headers=headers)
        assert assert_xrpc_error(response, 400, "InvalidToken")["message"] == "Bad token method"
    assert upstream.calls == []
