"""Password reset and account deletion: `com.atproto.server.request*` and their completions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call, json_body
from adapters.http.xrpc_errors import invalid_request
from application.account_recovery import AccountRecovery

NS = "/xrpc/com.atproto.server."
BODY_LIMIT = 10_000


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if type(value) is not str:
        raise invalid_request(f"Input/{name} must be a string")
    return value


class AccountRecoveryRoutes:
    """The four routes; the tokens travel to the owner, never back to the requester."""

    def __init__(self, recovery: AccountRecovery, auth: BearerAuth) -> None:
        self.recovery, self.auth = recovery, auth

    async def request_password_reset(self, request: Request) -> Response:
        body = await json_body(request, limit=BODY_LIMIT)
        await call(self.recovery.request_password_reset, _text(body, "email"))
        return Response(status_code=200)

    async def reset_password(self, request: Request) -> Response:
        body = await json_body(request, limit=BODY_LIMIT)
        token, password = _text(body, "token"), _text(body, "password")
        await call(self.recovery.reset_password, token, password)
        return Response(status_code=200)

    async def request_account_delete(self, request: Request) -> Response:
        did = self.auth.require(request, full_access=True)
        await call(self.recovery.request_account_delete, did)
        return Response(status_code=200)

    async def delete_account(self, request: Request) -> Response:
        body = await json_body(request, limit=BODY_LIMIT)
        did, password, token = _text(body, "did"), _text(body, "password"), _text(body, "token")
        await call(self.recovery.delete_account, did, password, token)
        return Response(status_code=200)

    def routes(self) -> list[Route]:
        """Every recovery route."""
        return [
            Route(NS + "requestPasswordReset", self.request_password_reset, methods=["POST"]),
            Route(NS + "resetPassword", self.reset_password, methods=["POST"]),
            Route(NS + "requestAccountDelete", self.request_account_delete, methods=["POST"]),
            Route(NS + "deleteAccount", self.delete_account, methods=["POST"]),
        ]
