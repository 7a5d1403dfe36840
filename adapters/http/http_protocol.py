"""uvicorn's httptools HTTP protocol, writing a response's head and first body chunk together.

uvicorn writes the status line and headers as soon as the application sends
`http.response.start`, and the body when it sends `http.response.body`: two `send()` calls
per response, and on loopback two wake-ups of the client, the first for a head it cannot use
without the body. Every XRPC response is a head and one body message sent back to back, so
holding the head until the body comes costs nothing and halves the writes.

The head is held only between the two messages: it is written on the next write of the
response (the body, or the first chunk of a stream), when the transport is closed, or when
the response completes without a body write (HEAD). The `100 Continue` interim response is
written before the response starts and is never held.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle


class HeadCoalescingTransport:
    """A cycle's view of the connection's transport that holds the response head briefly."""

    __slots__ = ("_cycle", "_head", "_held", "_transport")

    def __init__(self, transport: asyncio.Transport, cycle: RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle = cycle
        self._head: bytes | None = None
        self._held = False

    def write(self, data: bytes) -> None:
        """Hold the head (the first write after the response started); join it to the next."""
        if self._head is not None:
            data, self._head = self._head + data, None
        elif not self._held and self._cycle.response_started:
            self._held = True
            self._head = data
            return
        self._transport.write(data)

    def flush(self) -> None:
        """Write a head still held (a response that ended without a body write)."""
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        """Flush, then close the connection."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        """Whether the connection is closing."""
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` whose responses go out as one write per head-and-body."""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        transport = HeadCoalescingTransport(self.transport, cycle)
        on_response = cycle.on_response

        def on_response_complete() -> None:
            transport.flush()
            on_response()

        cycle.transport = transport  # type: ignore[assignment]
        cycle.on_response = on_response_complete
        super()._start_asgi_task(cycle, app)


def uvicorn_http_options() -> dict[str, Any]:
    """The uvicorn HTTP setting `quire serve` runs with."""
    return {"http": CoalescingHttpToolsProtocol}


__all__ = ["CoalescingHttpToolsProtocol", "HeadCoalescingTransport", "uvicorn_http_options"]
