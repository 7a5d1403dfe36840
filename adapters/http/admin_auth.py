"""HTTP Basic `admin:<password>` for the operator's XRPC methods, as the reference PDS does
with `PDS_ADMIN_PASSWORD`. Without `QUIRE_ADMIN_PASSWORD` the admin methods are closed."""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.requests import Request

from adapters.http.xrpc_errors import XrpcError


class AdminAuth:
    """Checks the admin password; compares in constant time."""

    def __init__(self, password: str | None) -> None:
        self._expected = (
            None if not password else base64.b64encode(f"admin:{password}".encode()).decode()
        )

    def require(self, request: Request) -> None:
        """Return if the request carries the admin credentials, else 401."""
        if self._expected is None:
            raise XrpcError(
                401, "AuthenticationRequired", "Admin API disabled: QUIRE_ADMIN_PASSWORD is unset"
            )
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not _well_formed(value.strip()):
            raise XrpcError(401, "AuthenticationRequired", "Admin credentials required")
        if not hmac.compare_digest(value.strip().encode(), self._expected.encode()):
            raise XrpcError(401, "AuthenticationRequired", "Invalid admin credentials")


def _well_formed(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
