"""`resolveDid`, `resolveIdentity`, `refreshIdentity`: identity resolution for clients."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.http.xrpc import call, json_body, ok, param, text_field
from application.identity_lookup import IdentityLookup

NS = "/xrpc/com.atproto.identity."


class IdentityLookupRoutes:
    """Parameters are checked against the lexicons before these run (ADR 0007)."""

    def __init__(self, lookup: IdentityLookup) -> None:
        self.lookup = lookup

    async def resolve_did(self, request: Request) -> JSONResponse:
        did = param(request, "did")
        assert did is not None
        return ok({"didDoc": await call(self.lookup.did_document, did)})

    async def resolve_identity(self, request: Request) -> JSONResponse:
        identifier = param(request, "identifier")
        assert identifier is not None
        return ok((await call(self.lookup.identity, identifier)).to_json())

    async def refresh_identity(self, request: Request) -> JSONResponse:
        body = await json_body(request, limit=10_000)
        info = await call(self.lookup.identity, text_field(body, "identifier"), refresh=True)
        return ok(info.to_json())

    def routes(self) -> list[Route]:
        """The three routes."""
        return [
            Route(NS + "resolveDid", self.resolve_did, methods=["GET"]),
            Route(NS + "resolveIdentity", self.resolve_identity, methods=["GET"]),
            Route(NS + "refreshIdentity", self.refresh_identity, methods=["POST"]),
        ]
