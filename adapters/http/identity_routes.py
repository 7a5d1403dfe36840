"""`com.atproto.identity.*` writes: updateHandle and the PLC operation flow.

Every handler authenticates, parses, and hands the DID from the token to `IdentityService`
off the event loop; refusals come back as the typed XRPC errors the service raises.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.xrpc import call, json_body, ok
from adapters.http.xrpc_errors import invalid_request
from application.identity_service import IdentityService
from application.plc_changes import PlcChanges

NS = "/xrpc/com.atproto.identity."
BODY_LIMIT = 100_000


class IdentityRoutes:
    """Handlers for the identity procedures and getRecommendedDidCredentials."""

    def __init__(self, identity: IdentityService, auth: BearerAuth) -> None:
        self.identity, self.auth = identity, auth

    async def update_handle(self, request: Request) -> Response:
        did = self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        handle = body.get("handle")
        if type(handle) is not str:
            raise invalid_request("Input/handle must be a string")
        await call(self.identity.update_handle, did, handle)
        return Response(status_code=200)

    async def recommended_credentials(self, request: Request) -> JSONResponse:
        did = self.auth.require(request)
        return ok(await call(self.identity.recommended_credentials, did))

    async def request_signature(self, request: Request) -> Response:
        did = self.auth.require(request, full_access=True)
        await call(self.identity.request_operation_signature, did)
        return Response(status_code=200)

    async def sign_operation(self, request: Request) -> JSONResponse:
        did = self.auth.require(request, full_access=True)
        body = await json_body(request, limit=BODY_LIMIT)
        token = body.get("token")
        if token is not None and type(token) is not str:
            raise invalid_request("Input/token must be a string")
        changes = await call(PlcChanges.from_json, body)
        operation = await call(self.identity.sign_operation, did, token, changes)
        return ok({"operation": operation})

    async def submit_operation(self, request: Request) -> Response:
        did = self.auth.require(request)
        body = await json_body(request, limit=BODY_LIMIT)
        if "operation" not in body:
            raise invalid_request('Input must have the property "operation"')
        await call(self.identity.submit_operation, did, body["operation"])
        return Response(status_code=200)

    def routes(self) -> list[Route]:
        """Every identity write route."""
        return [
            Route(NS + "updateHandle", self.update_handle, methods=["POST"]),
            Route(
                NS + "getRecommendedDidCredentials", self.recommended_credentials, methods=["GET"]
            ),
            Route(NS + "requestPlcOperationSignature", self.request_signature, methods=["POST"]),
            Route(NS + "signPlcOperation", self.sign_operation, methods=["POST"]),
            Route(NS + "submitPlcOperation", self.submit_operation, methods=["POST"]),
        ]
