"""Bearer-token authentication for XRPC handlers."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from adapters.http.xrpc_errors import XrpcError
from application.sessions import AuthContext


class BearerAuth:
    """Extracts `Authorization: Bearer <jwt>` and verifies it as an access token."""

    def __init__(self, verify_access: Callable[[str], AuthContext]) -> None:
        self._verify = verify_access

    def token(self, request: Request) -> str:
        """The bearer token, or 401 AuthenticationRequired."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
        return token.strip()

    def context(self, request: Request) -> AuthContext:
        """The verified access token's context (`did`, `scope`), or a 401 with its error."""
        token = self.token(request)
        try:
            return self._verify(token)
        except Exception as exc:
            name = getattr(exc, "error", None)
            if isinstance(name, str):
                raise XrpcError(401, name, str(exc) or name) from exc
            raise XrpcError(401, "InvalidToken", "Token could not be verified") from exc

    def require(self, request: Request, *, full_access: bool = False) -> str:
        """The authenticated DID, or a 401 with the token error's name.

        `full_access` refuses app-password sessions, privileged or not (scopes
        `com.atproto.appPass`, `com.atproto.appPassPrivileged`), as the reference's ACCESS_FULL
        does for account management: 401 InvalidToken, "Bad token scope".
        """
        context = self.context(request)
        if full_access and not context.full_access:
            raise XrpcError(401, "InvalidToken", "Bad token scope")
        return context.did
