"""`app.bsky.actor.getPreferences` / `putPreferences`: served here, never proxied."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call, json_body, ok, read
from application.preferences import Preferences

NS = "/xrpc/app.bsky.actor."
BODY_LIMIT = 1_000_000


class PreferenceRoutes:
    """The two routes; the input is checked against the lexicon's preference union first."""

    def __init__(self, preferences: Preferences, auth: BearerAuth) -> None:
        self.preferences, self.auth = preferences, auth

    async def get(self, request: Request) -> JSONResponse:
        context = self.auth.context(request)
        full = context.full_access
        prefs = await read(request, self.preferences.get, context.did, full_access=full)
        return ok({"preferences": prefs})

    async def put(self, request: Request) -> Response:
        context = self.auth.context(request)
        body = await json_body(request, limit=BODY_LIMIT)
        full = context.full_access
        await call(self.preferences.put, context.did, body.get("preferences"), full_access=full)
        return Response(status_code=200)

    def routes(self) -> list[Route]:
        """getPreferences and putPreferences."""
        return [
            Route(NS + "getPreferences", self.get, methods=["GET"]),
            Route(NS + "putPreferences", self.put, methods=["POST"]),
        ]
