"""`com.atproto.server.getServiceAuth`: a token for another service, signed by the account."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call, int_param, ok, param
from application.service_auth import ServiceAuth

PATH = "/xrpc/com.atproto.server.getServiceAuth"
_EPOCH_MAX = 2**53  # the lexicon's integer; the use case bounds it to the next hour


class ServiceAuthRoutes:
    """The one route; its parameters are already checked against the lexicon (ADR 0007)."""

    def __init__(self, service_auth: ServiceAuth, auth: BearerAuth) -> None:
        self.service_auth, self.auth = service_auth, auth

    async def get_service_auth(self, request: Request) -> JSONResponse:
        context = self.auth.context(request)
        aud = param(request, "aud")
        assert aud is not None
        exp = (
            int_param(request, "exp", 0, -_EPOCH_MAX, _EPOCH_MAX)
            if "exp" in request.query_params
            else None
        )
        token = await call(
            self.service_auth.issue,
            context.did,
            aud,
            exp=exp,
            lxm=param(request, "lxm", required=False),
            privileged=context.privileged,
        )
        return ok({"token": token})

    def routes(self) -> list[Route]:
        """The getServiceAuth route."""
        return [Route(PATH, self.get_service_auth, methods=["GET"])]
