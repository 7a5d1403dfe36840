"""`com.atproto.server.getAccountInviteCodes`: an account's own invite codes and their uses.

Codes are made by the operator: `quire account invite`, or the admin-only
`com.atproto.server.createInviteCode(s)` (`adapters/http/admin_routes.py`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import bool_param, call, ok
from application.invite_codes import InviteCodes

PATH = "/xrpc/com.atproto.server.getAccountInviteCodes"


class InviteRoutes:
    """The one route."""

    def __init__(self, invites: InviteCodes, auth: BearerAuth) -> None:
        self.invites, self.auth = invites, auth

    async def get_account_invite_codes(self, request: Request) -> JSONResponse:
        did = self.auth.require(request, full_access=True)
        include_used = (
            bool_param(request, "includeUsed") if "includeUsed" in request.query_params else True
        )
        codes = await call(self.invites.for_account, did)
        return ok(
            {
                "codes": [
                    {
                        "code": c.code,
                        "available": c.available,  # as created; clients subtract the uses
                        "disabled": c.disabled,
                        "forAccount": c.for_account,
                        "createdBy": c.created_by,
                        "createdAt": c.created_at,
                        "uses": [
                            {"usedBy": u.used_by, "usedAt": u.used_at}
                            for u in c.uses
                            if u.used_by.startswith("did:")  # not a sign-up still under way
                        ],
                    }
                    for c in codes
                    if include_used or len(c.uses) < c.available
                ]
            }
        )

    def routes(self) -> list[Route]:
        """The getAccountInviteCodes route."""
        return [Route(PATH, self.get_account_invite_codes, methods=["GET"])]
