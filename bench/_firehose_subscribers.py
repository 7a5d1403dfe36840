"""The subscriber side of the firehose benchmark, run in its own process.

The server and its writer share one process (and one GIL), as in production; the
subscribers run here so their parsing does not steal that process's time. Arrival times are
`time.monotonic()`, which on Linux is CLOCK_MONOTONIC, one clock for every process, so they
compare directly with the writer's commit times.

Protocol over the pipe: the child sends ("ready", None) once connected; the parent sends
("collect", expected_per_subscriber, timeout); the child answers ("result", payload).
"""

from __future__ import annotations

import asyncio
import gc
import time
from multiprocessing.connection import Connection
from typing import Any

from bench._ws_reader import OnMessage, RawWebSocket, open_raw

IDLE_END = 1.0
_REV_MARK = b"\x63rev\x6d"  # CBOR: text "rev", then a 13-byte text (a TID)


def rev_of(frame: bytes) -> bytes | None:
    """The `rev` of a `#commit` frame, found without decoding it (the body's key comes first)."""
    at = frame.find(_REV_MARK)
    return frame[at + 5 : at + 18] if at >= 0 else None


def _ignore(frame: bytes, now: float) -> None:
    """The idle subscribers' callback: the reader counts messages, nothing else is kept."""
    return None


async def _connect_all(url: str, count: int, record: bool) -> tuple[list[RawWebSocket], list[Any]]:
    logs: list[Any] = []
    sockets: list[RawWebSocket] = []
    for _ in range(count):
        log: list[tuple[bytes | None, float]] = []
        logs.append(log)
        on_message: OnMessage
        if record:
            append = log.append

            def record_message(frame: bytes, now: float, append: Any = append) -> None:
                append((rev_of(frame), now))

            on_message = record_message
        else:
            on_message = _ignore
        sockets.append(await open_raw(url, on_message))
    return sockets, logs


async def _await_counts(sockets: list[RawWebSocket], expected: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if all(sock.messages >= expected for sock in sockets):
            return
        await asyncio.sleep(0.01)


async def _run(conn: Connection, url: str, count: int, mode: str) -> None:
    sockets, logs = await _connect_all(url, count, record=(mode == "live"))
    conn.send(("ready", None))
    loop = asyncio.get_running_loop()
    command = await loop.run_in_executor(None, conn.recv)
    _, expected, timeout = command
    await _await_counts(sockets, expected, timeout)
    if mode == "live":
        payload: Any = logs
    else:
        payload = [sock.messages for sock in sockets]
    for sock in sockets:
        sock.close()
    conn.send(("result", payload))


def subscriber_main(conn: Connection, url: str, count: int, mode: str) -> None:
    """Child process entry: `mode` is "live" (record revs and times) or "idle" (count only).

    The collector's own garbage collection would pause it while it appends hundreds of
    thousands of timestamps, and show up as server latency: it creates no cycles, so it
    runs without the cyclic collector.
    """
    gc.disable()
    asyncio.run(_run(conn, url, count, mode))


async def _backfill(conn: Connection, url: str, expected: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    first: list[float] = []
    last: list[float] = [0.0]

    def on_message(frame: bytes, now: float) -> None:
        if not first:
            first.append(now)
        last[0] = now

    started = time.monotonic()
    sock = await open_raw(url, on_message)
    deadline = loop.time() + timeout
    while loop.time() < deadline and not sock.closed.done():
        if expected and sock.messages >= expected:
            break
        if not expected and first and time.monotonic() - last[0] > IDLE_END:
            break
        await asyncio.sleep(0.005)
    sock.close()
    conn.send(("result", {"count": sock.messages, "started": started, "last": last[0]}))


def backfill_main(conn: Connection, url: str, expected: int, timeout: float) -> None:
    """Child process entry: read until `expected` frames arrived (0: until idle for 1 s)."""
    asyncio.run(_backfill(conn, url, expected, timeout))
