"""Postgres's block index kept behind the log (ADR 0014), against the real server: a commit
writes no block row, its blocks are readable at once, another process's commits are read from
the log and indexed, and the mark never passes a block it does not cover."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.store import Store, postgres_store
from application.log_blocks import blocks_of
from application.repo_host.app import RepoHost
from domain.crypto.k256 import K256Keypair
from domain.data.cid import CID
from domain.repo.writes import RecordWrite
from tests.integration.stores import PG_URL, pg_schema

ROOT = Path(__file__).resolve().parents[2]
DID = "did:plc:" + "p" * 24
POST = "app.bsky.feed.post"


def _post(host: RepoHost, text: str = "hi") -> bytes:
    record = {"$type": POST, "text": text, "createdAt": "2024-01-01T00:00:00Z"}
    commit = host.apply_writes(DID, [RecordWrite("create", POST, host.clock.next(), record)])
    return commit.commit.raw


@pytest.fixture
def opened() -> Iterator[tuple[Store, RepoHost, str]]:
    with pg_schema() as schema:
        store = postgres_store(PG_URL, schema=schema)
        assert store.indexer is not None
        store.indexer.close()  # passes run when a test says
        store.indexer = None
        keys = SqlKeyStore(engine_for("postgresql", PG_URL, schema))
        host = RepoHost(store.env, blocks=store.views, keys=keys, accounts=store.views)
        host.create_account(DID, "pgblocks.test", None, K256Keypair.generate())
        try:
            yield store, host, schema
        finally:
            host.close()
            store.close()


def _events(host: RepoHost) -> str:
    name: str = host.recorder.events_table_name  # type: ignore[attr-defined]
    return name


def _first(conn: psycopg.Connection[Any], sql: str, *params: object) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def _indexed(schema: str) -> dict[bytes, bytes]:
    with psycopg.connect(PG_URL) as conn:
        rows = conn.execute(f"SELECT cid, data FROM {schema}.repo_blocks").fetchall()
    return {bytes(c): bytes(d) for c, d in rows}


def _assert_complete_below_mark(schema: str, events: str) -> None:
    with psycopg.connect(PG_URL) as conn:
        mark = _first(conn, f"SELECT upto FROM {schema}.block_index_mark")
        rows = conn.execute(
            f"SELECT topic, state FROM {schema}.{events} WHERE notification_id <= %s", (mark,)
        ).fetchall()
    indexed = _indexed(schema)
    for topic, state in rows:
        for cid, block in blocks_of(topic, bytes(state)):
            assert indexed.get(cid) == block, f"block {cid.hex()} below the mark is not indexed"


def test_a_commit_writes_no_block_row_and_is_readable_at_once(
    opened: tuple[Store, RepoHost, str],
) -> None:
    store, host, schema = opened
    commit = _post(host)
    assert commit not in _indexed(schema)
    held = store.views.get_block(CID(commit))
    assert held is not None and store.block_index is not None
    store.block_index.catch_up()
    assert _indexed(schema)[commit] == held
    assert len(store.block_index.pending) == 0
    _assert_complete_below_mark(schema, _events(host))


def test_another_process_commits_are_read_from_the_log_then_indexed(
    opened: tuple[Store, RepoHost, str],
) -> None:
    store, host, schema = opened
    _post(host, "ours")
    child = textwrap.dedent(
        f"""
        from adapters.storage.sql_key_store import SqlKeyStore, engine_for
        from adapters.storage.store import postgres_store
        from application.repo_host.app import RepoHost
        from domain.repo.writes import RecordWrite
        store = postgres_store({PG_URL!r}, schema={schema!r}, create=False)
        keys = SqlKeyStore(engine_for("postgresql", {PG_URL!r}, {schema!r}))
        host = RepoHost(store.env, blocks=store.views, keys=keys)
        record = {{"$type": "{POST}", "text": "theirs", "createdAt": "2024-01-01T00:00:00Z"}}
        write = RecordWrite("create", "{POST}", "3kzzzzzzzzz22", record)
        print(host.apply_writes("{DID}", [write]).commit.raw.hex())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], cwd=ROOT, capture_output=True, timeout=60, check=True
    )
    theirs = bytes.fromhex(done.stdout.decode().split()[-1])
    assert theirs not in _indexed(schema)
    assert store.views.get_blocks([CID(theirs)]).keys() == {CID(theirs)}
    assert store.block_index is not None
    store.block_index.catch_up()
    assert theirs in _indexed(schema)
    _post(host, "ours again")  # over the other's commit: a stale head, decided again
    store.block_index.catch_up()
    _assert_complete_below_mark(schema, _events(host))


def test_a_schema_from_before_the_index_gets_its_mark_at_the_logs_end(
    opened: tuple[Store, RepoHost, str],
) -> None:
    """Before ADR 0014 every commit wrote its blocks: a schema without a mark is complete
    to the log's end, and the recorder's table set-up says so."""
    store, host, schema = opened
    _post(host)
    assert store.block_index is not None
    store.block_index.catch_up()  # the blocks are all there, as the old writer left them
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {schema}.block_index_mark")
        end = _first(conn, f"SELECT MAX(notification_id) FROM {schema}.{_events(host)}")
    keys = SqlKeyStore(engine_for("postgresql", PG_URL, schema))
    again = RepoHost(store.env, blocks=store.views, keys=keys, accounts=store.views)
    try:
        with psycopg.connect(PG_URL) as conn:
            mark = _first(conn, f"SELECT upto FROM {schema}.block_index_mark")
        assert mark == end > 0
        _assert_complete_below_mark(schema, _events(host))
    finally:
        again.close()
