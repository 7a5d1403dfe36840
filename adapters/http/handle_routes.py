"""`com.atproto.identity.resolveHandle` and `/.well-known/atproto-did`.

Clients ask their own PDS to resolve any handle (a mention being typed, a profile link), not
only the PDS's own accounts, so `resolveHandle` answers as the reference PDS does: a hosted
handle from the accounts view; a missing handle under one of this server's domains is not
found without asking anyone (only this server could have it); any other handle through DNS
and HTTPS resolution (`IdentityLookup.handle_did`). `/.well-known/atproto-did` answers only
for hosted handles, by the request's `Host`.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Route

from adapters.http.xrpc import call, read
from adapters.http.xrpc_errors import XrpcError
from application.views import AccountRow


class HandleRoutes:
    """Handle resolution routes over the accounts view and an outside resolver."""

    def __init__(
        self,
        hosted: Callable[[str], AccountRow | None],
        resolve_elsewhere: Callable[[str], str | None],
        served_domains: tuple[str, ...],
    ) -> None:
        """`hosted`: the accounts view by handle; `resolve_elsewhere`: DNS/HTTPS resolution."""
        self.hosted = hosted
        self.resolve_elsewhere = resolve_elsewhere
        self.served_domains = tuple(d if d.startswith(".") else f".{d}" for d in served_domains)

    async def resolve_handle(self, request: Request) -> JSONResponse:
        handle = (request.query_params.get("handle") or "").lower()
        account = await read(request, self.hosted, handle) if handle else None
        if account is not None:
            return JSONResponse({"did": account.did})
        if handle and not handle.endswith(self.served_domains):
            did = await call(self.resolve_elsewhere, handle)  # DNS and HTTPS: off the loop
            if did is not None:
                return JSONResponse({"did": did})
        raise XrpcError(400, "HandleNotFound", "Unable to resolve handle")

    async def well_known_did(self, request: Request) -> PlainTextResponse:
        host = (request.headers.get("host") or "").split(":")[0].lower()
        account = await read(request, self.hosted, host) if host else None
        if account is None:
            return PlainTextResponse("User not found", status_code=404)
        return PlainTextResponse(account.did)

    def routes(self) -> list[BaseRoute]:
        """Both routes."""
        return [
            Route("/xrpc/com.atproto.identity.resolveHandle", self.resolve_handle, methods=["GET"]),
            Route("/.well-known/atproto-did", self.well_known_did, methods=["GET"]),
        ]
