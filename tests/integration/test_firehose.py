"""The firehose over real sockets: cursors, cutover, slow consumers, and three readers.

Every stream here is read from a live server (uvicorn on loopback, production WebSocket
settings) by the `atproto` SDK's firehose client, by our own consumer (which verifies each
commit, Sync 1.1) and by a plain `websockets` client that compares bytes with the seq view.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from atproto import FirehoseSubscribeReposClient, parse_subscribe_repos_message
from atproto_subscription.exceptions import SubscriptionError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from adapters.firehose.did_key_resolver import ResolverSigningKeys
from adapters.firehose.websocket_source import WebSocketFrameSource
from adapters.identity.http_plc_client import HttpPlcClient
from adapters.identity.resolver import Resolver, ResolverConfig
from adapters.identity.safe_http import AddressGuard
from application.firehose.errors import ConsumerTooSlow
from application.firehose.subscription import Subscription
from application.firehose_consumer.consumer import FirehoseConsumer, FutureCursorError
from application.firehose_consumer.events import CommitEvent, FirehoseEvent, InfoEvent, SyncEvent
from application.ports.repo_views import SeqEvent
from domain.firehose.frames import split_frame
from domain.repo.writes import RecordWrite
from entrypoints.asgi import build_app
from entrypoints.bootstrap import build_services
from entrypoints.config import Settings
from tests.integration.conftest import Account, LiveServer
from tests.integration.live_server import free_port, serve

T = TypeVar("T")
PATH = "/xrpc/com.atproto.sync.subscribeRepos"
NOTE = "com.example.note"
WAIT = 20.0
FIRST = asyncio.FIRST_COMPLETED


def run(coro: Awaitable[T]) -> T:
    """Run a scenario with a bound, so a hang fails instead of blocking the suite."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout=60)

    return asyncio.run(bounded())


def ws_url(server: LiveServer, cursor: int | None = None) -> str:
    url = server.url.replace("http://", "ws://") + PATH
    return url if cursor is None else f"{url}?cursor={cursor}"


def ws_base(server: LiveServer) -> str:
    """The XRPC base as a WebSocket URL, as the SDK's subscription client wants it."""
    return server.url.replace("http://", "ws://") + "/xrpc"


def rows(server: LiveServer, after: int = 0) -> list[SeqEvent]:
    return server.services.views.seq_after(after, 1_000_000)


def write_notes(server: LiveServer, did: str, count: int, size: int = 0) -> None:
    """`count` commits straight through the group committer (as the HTTP handlers do)."""
    host, committer = server.services.host, server.services.committer
    for n in range(count):
        record = {"$type": NOTE, "n": n, "pad": "x" * size}
        committer.apply_writes(did, [RecordWrite("create", NOTE, host.clock.next(), record)])


def seq_of(frame: bytes) -> int:
    seq: int = split_frame(frame)[1]["seq"]
    return seq


async def read_until(websocket: ClientConnection, last_seq: int) -> list[bytes]:
    """Every message until the one carrying `last_seq`."""
    frames: list[bytes] = []
    while True:
        frame = await asyncio.wait_for(websocket.recv(), WAIT)
        assert isinstance(frame, bytes)
        frames.append(frame)
        body = split_frame(frame)[1]
        if body.get("seq", 0) >= last_seq:
            return frames


@contextmanager
def extra_server(tmp_path: Path, **options: Any) -> Iterator[LiveServer]:
    """A second live server over its own data directory, with uvicorn `options`."""
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "extra",
        hostname="localhost",
        port=port,
        handle_domains=(".test",),
        fast_password_hashing=True,
        plc_url=None,
    )
    services = build_services(settings)
    try:
        with (
            serve(build_app(services), port, **options) as url,
            httpx.Client(base_url=url, timeout=30) as http,
        ):
            yield LiveServer(url, services, settings.data_dir, http)
    finally:
        services.close()


@pytest.fixture(scope="module")
def history(server: LiveServer) -> list[Account]:
    """Two accounts with a few commits each (so the stream has every kind of event)."""
    accounts = [server.create_account("fh"), server.create_account("fh")]
    for account in accounts:
        write_notes(server, account.did, 3)
    return accounts


# -- HTTP without upgrade --------------------------------------------------------------------


def test_plain_get_without_upgrade_is_426_and_other_methods_405(server: LiveServer) -> None:
    get = server.http.get(PATH)
    assert get.status_code == 426
    assert get.json()["error"] == "UpgradeRequired"
    assert server.http.post(PATH).status_code == 405


