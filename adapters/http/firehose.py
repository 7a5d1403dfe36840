"""`com.atproto.sync.subscribeRepos` over WebSocket, served from the FirehoseHub."""

from __future__ import annotations

import contextlib

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from application.firehose.errors import FirehoseError
from application.firehose.hub import FirehoseHub
from domain.firehose.frames import error_frame

PATH = "/xrpc/com.atproto.sync.subscribeRepos"


def _parse_cursor(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError("cursor must be a non-negative integer")
    return int(raw)


def firehose_routes(hub: FirehoseHub) -> list[BaseRoute]:
    """The WebSocket route, plus HTTP answers for clients that did not upgrade."""

    async def subscribe(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            cursor = _parse_cursor(websocket.query_params.get("cursor"))
        except ValueError as exc:
            await websocket.send_bytes(error_frame("InvalidRequest", str(exc)))
            await websocket.close(code=1008)
            return
        try:
            async for frame in hub.subscribe(cursor):
                await websocket.send_bytes(frame)
        except FirehoseError as exc:
            with contextlib.suppress(Exception):
                await websocket.send_bytes(error_frame(exc.error, exc.message))
                await websocket.close(code=1008)
        except (WebSocketDisconnect, RuntimeError):
            return

    async def not_upgraded(request: Request) -> JSONResponse:
        if request.method != "GET":
            return JSONResponse(
                {"error": "MethodNotAllowed", "message": "subscriptions use GET"}, status_code=405
            )
        return JSONResponse(
            {"error": "UpgradeRequired", "message": "subscribeRepos is a WebSocket endpoint"},
            status_code=426,
            headers={"Upgrade": "websocket", "Connection": "Upgrade"},
        )

    return [
        WebSocketRoute(PATH, subscribe),
        Route(PATH, not_upgraded, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
