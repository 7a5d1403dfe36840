"""`com.atproto.server.*` account and session endpoints."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call, json_body, ok, optional_text_field, read, text_field
from adapters.http.xrpc_errors import invalid_request
from application.accounts import AccountService, session_json
from application.sessions import SessionService

NS = "/xrpc/com.atproto.server."
log = logging.getLogger("quire.sessions")


class AccountRoutes:
    """Handlers for accounts and sessions."""

    def __init__(
        self,
        accounts: AccountService,
        sessions: SessionService,
        auth: BearerAuth,
        did_doc: Callable[[str], dict[str, Any]] | None = None,
    ):
        self.accounts, self.sessions, self.auth = accounts, sessions, auth
        self._did_doc = did_doc

    async def _with_doc(self, session: Any) -> JSONResponse:
        """The session body with the DID document, as the reference answers (clients read
        the PDS endpoint from it); a document that cannot be resolved is left out."""
        doc = None
        if self._did_doc is not None:
            try:
                doc = await call(self._did_doc, session.did)
            except Exception as exc:  # a login must not fail on an unreachable directory
                log.warning("no DID document for %s in the session: %s", session.did, exc)
        return ok(session_json(session, doc))

    async def create_account(self, request: Request) -> JSONResponse:
        body = await json_body(request, limit=100_000)
        session = await call(
            self.accounts.create_account,
            text_field(body, "handle"),
            optional_text_field(body, "email"),
            optional_text_field(body, "password"),
            optional_text_field(body, "recoveryKey"),
            optional_text_field(body, "did"),
            optional_text_field(body, "inviteCode"),
        )
        return await self._with_doc(session)

    async def create_session(self, request: Request) -> JSONResponse:
        body = await json_body(request, limit=100_000)
        identifier, password = text_field(body, "identifier"), text_field(body, "password")
        session = await call(self.sessions.create_session, identifier, password)
        return await self._with_doc(session)

    async def refresh_session(self, request: Request) -> JSONResponse:
        session = await call(self.sessions.refresh_session, self.auth.token(request))
        return await self._with_doc(session)

    async def get_session(self, request: Request) -> JSONResponse:
        did = self.auth.require(request)
        info = await read(request, self.sessions.get_session, did)
        return await self._with_doc(info)

    async def delete_session(self, request: Request) -> Response:
        await call(self.sessions.delete_session, self.auth.token(request))
        return Response(status_code=200)

    async def create_app_password(self, request: Request) -> JSONResponse:
        did = self.auth.require(request, full_access=True)
        body = await json_body(request, limit=100_000)
        name = text_field(body, "name")
        privileged = body.get("privileged", False)
        if type(privileged) is not bool:  # the lexicon check says so first; never guess here
            raise invalid_request("Input/privileged must be a boolean")
        created = await call(self.sessions.create_app_password, did, name, privileged=privileged)
        return ok(
            {
                "name": created.name,
                "password": created.password,
                "createdAt": created.created_at,
                "privileged": created.privileged,
            }
        )

    async def list_app_passwords(self, request: Request) -> JSONResponse:
        did = self.auth.require(request)
        listed = await call(self.sessions.list_app_passwords, did)
        return ok(
            {
                "passwords": [
                    {"name": item.name, "createdAt": item.created_at, "privileged": item.privileged}
                    for item in listed
                ]
            }
        )

    async def revoke_app_password(self, request: Request) -> Response:
        did = self.auth.require(request)
        body = await json_body(request, limit=100_000)
        name = text_field(body, "name")
        assert name is not None
        await call(self.sessions.revoke_app_password, did, name)
        return Response(status_code=200)

    def routes(self) -> list[Route]:
        """Every account/session route."""
        return [
            Route(NS + "createAccount", self.create_account, methods=["POST"]),
            Route(NS + "createSession", self.create_session, methods=["POST"]),
            Route(NS + "refreshSession", self.refresh_session, methods=["POST"]),
            Route(NS + "getSession", self.get_session, methods=["GET"]),
            Route(NS + "deleteSession", self.delete_session, methods=["POST"]),
            Route(NS + "createAppPassword", self.create_app_password, methods=["POST"]),
            Route(NS + "listAppPasswords", self.list_app_passwords, methods=["GET"]),
            Route(NS + "revokeAppPassword", self.revoke_app_password, methods=["POST"]),
        ]