# -- what every reader sees ------------------------------------------------------------------


def test_frames_from_cursor_zero_equal_the_seq_view_rows_one_for_one(
    server: LiveServer, history: list[Account]
) -> None:
    expected = rows(server)

    async def scenario() -> list[bytes]:
        async with connect(ws_url(server, 0), compression=None) as websocket:
            return await read_until(websocket, expected[-1].seq)

    assert run(scenario()) == [row.frame for row in expected]


def test_sdk_firehose_client_reads_every_frame_from_cursor_zero(
    server: LiveServer, history: list[Account]
) -> None:
    expected = rows(server)
    seen: list[tuple[int, str]] = []
    client = FirehoseSubscribeReposClient({"cursor": 0}, base_uri=ws_base(server))

    def on_message(message: Any) -> None:
        parsed = parse_subscribe_repos_message(message)
        seen.append((parsed.seq, message.type))
        if parsed.seq >= expected[-1].seq:
            client.stop()

    thread = threading.Thread(target=client.start, args=(on_message,), daemon=True)
    thread.start()
    thread.join(WAIT)
    client.stop()
    assert not thread.is_alive()
    assert seen == [(row.seq, row.kind) for row in expected]


def _consumer(server: LiveServer, cursor: int | None, **options: Any) -> FirehoseConsumer:
    guard = AddressGuard(allow_private=True)
    resolver = Resolver(
        HttpPlcClient(f"{server.url}/plc", guard=guard), ResolverConfig(allow_private=True)
    )
    source = WebSocketFrameSource(server.url)
    return FirehoseConsumer(source, ResolverSigningKeys(resolver), cursor=cursor, **options)


def test_our_consumer_verifies_every_commit_from_cursor_zero(
    server: LiveServer, history: list[Account]
) -> None:
    expected = rows(server)
    consumer = _consumer(server, 0)
    seen: list[FirehoseEvent] = []

    async def handler(event: FirehoseEvent) -> None:
        seen.append(event)
        if not isinstance(event, InfoEvent) and event.seq >= expected[-1].seq:
            consumer.stop()

    run(consumer.run(handler))
    assert [event.seq for event in seen if not isinstance(event, InfoEvent)] == [
        row.seq for row in expected
    ]
    commits = [event for event in seen if isinstance(event, CommitEvent)]
    assert sum(1 for event in commits if event.ops) >= 6
    assert any(isinstance(event, SyncEvent) for event in seen)
    for account in history:  # the verified chain ends at each repo's current head
        head = server.services.views.get_head(account.did)
        assert head is not None
        assert consumer.states[account.did].rev == head.rev
        assert consumer.states[account.did].data == head.data


# -- cutover ----------------------------------------------------------------------------------


def test_writers_during_backfill_cause_no_loss_no_duplicate_and_increasing_seq(
    server: LiveServer, history: list[Account]
) -> None:
    writers = [server.create_account("cw") for _ in range(3)]
    write_notes(server, writers[0].did, 300)
    hub = server.services.hub
    saved_page = hub.page_size
    hub.page_size = 7  # many backfill pages, many chances to meet the live stream

    async def scenario() -> tuple[list[bytes], int]:
        async with connect(ws_url(server, 0), compression=None, max_queue=4) as websocket:
            frames = [await asyncio.wait_for(websocket.recv(), WAIT)]
            received_at_start = len(frames)
            threads = [
                asyncio.to_thread(write_notes, server, account.did, 40) for account in writers
            ]
            writing = asyncio.gather(*threads)
            receiving: asyncio.Future[Any] | None = None
            while not writing.done():
                receiving = receiving or asyncio.ensure_future(websocket.recv())
                done, _ = await asyncio.wait({receiving, writing}, timeout=WAIT, return_when=FIRST)
                assert done, "neither a frame nor the end of the writes came"
                if receiving in done:
                    frames.append(receiving.result())
                    receiving = None
            await writing
            last = server.seq()
            while seq_of(frames[-1]) < last:
                receiving = receiving or asyncio.ensure_future(websocket.recv())
                frames.append(await asyncio.wait_for(receiving, WAIT))
                receiving = None
            if receiving is not None:
                receiving.cancel()
            return frames, received_at_start

    try:
        frames, received_at_start = run(scenario())
    finally:
        hub.page_size = saved_page
    expected = rows(server)
    assert received_at_start < len(expected) - 120  # the writers started mid-backfill
    got = [seq_of(frame) for frame in frames]
    assert got == sorted(set(got))  # strictly increasing: no duplicate, no reordering
    assert frames == [row.frame for row in expected]  # and nothing lost


