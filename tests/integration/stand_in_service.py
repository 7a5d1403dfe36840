"""A stand-in atproto service for proxying tests: its own loopback server and did:web identity.

It serves `/.well-known/did.json` naming one service entry at its own address, so the PDS
under test resolves it like any remote service, and it verifies the service tokens it
receives with the `atproto` SDK against the signing keys of the PDS's accounts.
"""

from __future__ import annotations

from typing import Any, ClassVar

from atproto_server.auth.jwt import verify_jwt
from starlette.requests import Request
from starlette.responses import JSONResponse

from entrypoints.bootstrap import Services
from tests.integration.live_server import free_port


class StandInService:
    """Subclasses name their service entry (`SERVICE_ID`, `SERVICE_TYPE`) and add routes."""

    SERVICE_ID: ClassVar[str]
    SERVICE_TYPE: ClassVar[str]

    def __init__(self) -> None:
        self.port = free_port()
        self.did = f"did:web:localhost%3A{self.port}"
        self.services: Services | None = None
        """The PDS under test, whose accounts sign the tokens (set once it runs)."""

    def key_of(self, iss: str, _fresh: bool) -> str:
        """The signing key of the account that issued a token."""
        assert self.services is not None
        row = self.services.store.views.get_account(iss)
        assert row is not None
        return row.signing_key

    def verified(self, request: Request) -> Any:
        """The payload of the request's service token (raises if it does not verify)."""
        token = request.headers["authorization"].removeprefix("Bearer ")
        return verify_jwt(token, self.key_of)

    async def did_doc(self, request: Request) -> JSONResponse:
        return JSONResponse({
            "@context": ["https://www.w3.org/ns/did/v1"], "id": self.did,
            "service": [{"id": self.SERVICE_ID, "type": self.SERVICE_TYPE,
                         "serviceEndpoint": f"http://localhost:{self.port}"}],
        })  # fmt: skip
