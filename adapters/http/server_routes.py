"""`com.atproto.server.describeServer` and the health check."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass(frozen=True, slots=True)
class ServerDescription:
    """What describeServer tells clients about this server."""

    did: str
    available_user_domains: tuple[str, ...]
    invite_code_required: bool = False
    version: str = "0.1.0"


def server_routes(description: ServerDescription) -> list[Route]:
    """Routes that need nothing but the server's static description."""

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"version": description.version})

    async def describe_server(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "did": description.did,
                "availableUserDomains": list(description.available_user_domains),
                "inviteCodeRequired": description.invite_code_required,
                "phoneVerificationRequired": False,
                "links": {},
            }
        )

    return [
        Route("/xrpc/_health", health, methods=["GET"]),
        Route("/xrpc/com.atproto.server.describeServer", describe_server, methods=["GET"]),
    ]
