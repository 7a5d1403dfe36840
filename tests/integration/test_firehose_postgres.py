"""The firehose over Postgres across processes: written through one server, streamed by another.

Two `quire serve` processes share one Postgres schema. Accounts and records are written
through the first; the second streams them, woken by Postgres LISTEN/NOTIFY (eventsourcing's
recorder NOTIFYs the events table's channel in every insert transaction). Under `CI=true`
an unreachable Postgres fails these tests instead of skipping them.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect

from adapters.storage.pg_notify_listener import PgNotifyListener
from domain.firehose.frames import split_frame
from tests.integration.live_server import free_port
from tests.integration.stores import PG_URL, pg_schema

PATH = "/xrpc/com.atproto.sync.subscribeRepos"
PASSWORD = "correct horse battery staple"
QUIRE = Path(sys.executable).with_name("quire")
WAIT = 30.0


@contextmanager
def quire_serve(data_dir: Path, schema: str) -> Iterator[str]:
    """`quire serve` on Postgres in a subprocess; yields its URL once healthy."""
    port = free_port()
    env = os.environ | {"QUIRE_FAST_PASSWORD_HASHING": "1", "QUIRE_DB_SCHEMA": schema}
    command = [str(QUIRE), "serve", "--port", str(port), "--data", str(data_dir)]
    command += ["--database-url", PG_URL]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "quire serve did not become healthy"
            try:
                if httpx.get(f"{url}/xrpc/_health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def schema() -> Iterator[str]:
    with pg_schema() as name:
        yield name


@pytest.fixture(scope="module")
def servers(schema: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(writer URL, streamer URL): two processes over the same schema and secrets."""
    data_dir = tmp_path_factory.mktemp("pg-firehose")
    with quire_serve(data_dir, schema) as writer, quire_serve(data_dir, schema) as streamer:
        yield writer, streamer


def seq_rows(schema: str) -> list[tuple[int, bytes]]:
    with psycopg.connect(PG_URL, options=f"-c search_path={schema}") as conn:
        rows = conn.execute("SELECT seq, frame FROM seq_events ORDER BY seq").fetchall()
    return [(int(seq), bytes(frame)) for seq, frame in rows]


def create_account(http: httpx.Client, handle: str) -> tuple[str, dict[str, str]]:
    response = http.post(
        "/xrpc/com.atproto.server.createAccount",
        json={"handle": handle, "password": PASSWORD, "email": f"{handle}@example.com"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return body["did"], {"authorization": f"Bearer {body['accessJwt']}"}


def create_note(http: httpx.Client, did: str, auth: dict[str, str], n: int) -> None:
    record = {"$type": "com.example.note", "n": n}
    response = http.post(
        "/xrpc/com.atproto.repo.createRecord",
        headers=auth,
        json={"repo": did, "collection": "com.example.note", "record": record},
    )
    assert response.status_code == 200, response.text


def test_a_listener_hears_a_notify_from_another_connection(schema: str) -> None:
    async def scenario() -> int:
        heard = asyncio.Event()
        listener = PgNotifyListener(PG_URL, f"{schema}_probe", heard.set)
        await listener.start()
        await asyncio.wait_for(listener.listening.wait(), WAIT)
        heard.clear()  # the listener also fires once on (re)connection
        async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
            await conn.execute(f"NOTIFY {schema}_probe")
        await asyncio.wait_for(heard.wait(), WAIT)
        await listener.stop()
        return 1

    assert asyncio.run(scenario()) == 1


def test_writes_through_one_process_stream_live_from_the_other(
    servers: tuple[str, str], schema: str
) -> None:
    writer, streamer = servers
    stream = streamer.replace("http://", "ws://") + PATH

    async def scenario() -> list[float]:
        latencies: list[float] = []
        async with connect(stream, compression=None) as websocket:
            with httpx.Client(base_url=writer, timeout=WAIT) as http:
                did, auth = create_account(http, f"pgw{os.getpid() % 10000}.test")
                for _ in range(4):  # #identity, #account, #commit, #sync
                    await asyncio.wait_for(websocket.recv(), WAIT)
                for n in range(10):
                    await asyncio.to_thread(create_note, http, did, auth, n)
                    written = time.monotonic()
                    frame = await asyncio.wait_for(websocket.recv(), WAIT)
                    latencies.append(time.monotonic() - written)
                    assert isinstance(frame, bytes)
                    assert split_frame(frame)[0]["t"] == "#commit"
        return latencies

    latencies = asyncio.run(scenario())
    # The streamer polls only every 0.5 s: without NOTIFY, ten frames in a row would not all
    # arrive within 0.3 s of their write (a chance of 0.6^10).
    assert max(latencies) < 0.3, latencies


def test_both_processes_replay_the_same_frames_as_the_shared_seq_view(
    servers: tuple[str, str], schema: str
) -> None:
    with httpx.Client(base_url=servers[0], timeout=WAIT) as http:
        did, auth = create_account(http, f"pgr{os.getpid() % 10000}.test")
        create_note(http, did, auth, 0)
    expected = seq_rows(schema)

    async def read_all(url: str) -> list[bytes]:
        frames: list[bytes] = []
        async with connect(url.replace("http://", "ws://") + PATH + "?cursor=0") as websocket:
            while len(frames) < len(expected):
                frame = await asyncio.wait_for(websocket.recv(), WAIT)
                assert isinstance(frame, bytes)
                frames.append(frame)
        return frames

    for url in servers:
        assert asyncio.run(read_all(url)) == [frame for _, frame in expected]
