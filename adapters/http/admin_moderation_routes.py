"""The operator's moderation methods beside account administration: `admin.sendEmail`
and `admin.disable/enableAccountInvites`, as the reference PDS serves them to `pdsadmin`
and moderation services.

All behind `AdminAuth`; inputs are checked against their lexicons by `json_body` first.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.http.admin_auth import AdminAuth
from adapters.http.xrpc import call, json_body, ok, optional_text_field, text_field
from application.admin_email import AdminEmail
from application.invite_codes import InviteCodes

ADMIN = "/xrpc/com.atproto.admin."
BODY_LIMIT = 100_000


class AdminModerationRoutes:
    """Handlers for the operator's messages and per-account invite switches."""

    def __init__(self, email: AdminEmail, invites: InviteCodes, auth: AdminAuth) -> None:
        self.email, self.invites, self.auth = email, invites, auth

    async def send_email(self, request: Request) -> JSONResponse:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        await call(
            self.email.send,
            text_field(body, "recipientDid"),
            text_field(body, "content"),
            optional_text_field(body, "subject"),
        )  # `senderDid` and `comment` are for the moderation service's records, as upstream
        return ok({"sent": True})

    async def disable_account_invites(self, request: Request) -> Response:
        return await self._set_invites_disabled(request, True)

    async def enable_account_invites(self, request: Request) -> Response:
        return await self._set_invites_disabled(request, False)

    async def _set_invites_disabled(self, request: Request, disabled: bool) -> Response:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        did = text_field(body, "account")  # `note` is not kept, as upstream
        await call(self.invites.set_account_invites_disabled, did, disabled)
        return Response(status_code=200)

    def routes(self) -> list[Route]:
        """The three routes."""
        return [
            Route(ADMIN + "sendEmail", self.send_email, methods=["POST"]),
            Route(ADMIN + "disableAccountInvites", self.disable_account_invites, methods=["POST"]),
            Route(ADMIN + "enableAccountInvites", self.enable_account_invites, methods=["POST"]),
        ]