# -- cursor errors and the retention window ----------------------------------------------------


def test_future_cursor_is_an_error_frame_then_a_policy_close(server: LiveServer) -> None:
    future = server.seq() + 1000

    async def scenario() -> tuple[bytes, int | None]:
        async with connect(ws_url(server, future), compression=None) as websocket:
            frame = await asyncio.wait_for(websocket.recv(), WAIT)
            assert isinstance(frame, bytes)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(websocket.recv(), WAIT)
            return frame, websocket.close_code

    frame, code = run(scenario())
    assert split_frame(frame) == (
        {"op": -1},
        {"error": "FutureCursor", "message": "Cursor in the future."},
    )
    assert code == 1008


def test_future_cursor_stops_the_sdk_client_and_our_consumer(server: LiveServer) -> None:
    future = server.seq() + 1000
    client = FirehoseSubscribeReposClient({"cursor": future}, base_uri=ws_base(server))
    with pytest.raises(SubscriptionError, match="FutureCursor"):
        client.start(lambda message: None)

    async def ignore(event: FirehoseEvent) -> None:
        return None

    with pytest.raises(FutureCursorError):
        run(_consumer(server, future).run(ignore))


def test_malformed_cursor_is_an_invalid_request_error_frame(server: LiveServer) -> None:
    async def scenario() -> bytes:
        async with connect(ws_url(server) + "?cursor=-1", compression=None) as websocket:
            frame = await asyncio.wait_for(websocket.recv(), WAIT)
            assert isinstance(frame, bytes)
            return frame

    header, body = split_frame(run(scenario()))
    assert header == {"op": -1}
    assert body["error"] == "InvalidRequest"


def _boundary_between(server: LiveServer, write_old: Callable[[], None]) -> tuple[int, str]:
    """Write "old" events, then new ones until their time differs; (first new seq, its time)."""
    write_old()
    last_old = rows(server)[-1]
    account = server.create_account("new")
    new = [row for row in rows(server, last_old.seq) if row.time > last_old.time]
    while not new:
        write_notes(server, account.did, 1)
        new = [row for row in rows(server, last_old.seq) if row.time > last_old.time]
    return new[0].seq, new[0].time


