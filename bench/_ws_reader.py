"""A minimal WebSocket reader for the firehose benchmark: many connections, little CPU each.

A general client library parses every frame through layers of generators, which would make
the benchmark measure its own client once 100 subscribers receive 50,000 messages a second.
This reader does the handshake, parses unmasked server frames straight out of the receive
buffer and hands each message to a callback with its arrival time. It answers pings (so the
server's keepalive is exercised) and records the close frame. Not for production use: no
TLS, no fragmentation, no extensions.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
from collections.abc import Callable
from urllib.parse import urlsplit

OnMessage = Callable[[bytes, float], None]


class RawWebSocket(asyncio.Protocol):
    """One client connection; `on_message(payload, monotonic_time)` per binary message."""

    def __init__(self, on_message: OnMessage, request: bytes) -> None:
        self.on_message = on_message
        self.request = request
        self.buffer = bytearray()
        self.handshaken = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.transport: asyncio.Transport | None = None
        self.messages = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buf = self.buffer
        buf += data
        if not self.handshaken.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[: buf.find(b"\r\n")])
            del buf[: end + 4]
            if b" 101 " not in status:
                self.handshaken.set_exception(ConnectionError(status.decode(errors="replace")))
                return
            self.handshaken.set_result(None)
        self._parse(now)

    def _parse(self, now: float) -> None:
        buf = self.buffer
        pos = 0
        size = len(buf)
        on_message = self.on_message
        while size - pos >= 2:
            opcode = buf[pos] & 0x0F
            length = buf[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                start = pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                (length,) = struct.unpack_from("!Q", buf, pos + 2)
                start = pos + 10
            end = start + length
            if end > size:
                break
            if opcode == 2:
                self.messages += 1
                on_message(bytes(buf[start:end]), now)
            elif opcode == 9:
                self._send(0xA, bytes(buf[start:end]))
            elif opcode == 8:
                code = struct.unpack_from("!H", buf, start)[0] if length >= 2 else 1005
                self.close_code = code
                self._send(0x8, bytes(buf[start : start + 2]))
                if self.transport is not None:
                    self.transport.close()
            pos = end
        if pos:
            del buf[:pos]

    def _send(self, opcode: int, payload: bytes) -> None:
        """A masked client frame (control frames only: payloads under 126 bytes)."""
        if self.transport is None or self.transport.is_closing():
            return
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshaken.done():
            self.handshaken.set_exception(exc or ConnectionError("closed during handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def pause(self) -> None:
        """Stop reading from the socket (to play a stuck consumer)."""
        if self.transport is not None:
            self.transport.pause_reading()

    def close(self) -> None:
        """Drop the connection without a closing handshake."""
        if self.transport is not None:
            self.transport.close()


async def open_raw(url: str, on_message: OnMessage, *, rcvbuf: int | None = None) -> RawWebSocket:
    """Connect to a `ws://host:port/path?query` URL and complete the handshake."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    sock = None
    if rcvbuf is not None:
        import socket

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, port))
        _, protocol = await loop.create_connection(
            lambda: RawWebSocket(on_message, request), sock=sock
        )
    else:
        _, protocol = await loop.create_connection(
            lambda: RawWebSocket(on_message, request), host, port
        )
    await protocol.handshaken
    return protocol
