"""`com.atproto.server.*` status endpoints: activate, deactivate, checkAccountStatus, and
reserveSigningKey.

reserveSigningKey is public for a new did:web (its owner reserves the key the DID document
will name, then calls createAccount with the DID); with a session it reserves a key for the
caller's own DID (reserve, then sign and submit a PLC operation naming it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call, json_body, ok
from adapters.http.xrpc_errors import XrpcError
from application.account_admin import AccountAdmin

NS = "/xrpc/com.atproto.server."


async def _optional_body(request: Request) -> dict[str, Any]:
    """The JSON body, or {} when the client sent none (the inputs here are all optional)."""
    no_length = request.headers.get("content-length") in (None, "0")
    if no_length and "transfer-encoding" not in request.headers:
        return {}
    return await json_body(request, limit=10_000)


class AccountAdminRoutes:
    """Handlers for the owner's account-status endpoints."""

    def __init__(
        self,
        admin: AccountAdmin,
        auth: BearerAuth,
        reserve_for_new_did: Callable[[str], str] | None = None,
    ) -> None:
        self.admin, self.auth = admin, auth
        self.reserve_for_new_did = reserve_for_new_did

    async def activate(self, request: Request) -> Response:
        did = self.auth.require(request, full_access=True)
        await call(self.admin.activate, did)
        return Response(status_code=200)

    async def deactivate(self, request: Request) -> Response:
        did = self.auth.require(request, full_access=True)
        await _optional_body(request)  # deleteAfter is a recommendation; nothing is deleted
        await call(self.admin.deactivate, did)
        return Response(status_code=200)

    async def check_status(self, request: Request) -> JSONResponse:
        did = self.auth.require(request)
        report = await call(self.admin.status_report, did)
        return ok(report.to_json())

    async def reserve_signing_key(self, request: Request) -> JSONResponse:
        body = await _optional_body(request)
        new_did = body.get("did")
        public = "authorization" not in request.headers and type(new_did) is str
        if public and self.reserve_for_new_did is not None:
            # Public, as in the reference: a did:web owner reserves the key their DID
            # document will name before createAccount brings the DID here.
            return ok({"signingKey": await call(self.reserve_for_new_did, new_did)})
        did = self.auth.require(request)
        if body.get("did", did) != did:
            raise XrpcError(403, "Forbidden", "Signing keys can only be reserved for yourself")
        key = await call(self.admin.identity.reserve_signing_key, did)
        return ok({"signingKey": key})

    def routes(self) -> list[Route]:
        """Every account-status route."""
        return [
            Route(NS + "activateAccount", self.activate, methods=["POST"]),
            Route(NS + "deactivateAccount", self.deactivate, methods=["POST"]),
            Route(NS + "checkAccountStatus", self.check_status, methods=["GET"]),
            Route(NS + "reserveSigningKey", self.reserve_signing_key, methods=["POST"]),
        ]
