"""`com.atproto.server.*Email*`: confirming and changing the account's address."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call, json_body, ok, optional_text_field, text_field
from application.email_verification import EmailVerification

NS = "/xrpc/com.atproto.server."
BODY_LIMIT = 10_000


class EmailRoutes:
    """Confirmation is open to any session; changing the address needs full access."""

    def __init__(self, email: EmailVerification, auth: BearerAuth) -> None:
        self.email, self.auth = email, auth

    async def request_confirmation(self, request: Request) -> Response:
        did = self.auth.require(request)
        await call(self.email.request_confirmation, did)
        return Response(status_code=200)

    async def confirm(self, request: Request) -> Response:
        did = self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        await call(self.email.confirm, did, text_field(body, "email"), text_field(body, "token"))
        return Response(status_code=200)

    async def request_update(self, request: Request) -> JSONResponse:
        did = self.auth.require(request, full_access=True)
        return ok({"tokenRequired": await call(self.email.request_update, did)})

    async def update(self, request: Request) -> Response:
        did = self.auth.require(request, full_access=True)
        body = await json_body(request, limit=BODY_LIMIT)
        email, token = text_field(body, "email"), optional_text_field(body, "token")
        await call(self.email.update, did, email, token)
        return Response(status_code=200)

    def routes(self) -> list[Route]:
        """The four routes."""
        return [
            Route(NS + "requestEmailConfirmation", self.request_confirmation, methods=["POST"]),
            Route(NS + "confirmEmail", self.confirm, methods=["POST"]),
            Route(NS + "requestEmailUpdate", self.request_update, methods=["POST"]),
            Route(NS + "updateEmail", self.update, methods=["POST"]),
        ]