def _retention_ends_at(server: LiveServer, horizon: str) -> None:
    """Make the hub's window start exactly at `horizon`."""
    start = datetime.strptime(horizon, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    server.services.hub.retention = timedelta(hours=1)
    server.services.hub.clock = lambda: start + timedelta(hours=1)


def test_cursor_older_than_the_window_gets_outdated_info_then_the_oldest_retained(
    tmp_path: Path,
) -> None:
    with extra_server(tmp_path) as server:
        account = server.create_account("old")
        first_new, horizon = _boundary_between(server, lambda: write_notes(server, account.did, 5))
        _retention_ends_at(server, horizon)
        last = server.seq()

        async def scenario() -> list[bytes]:
            async with connect(ws_url(server, 1), compression=None) as websocket:
                return await read_until(websocket, last)

        info, *frames = run(scenario())
        assert split_frame(info) == (
            {"op": 1, "t": "#info"},
            {
                "name": "OutdatedCursor",
                "message": "Requested cursor exceeded limit. Possibly missing events",
            },
        )
        assert [seq_of(frame) for frame in frames] == [
            row.seq for row in rows(server, first_new - 1)
        ]


def test_pruning_drops_old_rows_and_cursor_zero_then_starts_at_the_oldest_kept(
    tmp_path: Path,
) -> None:
    with extra_server(tmp_path) as server:
        account = server.create_account("old")
        first_new, horizon = _boundary_between(server, lambda: write_notes(server, account.did, 5))
        _retention_ends_at(server, horizon)
        deleted = run(server.services.hub.prune())
        kept = rows(server)
        assert deleted == first_new - 1
        assert kept[0].seq == first_new
        server.services.hub.retention = timedelta(days=3)  # what is left is well inside
        server.services.hub.clock = lambda: datetime.now(UTC)

        async def scenario() -> list[bytes]:
            async with connect(ws_url(server, 0), compression=None) as websocket:
                return await read_until(websocket, kept[-1].seq)

        info, *frames = run(scenario())
        assert split_frame(info)[1]["name"] == "OutdatedCursor"
        assert frames == [row.frame for row in kept]
        assert server.services.store.views.max_seq() == kept[-1].seq


# -- slow consumers -----------------------------------------------------------------------------


async def _stuck_client(url: str) -> ClientConnection:
    """A client that reads almost nothing: a tiny receive buffer and a one-message queue."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await connect(url, sock=sock, compression=None, max_queue=1)


def test_a_stuck_consumer_gets_consumer_too_slow_while_others_get_everything(
    server: LiveServer, history: list[Account]
) -> None:
    hub = server.services.hub
    saved = hub.max_queue
    hub.max_queue = 10
    account = server.create_account("slow")
    start = server.seq()

    async def joined(before: frozenset[Subscription]) -> Subscription:
        deadline = asyncio.get_running_loop().time() + WAIT
        while not hub.subscriptions - before:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        (new,) = hub.subscriptions - before
        return new

    async def scenario() -> tuple[list[int], list[bytes], int | None, bool]:
        healthy = await connect(ws_url(server), compression=None)
        healthy_subscription = await joined(frozenset())
        before = hub.subscriptions
        stuck = await _stuck_client(ws_url(server))
        stuck_subscription = await joined(before)
        received: list[int] = []
        for _ in range(3000):  # until the stuck one overflows, in lockstep with the healthy one
            await asyncio.to_thread(write_notes, server, account.did, 1, 8000)
            frame = await asyncio.wait_for(healthy.recv(), WAIT)
            assert isinstance(frame, bytes)
            received.append(seq_of(frame))
            if stuck_subscription.failure is not None:
                break
        assert isinstance(stuck_subscription.failure, ConsumerTooSlow)
        assert stuck_subscription not in hub.subscriptions  # detached at once
        backlog: list[bytes] = []
        with pytest.raises(ConnectionClosed):
            while True:
                message = await asyncio.wait_for(stuck.recv(), WAIT)
                assert isinstance(message, bytes)
                backlog.append(message)
        still_there = healthy_subscription in hub.subscriptions
        await healthy.close()
        return received, backlog, stuck.close_code, still_there

    try:
        received, backlog, code, healthy_still_subscribed = run(scenario())
    finally:
        hub.max_queue = saved
    assert healthy_still_subscribed
    assert received == list(range(start + 1, server.seq() + 1))  # the healthy one: everything
    *frames, error = backlog
    assert split_frame(error)[1]["error"] == "ConsumerTooSlow"
    assert code == 1008
    got = [seq_of(frame) for frame in frames]
    assert got == list(range(start + 1, start + 1 + len(got)))  # a prefix: nothing skipped


def test_a_client_that_disconnects_while_idle_is_detached(server: LiveServer) -> None:
    hub = server.services.hub
    before = hub.subscriber_count

    async def scenario() -> int:
        async with connect(ws_url(server), compression=None):
            deadline = asyncio.get_running_loop().time() + WAIT
            while hub.subscriber_count == before:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.01)
            during = hub.subscriber_count
        deadline = asyncio.get_running_loop().time() + WAIT
        while hub.subscriber_count > before:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        return during

    assert run(scenario()) == before + 1


# -- the plain ASGI path and keepalive -----------------------------------------------------------


def _raw_handshake(url: str) -> socket.socket:
    host_port = url.split("://", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    sock = socket.create_connection((host, int(port)), timeout=WAIT)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {PATH} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(4096)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def test_without_the_raw_extension_frames_go_through_plain_asgi_sends_and_pings_flow(
    tmp_path: Path,
) -> None:
    options = {"ws": "websockets-sansio", "ws_ping_interval": 0.1, "ws_ping_timeout": 5.0}
    with extra_server(tmp_path, **options) as server:
        account = server.create_account("plain")
        write_notes(server, account.did, 3)
        expected = rows(server)

        async def scenario() -> list[bytes]:
            async with connect(ws_url(server, 0), compression=None) as websocket:
                return await read_until(websocket, expected[-1].seq)

        assert run(scenario()) == [row.frame for row in expected]
        sock = _raw_handshake(server.url)  # an idle subscriber: the server pings it
        try:
            header = sock.recv(2)
            assert header[0] & 0x0F == 0x9
        finally:
            sock.close()


def test_idle_subscriber_on_the_raw_path_is_pinged(tmp_path: Path) -> None:
    with extra_server(tmp_path, ws_ping_interval=0.1, ws_ping_timeout=5.0) as server:
        sock = _raw_handshake(server.url)
        try:
            header = sock.recv(2)
            assert header[0] & 0x0F == 0x9
        finally:
            sock.close()
