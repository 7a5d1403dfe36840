"""XRPC error responses: `{error, message}` with the status the specs give, in one place."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


class XrpcError(Exception):
    """An error to send to the client as an XRPC error body."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def invalid_request(message: str, error: str = "InvalidRequest") -> XrpcError:
    """400 with a typed error name."""
    return XrpcError(400, error, message)


def error_response(status: int, error: str, message: str) -> JSONResponse:
    """The JSON body every XRPC error has."""
    return JSONResponse({"error": error, "message": message}, status_code=status)


async def handle_xrpc_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette exception handler for `XrpcError`."""
    assert isinstance(exc, XrpcError)
    return error_response(exc.status, exc.error, exc.message)


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Never leak a stack trace: an unexpected failure is a plain 500 XRPC error."""
    return error_response(500, "InternalServerError", "Internal Server Error")


async def send_error(send: Any, status: int, error: str, message: str) -> None:
    """The same XRPC error body, sent as raw ASGI messages (for pure ASGI middleware)."""
    body = json.dumps({"error": error, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
