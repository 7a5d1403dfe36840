"""Password reset and account deletion: `com.atproto.server.request*` and their completions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call, json_body, text_field
from application.account_recovery import AccountRecovery

NS = "/xrpc/com.atproto.server."
BODY_LIMIT = 10_000


class AccountRecoveryRoutes:
    """The four routes; the tokens travel to the owner, never back to the requester."""

    def __init__(self, recovery: AccountRecovery, auth: BearerAuth) -> None:
        self.recovery, self.auth = recovery, auth

    async def request_password_reset(self, request: Request) -> Response:
        body = await json_body(request, limit=BODY_LIMIT)
        await call(self.recovery.request_password_reset, text_field(body, "email"))
        return Response(status_code=200)

    async def reset_password(self, request: Request) -> Response:
        body = await json_body(request, limit=BODY_LIMIT)
        token, password = text_field(body, "token"), text_field(body, "password")
        await call(self.recovery.reset_password, token, password)
        return Response(status_code=200)

    async def request_account_delete(self, request: Request) -> Response:
        did = self.auth.require(request, full_access=True)
        await call(self.recovery.request_account_delete, did)
        return Response(status_code=200)

    async def delete_account(self, request: Request) -> Response:
        body = await json_body(request, limit=BODY_LIMIT)
        did, password = text_field(body, "did"), text_field(body, "password")
        await call(self.recovery.delete_account, did, password, text_field(body, "token"))
        return Response(status_code=200)

    def routes(self) -> list[Route]:
        """Every recovery route."""
        return [
            Route(NS + "requestPasswordReset", self.request_password_reset, methods=["POST"]),
            Route(NS + "resetPassword", self.reset_password, methods=["POST"]),
            Route(NS + "requestAccountDelete", self.request_account_delete, methods=["POST"]),
            Route(NS + "deleteAccount", self.delete_account, methods=["POST"]),
        ]
