"""`com.atproto.moderation.createReport` over real sockets: checked here, then forwarded with
the account's service token to the configured report service (a stand-in moderation service
with a did:web document, verifying each token with the `atproto` SDK), or to the service an
`atproto-proxy` header names; without either it is the catch-all's 501."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.integration.conftest import (
    LiveServer,
    app_password_auth,
    assert_xrpc_error,
    live_server,
)
from tests.integration.live_server import serve
from tests.integration.stand_in_service import StandInService

CREATE_REPORT = "/xrpc/com.atproto.moderation.createReport"
SPAM = "com.atproto.moderation.defs#reasonSpam"
REPO_REF = "com.atproto.admin.defs#repoRef"


@dataclass(frozen=True, slots=True)
class Received:
    """One report as the moderation service saw it."""

    iss: str
    aud: str
    lxm: str | None
    body: dict[str, object]
    content_type: str


class ModerationService(StandInService):
    """A stand-in report service (service `#atproto_labeler`)."""

    SERVICE_ID = "#atproto_labeler"
    SERVICE_TYPE = "AtprotoLabeler"

    def __init__(self) -> None:
        super().__init__()
        self.received: list[Received] = []
        self._ids = itertools.count(1)

    async def create_report(self, request: Request) -> Response:
        payload = self.verified(request)
        body = json.loads(await request.body())
        self.received.append(
            Received(payload.iss, payload.aud, payload.lxm, body,
                     request.headers.get("content-type", ""))
        )  # fmt: skip
        if body.get("reason") == "refuse me":
            return JSONResponse({"error": "InvalidRequest", "message": "not reportable"}, 400)
        return JSONResponse({
            "id": next(self._ids), "reasonType": body["reasonType"], "subject": body["subject"],
            "reportedBy": payload.iss, "createdAt": "2024-01-01T00:00:00.000Z",
        })  # fmt: skip

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/did.json", self.did_doc),
            Route(CREATE_REPORT, self.create_report, methods=["POST"]),
        ])  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reporting:
    """A PDS with a configured report service, another service that is not configured,
    and an account of the PDS."""

    live: LiveServer
    configured: ModerationService
    other: ModerationService
    did: str
    auth: dict[str, str]

    def report(self, body: dict[str, object], **headers: str) -> httpx.Response:
        return self.live.http.post(CREATE_REPORT, json=body, headers={**self.auth, **headers})


@pytest.fixture(scope="module")
def reporting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reporting]:
    configured, other = ModerationService(), ModerationService()
    with (
        serve(configured.app(), configured.port),
        serve(other.app(), other.port),
        live_server(
            tmp_path_factory.mktemp("report-pds"),
            report_service_url=f"http://localhost:{configured.port}",
            report_service_did=configured.did,
            allow_private_identity=True,
        ) as live,
    ):
        configured.services = other.services = live.services
        account = live.create_account("reporter")
        yield Reporting(live, configured, other, account.did, account.auth)


def _report(did: str, **extra: object) -> dict[str, object]:
    return {"reasonType": SPAM, "subject": {"$type": REPO_REF, "did": did}, **extra}


def test_a_report_goes_to_the_report_service_with_a_service_token(reporting: Reporting) -> None:
    before = len(reporting.configured.received)

    response = reporting.report(_report(reporting.did, reason="ünïcode spam"))

    assert response.status_code == 200, response.text
    assert response.json()["reportedBy"] == reporting.did
    [seen] = reporting.configured.received[before:]
    assert (seen.iss, seen.aud, seen.lxm) == (
        reporting.did, reporting.configured.did, "com.atproto.moderation.createReport"
    )  # fmt: skip
    assert seen.body == _report(reporting.did, reason="ünïcode spam")
    assert seen.content_type == "application/json"


def test_an_atproto_proxy_header_names_another_moderation_service(reporting: Reporting) -> None:
    named = f"{reporting.other.did}#atproto_labeler"
    configured_before = len(reporting.configured.received)

    response = reporting.report(_report(reporting.did), **{"atproto-proxy": named})

    assert response.status_code == 200, response.text
    [seen] = reporting.other.received[-1:]
    assert (seen.iss, seen.aud) == (reporting.did, named)
    assert len(reporting.configured.received) == configured_before


def test_an_app_password_session_may_report(reporting: Reporting) -> None:
    account = reporting.live.create_account("apppass")
    auth = app_password_auth(reporting.live, account, "reports")
    response = reporting.live.http.post(CREATE_REPORT, json=_report(account.did), headers=auth)
    assert response.status_code == 200, response.text
    assert reporting.configured.received[-1].iss == account.did


def test_the_service_answer_comes_back_as_it_is(reporting: Reporting) -> None:
    refused = reporting.report(_report(reporting.did, reason="refuse me"))
    body = assert_xrpc_error(refused, 400, "InvalidRequest")
    assert body["message"] == "not reportable"


def test_a_report_needs_a_session(reporting: Reporting) -> None:
    before = len(reporting.configured.received)
    anonymous = reporting.live.http.post(CREATE_REPORT, json=_report(reporting.did))
    assert_xrpc_error(anonymous, 401, "AuthenticationRequired")
    forged = reporting.live.http.post(
        CREATE_REPORT, json=_report(reporting.did), headers={"authorization": "Bearer x.y.z"}
    )
    assert forged.status_code == 401, forged.text
    assert len(reporting.configured.received) == before


def test_a_malformed_report_is_refused_before_it_is_forwarded(reporting: Reporting) -> None:
    before = len(reporting.configured.received)
    for body in (
        {"reasonType": SPAM},
        {"subject": {"$type": REPO_REF, "did": reporting.did}},
        _report("not-a-did"),
        _report(reporting.did, reason=12),
        {**_report(reporting.did), "reasonType": 5},
    ):
        assert_xrpc_error(reporting.report(body), 400, "InvalidRequest")
    not_json = reporting.live.http.post(
        CREATE_REPORT, content=b"{", headers={**reporting.auth, "content-type": "application/json"}
    )
    assert_xrpc_error(not_json, 400, "InvalidRequest")
    assert len(reporting.configured.received) == before


def test_a_bad_proxy_header_is_a_typed_error(reporting: Reporting) -> None:
    no_fragment = reporting.report(_report(reporting.did), **{"atproto-proxy": reporting.other.did})
    assert_xrpc_error(no_fragment, 400, "InvalidRequest")


def test_without_a_report_service_or_header_a_report_is_not_implemented(
    server: LiveServer,
) -> None:
    account = server.create_account("unrouted")
    response = server.http.post(CREATE_REPORT, json=_report(account.did), headers=account.auth)
    assert_xrpc_error(response, 501, "MethodNotImplemented")
