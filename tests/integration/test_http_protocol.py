"""The coalescing HTTP protocol on a real socket: one write per response, HTTP/1.1 intact.

A small ASGI app serves the shapes of response that matter (a plain JSON body, a stream,
HEAD, 204, a failure after the head, `Expect: 100-continue`), and a raw socket reads what
actually crosses the wire. The firehose's WebSocket upgrade is checked on the real app.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from adapters.http.http_protocol import uvicorn_http_options
from domain.repo.writes import RecordWrite
from entrypoints.asgi import build_app
from entrypoints.bootstrap import build_services
from entrypoints.config import Settings
from tests.integration.live_server import free_port, serve

BODY = b'{"ok":true}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Responses by path: /json, /stream, /empty, /fail-after-head, /echo."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/echo":
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})
    elif path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/fail-after-head":
        headers = [(b"content-length", b"100")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        raise RuntimeError("the handler failed after starting its response")
    else:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"11")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": BODY})


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(app, **uvicorn_http_options()) as base:
        yield base


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _request(method: str, path: str, extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nhost: test\r\n{extra}\r\n".encode()


def _read_response(sock: socket.socket, buffer: bytearray, *, head_only: bool = False) -> bytes:
    """One whole response (content-length or chunked) off `buffer` + the socket."""
    while b"\r\n\r\n" not in buffer:
        buffer += _recv(sock)
    end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:end]).lower()
    if head_only or b" 204 " in head.split(b"\r\n")[0]:
        size = end
    elif b"transfer-encoding: chunked" in head:
        while b"0\r\n\r\n" not in buffer[end:]:
            buffer += _recv(sock)
        size = buffer.index(b"0\r\n\r\n", end) + 5
    else:
        length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(buffer) < end + length:
            buffer += _recv(sock)
        size = end + length
    response = bytes(buffer[:size])
    del buffer[:size]
    return response


def _recv(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("closed")
    return data


def test_head_and_body_leave_in_one_write(url: str) -> None:
    with _connect(url) as sock:
        for _ in range(20):
            sock.sendall(_request("GET", "/json"))
            first = sock.recv(65536)  # one write on loopback: one segment, read whole
            assert first.startswith(b"HTTP/1.1 200 OK\r\n")
            assert first.endswith(b"\r\n\r\n" + BODY)


def test_keep_alive_serves_every_shape_in_turn(url: str) -> None:
    buffer = bytearray()
    with _connect(url) as sock:
        sock.sendall(_request("GET", "/json"))
        assert _read_response(sock, buffer).endswith(BODY)
        sock.sendall(_request("HEAD", "/json"))
        head = _read_response(sock, buffer, head_only=True)
        assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length: 11" in head
        sock.sendall(_request("GET", "/empty"))
        assert _read_response(sock, buffer).startswith(b"HTTP/1.1 204 No Content")
        sock.sendall(_request("GET", "/stream"))
        stream = _read_response(sock, buffer)
        assert b"transfer-encoding: chunked" in stream
        assert stream.endswith(b"4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n")
        sock.sendall(_request("GET", "/json"))
        assert _read_response(sock, buffer).endswith(BODY)
    assert not buffer


def test_pipelined_requests_are_answered_in_order(url: str) -> None:
    buffer = bytearray()
    with _connect(url) as sock:
        sock.sendall(
            _request("GET", "/json") + _request("HEAD", "/json") + _request("GET", "/json")
        )
        first = _read_response(sock, buffer)
        second = _read_response(sock, buffer, head_only=True)
        third = _read_response(sock, buffer)
    assert first.endswith(BODY) and third.endswith(BODY)
    assert second.startswith(b"HTTP/1.1 200 OK") and not second.endswith(BODY)


def test_expect_100_continue_is_answered_before_the_body_is_sent(url: str) -> None:
    buffer = bytearray()
    with _connect(url) as sock:
        sock.sendall(_request("POST", "/echo", "content-length: 5\r\nexpect: 100-continue\r\n"))
        interim = _recv(sock)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        assert _read_response(sock, buffer).endswith(b"\r\n\r\nhello")


def test_failure_after_the_head_sends_the_head_then_closes(url: str) -> None:
    with _connect(url) as sock:
        sock.sendall(_request("GET", "/fail-after-head"))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK") and received.endswith(b"\r\n\r\n")


def test_firehose_websocket_upgrade_streams_commits(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        data_dir=tmp_path,
        hostname="localhost",
        port=port,
        handle_domains=(".test",),
        fast_password_hashing=True,
        plc_url=None,
    )
    services = build_services(settings)
    try:
        with serve(build_app(services), port, **uvicorn_http_options()) as base:
            session = services.accounts.create_account("wsuser.test", None, "password-123")
            record = {"$type": "com.example.note", "text": "hi"}
            write = RecordWrite("create", "com.example.note", "3k2aaaaaaaaa2", record)

            async def scenario() -> bytes:
                ws = base.replace("http://", "ws://") + "/xrpc/com.atproto.sync.subscribeRepos"
                async with connect(ws) as client:
                    await asyncio.to_thread(services.committer.apply_writes, session.did, [write])
                    frame = await asyncio.wait_for(client.recv(), timeout=20)
                    assert isinstance(frame, bytes)
                    return frame

            frame = asyncio.run(scenario())
    finally:
        services.close()
    assert b"#commit" in frame and session.did.encode() in frame
