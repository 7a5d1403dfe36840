"""`com.atproto.sync.subscribeRepos` over WebSocket, served from the FirehoseHub.

Frames leave as the bytes the seq view holds: no decoding, no re-encoding. When the server
offers the raw-frames extension (`ws_protocol.py`), a batch of frames is framed with one
`join` and written with one transport write, and live batches are written by the hub's push
itself while the connection keeps up (`LiveSink`), without waking this connection's task.
Elsewhere the plain ASGI path sends one message per frame. A second task drains what the
client sends (the spec says to ignore it) so that a disconnect ends an idle subscription at
once instead of at its next frame, and so the server keeps reading the client's pongs.

Keepalive pings are the server's job (uvicorn's `ws_ping_interval`), since ASGI cannot send
them; permessage-deflate is left off (the spec lists it only as a possible future extension,
and compressing every frame once per subscriber would cost more CPU than the fan-out).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from adapters.http.ws_protocol import RawFrameWriter, binary_frames, raw_writer
from application.firehose.errors import FirehoseError, SubscriptionClosed
from application.firehose.hub import FirehoseHub
from application.firehose.subscription import Subscription
from domain.firehose.frames import error_frame

PATH: Final = "/xrpc/com.atproto.sync.subscribeRepos"
POLICY_VIOLATION: Final = 1008
_MAX_SEQ: Final = 2**53  # seq numbers stay in the range a 64-bit float holds exactly


def parse_cursor(raw: str | None) -> int | None:
    """The `cursor` query parameter: absent, or a non-negative integer below 2^53."""
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 16 or int(raw) >= _MAX_SEQ:
        raise ValueError("cursor must be a non-negative integer")
    return int(raw)


async def _send_error(websocket: WebSocket, error: str, message: str) -> None:
    """Send an error frame and close, as the spec asks; the client may already be gone."""
    with contextlib.suppress(Exception):
        await websocket.send_bytes(error_frame(error, message))
        await websocket.close(code=POLICY_VIOLATION, reason=error)


async def _drain_client(websocket: WebSocket, subscription: Subscription) -> None:
    """Read and ignore client messages; end the subscription when the client disconnects."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
    except Exception:
        return
    finally:
        subscription.close()


class _Framed:
    """The wire bytes of the last published batch, built once for every subscriber.

    The hub hands all live subscriptions the same `frames` list, so identity is the key;
    holding the list keeps its id from being reused.
    """

    frames: list[bytes] | None = None
    wire: bytes = b""

    @classmethod
    def of(cls, frames: list[bytes]) -> bytes:
        if frames is not cls.frames:
            cls.frames, cls.wire = frames, binary_frames(frames)
        return cls.wire


class _RawSink:
    """`LiveSink` over the raw-frames extension."""

    __slots__ = ("_writer",)

    def __init__(self, writer: RawFrameWriter) -> None:
        self._writer = writer

    def deliver(self, frames: list[bytes]) -> bool:
        return self._writer.try_write(_Framed.of(frames))


async def _stream_raw(writer: RawFrameWriter, subscription: Subscription) -> None:
    next_batch = subscription.next_batch
    while True:
        frames = await next_batch()
        await writer.write(binary_frames(frames))


async def _stream_asgi(websocket: WebSocket, subscription: Subscription) -> None:
    send = websocket.send
    next_batch = subscription.next_batch
    while True:
        for frame in await next_batch():
            await send({"type": "websocket.send", "bytes": frame})


def firehose_routes(hub: FirehoseHub) -> list[BaseRoute]:
    """The WebSocket route, plus HTTP answers for clients that did not upgrade."""

    async def subscribe(websocket: WebSocket) -> None:
        await websocket.accept()
        writer = raw_writer(websocket.scope)
        try:
            cursor = parse_cursor(websocket.query_params.get("cursor"))
            subscription = await hub.subscribe(cursor, _RawSink(writer) if writer else None)
        except ValueError as exc:
            await _send_error(websocket, "InvalidRequest", str(exc))
            return
        except FirehoseError as exc:
            await _send_error(websocket, exc.error, exc.message)
            return
        drain = asyncio.create_task(_drain_client(websocket, subscription))
        try:
            if writer is not None:
                await _stream_raw(writer, subscription)
            else:
                await _stream_asgi(websocket, subscription)
        except FirehoseError as exc:
            await _send_error(websocket, exc.error, exc.message)
        except (SubscriptionClosed, WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            subscription.close()
            drain.cancel()

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
