"""The ASGI application: Starlette with every route, error handler and middleware."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.http.server_routes import ServerDescription, server_routes
from adapters.http.xrpc_errors import (
    XrpcError,
    error_response,
    handle_unexpected,
    handle_xrpc_error,
)
from entrypoints.config import Settings


async def _method_not_implemented(request: Request) -> JSONResponse:
    method = request.path_params["method"]
    return error_response(501, "MethodNotImplemented", f"Method not implemented: {method}")


def create_app(settings: Settings) -> Starlette:
    """Build the application for `settings` (the composition root calls this)."""
    description = ServerDescription(
        did=settings.service_did, available_user_domains=settings.handle_domains
    )
    routes = [
        *server_routes(description),
        Route("/xrpc/{method}", _method_not_implemented, methods=["GET", "POST"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={XrpcError: handle_xrpc_error, Exception: handle_unexpected},
    )
