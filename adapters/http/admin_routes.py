"""The operator's XRPC methods: `com.atproto.admin.*` for accounts (and the takedowns of
records and blobs), invite creation, and `com.atproto.temp.revokeAccountCredentials` and
`addReservedHandle`.

All behind `AdminAuth`; parameters and inputs are checked against their lexicons first.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.http.admin_auth import AdminAuth
from adapters.http.xrpc import call, int_param, json_body, ok, param, text_field
from adapters.http.xrpc_errors import invalid_request
from application.admin_service import AdminService, SubjectStatus
from application.content_takedowns import ContentStatus

ADMIN = "/xrpc/com.atproto.admin."
SERVER = "/xrpc/com.atproto.server."
TEMP = "/xrpc/com.atproto.temp."
BODY_LIMIT = 100_000


def _count(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if type(value) is not int or not 1 <= value <= 10_000:
        raise invalid_request(f"Input/{name} must be an integer from 1 to 10000")
    return value


class AdminRoutes:
    """Handlers for account administration and invite codes."""

    def __init__(self, service: AdminService, auth: AdminAuth) -> None:
        self.service, self.auth = service, auth

    async def get_account_info(self, request: Request) -> JSONResponse:
        self.auth.require(request)
        did = param(request, "did")
        return ok(await call(self.service.account_info, did))

    async def get_account_infos(self, request: Request) -> JSONResponse:
        self.auth.require(request)
        dids = request.query_params.getlist("dids")
        return ok({"infos": await call(self.service.account_infos, dids)})

    async def search_accounts(self, request: Request) -> JSONResponse:
        self.auth.require(request)
        accounts, cursor = await call(
            self.service.search_accounts,
            param(request, "email", required=False),
            param(request, "cursor", required=False),
            int_param(request, "limit", 50, 1, 100),
        )
        body: dict[str, Any] = {"accounts": accounts}
        if cursor is not None:
            body["cursor"] = cursor
        return ok(body)

    async def get_subject_status(self, request: Request) -> JSONResponse:
        self.auth.require(request)
        did = param(request, "did", required=False)
        uri = param(request, "uri", required=False)
        blob = param(request, "blob", required=False)
        status: SubjectStatus | ContentStatus
        # The reference's order: a blob (which needs its account's did), a record, an account.
        if blob:
            if not did:
                raise invalid_request("Must provide a did to request blob state")
            status = await call(self.service.blob_status, did, blob)
        elif uri:
            status = await call(self.service.record_status, uri)
        elif did:
            status = await call(self.service.subject_status, did)
        else:
            raise invalid_request("No provided subject")
        return ok(status.to_json())

    async def update_subject_status(self, request: Request) -> JSONResponse:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        status = await call(
            self.service.update_subject_status,
            body.get("subject"),
            body.get("takedown"),
            body.get("deactivated"),
        )
        return ok(status.to_json(with_deactivated=False))

    async def delete_account(self, request: Request) -> Response:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        await call(self.service.delete_account, text_field(body, "did"))
        return Response(status_code=200)

    async def update_account_password(self, request: Request) -> Response:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        did, password = text_field(body, "did"), text_field(body, "password")
        await call(self.service.update_password, did, password)
        return Response(status_code=200)

    async def update_account_email(self, request: Request) -> Response:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        account, email = text_field(body, "account"), text_field(body, "email")
        await call(self.service.update_email, account, email)
        return Response(status_code=200)

    async def update_account_handle(self, request: Request) -> Response:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        await call(self.service.update_handle, text_field(body, "did"), text_field(body, "handle"))
        return Response(status_code=200)

    async def update_account_signing_key(self, request: Request) -> Response:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        did, key = text_field(body, "did"), text_field(body, "signingKey")
        await call(self.service.update_signing_key, did, key)
        return Response(status_code=200)

    async def revoke_account_credentials(self, request: Request) -> Response:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        await call(self.service.revoke_credentials, text_field(body, "account"))
        return Response(status_code=200)

    async def add_reserved_handle(self, request: Request) -> JSONResponse:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        await call(self.service.reserve_handle, text_field(body, "handle"))
        return ok({})

    async def get_invite_codes(self, request: Request) -> JSONResponse:
        self.auth.require(request)
        limit = int_param(request, "limit", 100, 1, 500)
        codes, cursor = await call(
            self.service.invite_codes, param(request, "cursor", required=False), limit
        )
        body: dict[str, Any] = {"codes": codes}
        if cursor is not None:
            body["cursor"] = cursor
        return ok(body)

    async def disable_invite_codes(self, request: Request) -> Response:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        codes, accounts = body.get("codes", []), body.get("accounts", [])
        for name, values in (("codes", codes), ("accounts", accounts)):
            if type(values) is not list or not all(type(v) is str for v in values):
                raise invalid_request(f"Input/{name} must be an array of strings")
        await call(self.service.disable_invite_codes, codes, accounts)
        return Response(status_code=200)

    async def create_invite_code(self, request: Request) -> JSONResponse:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        owner = body.get("forAccount")
        accounts = [text_field(body, "forAccount")] if owner is not None else []
        [(_, [code])] = await call(
            self.service.create_invite_codes, 1, _count(body, "useCount"), accounts
        )
        return ok({"code": code})

    async def create_invite_codes(self, request: Request) -> JSONResponse:
        self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        accounts = body.get("forAccounts", [])
        if type(accounts) is not list or not all(type(a) is str for a in accounts):
            raise invalid_request("Input/forAccounts must be an array of DIDs")
        made = await call(
            self.service.create_invite_codes,
            _count(body, "codeCount", 1),
            _count(body, "useCount"),
            accounts,
        )
        return ok({"codes": [{"account": owner, "codes": codes} for owner, codes in made]})

    def routes(self) -> list[Route]:
        """Every admin route."""
        return [
            Route(ADMIN + "getAccountInfo", self.get_account_info, methods=["GET"]),
            Route(ADMIN + "getAccountInfos", self.get_account_infos, methods=["GET"]),
            Route(ADMIN + "searchAccounts", self.search_accounts, methods=["GET"]),
            Route(ADMIN + "getSubjectStatus", self.get_subject_status, methods=["GET"]),
            Route(ADMIN + "updateSubjectStatus", self.update_subject_status, methods=["POST"]),
            Route(ADMIN + "deleteAccount", self.delete_account, methods=["POST"]),
            Route(ADMIN + "updateAccountPassword", self.update_account_password, methods=["POST"]),
            Route(ADMIN + "updateAccountEmail", self.update_account_email, methods=["POST"]),
            Route(ADMIN + "updateAccountHandle", self.update_account_handle, methods=["POST"]),
            Route(
                ADMIN + "updateAccountSigningKey",
                self.update_account_signing_key,
                methods=["POST"],
            ),
            Route(ADMIN + "getInviteCodes", self.get_invite_codes, methods=["GET"]),
            Route(ADMIN + "disableInviteCodes", self.disable_invite_codes, methods=["POST"]),
            Route(SERVER + "createInviteCode", self.create_invite_code, methods=["POST"]),
            Route(SERVER + "createInviteCodes", self.create_invite_codes, methods=["POST"]),
            Route(
                TEMP + "revokeAccountCredentials",
                self.revoke_account_credentials,
                methods=["POST"],
            ),
            Route(TEMP + "addReservedHandle", self.add_reserved_handle, methods=["POST"]),
        ]
