"""`FrameSource` over a WebSocket: one `subscribeRepos` connection per `frames()` call.

Compression is not offered (atproto streams do not use it, and it would cost CPU on both
ends); messages are capped at the sync spec's 5 MB frame limit; the client pings so a dead
peer is noticed even when the stream is quiet. Transport failures become
`FrameSourceError`, so the application never sees a `websockets` type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final
from urllib.parse import urlencode

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK, InvalidHandshake, WebSocketException

from application.firehose_consumer.ports import FrameSourceError

PATH: Final = "/xrpc/com.atproto.sync.subscribeRepos"
MAX_FRAME_BYTES: Final = 5 * 1024 * 1024


def subscribe_url(service: str) -> str:
    """The stream URL of a service given as `https://host`, `ws://host:port` or a full URL."""
    url = service.rstrip("/")
    if url.startswith("https://"):
        url = "wss://" + url[len("https://") :]
    elif url.startswith("http://"):
        url = "ws://" + url[len("http://") :]
    return url if url.endswith(PATH) else url + PATH


class WebSocketFrameSource:
    """Binary messages from a `subscribeRepos` endpoint."""

    def __init__(
        self,
        service: str,
        *,
        open_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        max_queue: int = 64,
    ) -> None:
        self.url = subscribe_url(service)
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_queue = max_queue

    def _uri(self, cursor: int | None) -> str:
        return self.url if cursor is None else f"{self.url}?{urlencode({'cursor': cursor})}"

    async def frames(self, cursor: int | None) -> AsyncIterator[bytes]:
        """Connect with `cursor`; yield every binary message until the server closes."""
        try:
            async with connect(
                self._uri(cursor),
                compression=None,
                max_size=MAX_FRAME_BYTES,
                max_queue=self.max_queue,
                open_timeout=self.open_timeout,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
                close_timeout=1.0,
            ) as websocket:
                async for message in websocket:
                    if isinstance(message, str):
                        raise FrameSourceError("text message on a binary stream")
                    yield message
        except ConnectionClosedOK:
            return
        except (InvalidHandshake, WebSocketException, OSError, TimeoutError) as exc:
            raise FrameSourceError(f"{type(exc).__name__}: {exc}") from exc
