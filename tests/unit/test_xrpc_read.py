"""`read`: bounded reads inline on embedded SQLite, in the threadpool otherwise, same errors."""

from __future__ import annotations

import asyncio
import threading

import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from adapters.http.xrpc import read
from adapters.http.xrpc_errors import XrpcError
from domain.repo.errors import RecordNotFound


def _request(inline: bool | None) -> Request:
    app = Starlette()
    if inline is not None:
        app.state.inline_reads = inline
    return Request({"type": "http", "app": app, "headers": []})


def _thread_of_read(inline: bool | None) -> tuple[int, int]:
    async def run() -> tuple[int, int]:
        here = threading.get_ident()
        return here, await read(_request(inline), threading.get_ident)

    return asyncio.run(run())


def test_inline_reads_run_on_the_event_loop_thread() -> None:
    loop_thread, read_thread = _thread_of_read(True)
    assert read_thread == loop_thread


@pytest.mark.parametrize("inline", [False, None])
def test_other_stores_read_in_the_threadpool(inline: bool | None) -> None:
    loop_thread, read_thread = _thread_of_read(inline)
    assert read_thread != loop_thread


@pytest.mark.parametrize("inline", [True, False])
def test_known_errors_become_xrpc_errors_either_way(inline: bool) -> None:
    def missing() -> None:
        raise RecordNotFound("Could not locate record: at://did:plc:x/a.b.c/k")

    with pytest.raises(XrpcError) as raised:
        asyncio.run(read(_request(inline), missing))
    assert (raised.value.status, raised.value.error) == (400, "RecordNotFound")


@pytest.mark.parametrize("inline", [True, False])
def test_unknown_errors_pass_through_unchanged(inline: bool) -> None:
    def broken() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        asyncio.run(read(_request(inline), broken))
