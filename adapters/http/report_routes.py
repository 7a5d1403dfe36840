"""`com.atproto.moderation.createReport`: served here only to be forwarded.

Reports belong to a moderation service. As the reference PDS does, the call is checked here
(the account's session, the input against its lexicon) and then forwarded with the account's
service token to the service the `atproto-proxy` header names or, without one, to the
configured report service (`QUIRE_REPORT_SERVICE_URL`/`_DID`); the service's answer comes
back as it is. With neither, the answer is the catch-all's 501 for a method with no target.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.proxy_routes import ProxyRoutes, not_implemented
from adapters.http.xrpc import json_body
from application.service_proxy import CREATE_REPORT


class ReportRoutes:
    """The one route, over the proxy's forwarding."""

    def __init__(self, proxy: ProxyRoutes, auth: BearerAuth) -> None:
        self.proxy, self.auth = proxy, auth

    async def create_report(self, request: Request) -> Response:
        context = self.auth.context(request)
        body = await json_body(request)
        header = request.headers.get("atproto-proxy")
        target = await self.proxy.target(CREATE_REPORT, header)
        if target is None:
            return not_implemented(CREATE_REPORT)
        forwarded = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        return await self.proxy.forward(
            request, CREATE_REPORT, target, context, forwarded, content_type="application/json"
        )

    def routes(self) -> list[Route]:
        """The createReport route."""
        return [Route(f"/xrpc/{CREATE_REPORT}", self.create_report, methods=["POST"])]
