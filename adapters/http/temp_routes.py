"""`com.atproto.temp.*` methods the Bluesky app calls while signing up.

`checkSignupQueue`: there is no queue here, so every account is activated at once (the
reference PDS answers the same). `checkHandleAvailability`: whether a handle can be taken,
with free look-alikes when it cannot.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call, ok, param
from application.accounts import AccountService

NS = "/xrpc/com.atproto.temp."
AVAILABILITY = "com.atproto.temp.checkHandleAvailability"


class TempRoutes:
    """Sign-up helpers."""

    def __init__(self, accounts: AccountService, auth: BearerAuth) -> None:
        self.accounts, self.auth = accounts, auth

    async def check_signup_queue(self, request: Request) -> JSONResponse:
        self.auth.require(request)
        return ok({"activated": True})

    async def check_handle_availability(self, request: Request) -> JSONResponse:
        handle = param(request, "handle")
        assert handle is not None
        suggestions = await call(self.accounts.handle_suggestions, handle)
        if suggestions is None:
            result: dict[str, object] = {"$type": f"{AVAILABILITY}#resultAvailable"}
        else:
            result = {
                "$type": f"{AVAILABILITY}#resultUnavailable",
                "suggestions": [{"handle": h, "method": "numbered"} for h in suggestions],
            }
        return ok({"handle": handle, "result": result})

    def routes(self) -> list[Route]:
        """The two routes."""
        return [
            Route(NS + "checkSignupQueue", self.check_signup_queue, methods=["GET"]),
            Route(NS + "checkHandleAvailability", self.check_handle_availability, methods=["GET"]),
        ]
