"""A minimal keep-alive HTTP/1.1 JSON client: the load generator of bench/http.py.

On this 2-core machine the client shares the CPU with the server under test, and in the
sequential workload its time adds straight to every round trip. `http.client` spends ~210 µs
of CPU per createRecord here (header objects, email parsing of the response head); this
client writes the request in one `sendall` and reads the response with a few `recv`s, for a
fraction of that. It is the same client for both servers.

It speaks just enough HTTP/1.1 for a PDS's JSON answers: `Content-Length` or chunked bodies,
`Connection: close`, and one retry when the server dropped an idle kept-alive connection
before the request reached it.
"""

from __future__ import annotations

import json
import socket
from types import TracebackType
from urllib.parse import urlencode, urlsplit

_CRLF2 = b"\r\n\r\n"
_RECV = 65536


class ConnectionDropped(Exception):
    """The server closed the connection before a byte of the response came back."""


class JsonClient:
    """One persistent connection that posts JSON and returns (status, body bytes)."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._host_header = f"Host: {self._address[0]}:{self._address[1]}\r\n"
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def post(
        self, path: str, body: object, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """POST `body` as JSON; (status, response body)."""
        data = json.dumps(body).encode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        head = (
            f"POST {path} HTTP/1.1\r\n{self._host_header}"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n{extra}\r\n"
        )
        return self._send(head.encode() + data)

    def get(
        self, path: str, params: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """GET `path` with a query string; (status, response body)."""
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        target = f"{path}?{urlencode(params)}" if params else path
        return self._send(f"GET {target} HTTP/1.1\r\n{self._host_header}{extra}\r\n".encode())

    def _send(self, request: bytes) -> tuple[int, bytes]:
        try:
            return self._exchange(request)
        except (ConnectionDropped, ConnectionResetError, BrokenPipeError):
            self.close()  # an idle keep-alive connection the server had closed: send again
            return self._exchange(request)

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.create_connection(self._address, timeout=self._timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock, self._buffer = sock, b""
        return self._sock

    def _exchange(self, request: bytes) -> tuple[int, bytes]:
        sock = self._connect()
        sock.sendall(request)
        head = self._read_head(sock)
        status_line, _, header_block = head.partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers = {}
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            body = self._read_exact(sock, int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = self._read_chunked(sock)
        else:
            body = self._read_to_close(sock)
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, body

    def _recv(self, sock: socket.socket) -> bytes:
        chunk = sock.recv(_RECV)
        if not chunk:
            raise ConnectionResetError("connection closed mid-response")
        return chunk

    def _read_head(self, sock: socket.socket) -> bytes:
        while (end := self._buffer.find(_CRLF2)) < 0:
            chunk = sock.recv(_RECV)
            if not chunk:
                if not self._buffer:
                    raise ConnectionDropped
                raise ConnectionResetError("connection closed mid-response")
            self._buffer += chunk
        head, self._buffer = self._buffer[:end], self._buffer[end + len(_CRLF2) :]
        return head

    def _read_exact(self, sock: socket.socket, size: int) -> bytes:
        while len(self._buffer) < size:
            self._buffer += self._recv(sock)
        body, self._buffer = self._buffer[:size], self._buffer[size:]
        return body

    def _read_line(self, sock: socket.socket) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            self._buffer += self._recv(sock)
        line, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
        return line

    def _read_chunked(self, sock: socket.socket) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self._read_line(sock).split(b";", 1)[0], 16)
            if size == 0:
                while self._read_line(sock):  # trailers, up to the empty line
                    pass
                return b"".join(parts)
            parts.append(self._read_exact(sock, size))
            self._read_line(sock)

    def _read_to_close(self, sock: socket.socket) -> bytes:
        parts = [self._buffer]
        while chunk := sock.recv(_RECV):
            parts.append(chunk)
        self.close()
        return b"".join(parts)

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buffer = None, b""

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
