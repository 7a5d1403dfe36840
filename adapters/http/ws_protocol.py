"""uvicorn's WebSocket protocol with a raw-frames ASGI extension, for the firehose fan-out.

ASGI sends one message per `send()` call, and uvicorn turns each into a frame and a socket
write. At 100 subscribers and 500 events/s that is 50,000 writes a second through four
layers of Python, which is the whole CPU budget of the process. Server-to-client frames are
unmasked and we never compress, so a firehose frame's wire bytes are a two-to-ten byte
header before the pre-encoded message: we can build a batch of them with one `join` and
hand it to the transport in one write.

`FirehoseWebSocketProtocol` adds `scope["extensions"]["quire.websocket.raw_frames"]` with a
`RawFrameWriter` once the handshake is accepted. Routes that find it write whole batches;
every other route (and any other server) keeps the plain ASGI path. Control frames (ping,
pong, close) still go through uvicorn, which writes them whole, so they never interleave
with ours. Permessage-deflate is off: raw frames must not be compressed, and the atproto
spec does not use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

RAW_FRAMES: Final = "quire.websocket.raw_frames"
_SHORT: Final = 126
_MEDIUM: Final = 1 << 16


def binary_frames(payloads: Iterable[bytes]) -> bytes:
    """The wire bytes of one unmasked, final, binary WebSocket frame per payload."""
    parts: list[bytes] = []
    append = parts.append
    for payload in payloads:
        size = len(payload)
        if size < _SHORT:
            append(bytes((0x82, size)))
        elif size < _MEDIUM:
            append(b"\x82\x7e" + size.to_bytes(2, "big"))
        else:
            append(b"\x82\x7f" + size.to_bytes(8, "big"))
        append(payload)
    return b"".join(parts)


class RawFrameWriter:
    """Writes already-framed bytes straight to one accepted connection's transport."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def _open(self) -> bool:
        p = self._protocol
        return not (p.close_sent or p.disconnected or p.transport.is_closing())

    def try_write(self, data: bytes) -> bool:
        """Write now if the transport is below its high-water mark; False otherwise."""
        p = self._protocol
        if not p.writable.is_set() or not self._open():
            return False
        p.transport.write(data)
        return True

    async def write(self, data: bytes) -> None:
        """Write once the transport can take it; raise `ClientDisconnected` if it is gone."""
        p = self._protocol
        await p.writable.wait()
        if not self._open():
            raise ClientDisconnected
        p.transport.write(data)


class FirehoseWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, plus the raw-frames extension."""

    def handle_connect(self, event: Any) -> None:
        """Accept as usual; the ASGI task has not run yet, so the scope can still gain keys."""
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None and self.response.status_code == 101:
            scope["extensions"][RAW_FRAMES] = {"writer": RawFrameWriter(self)}


def uvicorn_websocket_options() -> dict[str, Any]:
    """The uvicorn settings `quire serve` and the live-server tests run the firehose with."""
    return {
        "ws": FirehoseWebSocketProtocol,
        "ws_per_message_deflate": False,
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
    }


def raw_writer(scope: Mapping[str, Any]) -> RawFrameWriter | None:
    """The connection's raw writer, when the server offers the extension."""
    extension = scope.get("extensions", {}).get(RAW_FRAMES)
    writer = extension.get("writer") if isinstance(extension, dict) else None
    return writer if isinstance(writer, RawFrameWriter) else None


__all__ = [
    "RAW_FRAMES",
    "FirehoseWebSocketProtocol",
    "RawFrameWriter",
    "binary_frames",
    "raw_writer",
    "uvicorn_websocket_options",
]
