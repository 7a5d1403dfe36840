"""`com.atproto.lexicon.resolveLexicon`: an NSID's published schema, verified."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.http.xrpc import call, ok, param
from application.lexicon_resolution import ResolvedLexicon


class LexiconRoutes:
    """`nsid` is checked against the lexicon before this runs (ADR 0007)."""

    def __init__(self, resolve: Callable[[str], ResolvedLexicon]) -> None:
        self.resolve = resolve

    async def resolve_lexicon(self, request: Request) -> JSONResponse:
        nsid = param(request, "nsid") or ""
        # DNS, DID resolution and perhaps a remote PDS: never on the event loop.
        return ok((await call(self.resolve, nsid)).to_json())

    def routes(self) -> list[Route]:
        """The one route."""
        return [
            Route("/xrpc/com.atproto.lexicon.resolveLexicon", self.resolve_lexicon, methods=["GET"])
        ]
