"""SQLite's block index kept behind the log (ADR 0014): readable at once, complete below its
mark, fed by other processes' commits, adopted from older data directories."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.storage import block_index
from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.store import Store, sqlite_store
from adapters.storage.view_writer import ViewWriter
from application.repo_host.app import RepoHost
from domain.crypto.k256 import K256Keypair
from domain.data.cid import CID
from domain.repo.writes import RecordWrite
from tests.integration.sqlite_block_files import (
    assert_complete_below_mark,
    indexed,
    log_end,
    mark,
)

ROOT = Path(__file__).resolve().parents[2]
DID = "did:plc:" + "b" * 24
POST = "app.bsky.feed.post"


def _post(host: RepoHost, did: str = DID, text: str = "hi") -> bytes:
    record = {"$type": POST, "text": text, "createdAt": "2024-01-01T00:00:00Z"}
    commit = host.apply_writes(did, [RecordWrite("create", POST, host.clock.next(), record)])
    return commit.commit.raw


def _host(store: Store) -> RepoHost:
    keys = SqlKeyStore(engine_for("sqlite", store.conninfo))
    return RepoHost(store.env, blocks=store.views, keys=keys, accounts=store.views)


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[tuple[Store, RepoHost]]:
    store = sqlite_store(tmp_path / "data", checkpoint=False)  # passes run when a test says
    host = _host(store)
    host.create_account(DID, "blocks.test", None, K256Keypair.generate())
    try:
        yield store, host
    finally:
        host.close()
        store.close()


def test_a_commit_writes_no_index_row_and_its_blocks_are_readable_at_once(
    opened: tuple[Store, RepoHost], tmp_path: Path
) -> None:
    store, host = opened
    data = tmp_path / "data"
    commit = _post(host)
    assert commit not in indexed(data), "the commit's transaction wrote no block row"
    held = store.views.get_block(CID(commit))
    assert held is not None and store.block_index is not None
    store.block_index.catch_up()
    assert indexed(data)[commit] == held
    assert len(store.block_index.pending) == 0
    assert store.views.get_block(CID(commit)) == held
    assert_complete_below_mark(data)


def test_another_process_commits_are_read_from_the_log_thenindexed(
    opened: tuple[Store, RepoHost], tmp_path: Path
) -> None:
    """An operator's command (another process, no indexer thread) commits and exits: this
    process finds its blocks at once, and its next pass indexes them from the log."""
    store, host = opened
    data = tmp_path / "data"
    _post(host, text="ours")
    child = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from adapters.storage.sql_key_store import SqlKeyStore, engine_for
        from adapters.storage.store import sqlite_store
        from application.repo_host.app import RepoHost
        from domain.repo.writes import RecordWrite
        store = sqlite_store(Path({str(data)!r}), checkpoint=False)
        host = RepoHost(store.env, blocks=store.views,
                        keys=SqlKeyStore(engine_for("sqlite", store.conninfo)))
        record = {{"$type": "{POST}", "text": "theirs", "createdAt": "2024-01-01T00:00:00Z"}}
        write = RecordWrite("create", "{POST}", "3kzzzzzzzzz22", record)
        commit = host.apply_writes("{DID}", [write])
        print(commit.commit.raw.hex())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], cwd=ROOT, capture_output=True, timeout=60, check=True
    )
    theirs = bytes.fromhex(done.stdout.decode().split()[-1])
    assert theirs not in indexed(data)
    assert store.views.get_blocks([CID(theirs)]).keys() == {CID(theirs)}
    assert store.block_index is not None
    store.block_index.catch_up()
    assert theirs in indexed(data)
    assert_complete_below_mark(data)
    # and this host, whose cached head is now stale, commits over the other's commit
    _post(host, text="ours again")
    store.block_index.catch_up()
    assert_complete_below_mark(data)


def test_a_failed_save_takes_its_blocks_back(
    opened: tuple[Store, RepoHost], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, host = opened
    assert store.block_index is not None
    before = len(store.block_index.pending)
    write = ViewWriter.write

    def write_then_fail(self: ViewWriter, cursor: object, changes: object, seqs: object) -> None:
        write(self, cursor, changes, seqs)  # type: ignore[arg-type]
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(ViewWriter, "write", write_then_fail)
    with pytest.raises(Exception, match="disk I/O error"):
        _post(host)
    assert len(store.block_index.pending) == before
    monkeypatch.undo()
    commit = _post(host)
    assert store.views.get_block(CID(commit)) is not None


def test_without_an_indexer_thread_the_writer_bounds_what_it_holds(
    opened: tuple[Store, RepoHost], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store, host = opened
    assert store.block_index is not None and store.indexer is None
    monkeypatch.setattr(block_index, "INLINE_PASS_FROM", 20)
    for i in range(20):
        _post(host, text=str(i))
        assert store.block_index.pending.blocks <= 20 + 16  # one commit past the bound, at most
    assert store.block_index.passes >= 2
    assert_complete_below_mark(tmp_path / "data")


def test_a_failing_pass_after_a_commit_does_not_fail_the_recorded_commit(
    opened: tuple[Store, RepoHost], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit is recorded before the writer's own pass runs: a pass that fails (a full
    disk under the index) must not turn an acknowledged commit into an error."""
    store, host = opened
    index = store.block_index
    assert index is not None
    monkeypatch.setattr(block_index, "INLINE_PASS_FROM", 0)

    def fail(limit: int = 0) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(index, "index_pass", fail)
    commit = _post(host)
    assert store.views.get_block(CID(commit)) is not None
    assert store.views.get_head(DID).commit.raw == commit  # type: ignore[union-attr]


def test_the_indexer_thread_indexes_and_a_clean_close_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    store = sqlite_store(data)
    host = _host(store)
    host.create_account(DID, "blocks.test", None, K256Keypair.generate())
    for i in range(5):
        _post(host, text=str(i))
    host.close()
    store.close()
    assert mark(data) == log_end(data)
    assert_complete_below_mark(data)


def test_the_indexer_thread_indexes_held_blocks_without_being_asked(tmp_path: Path) -> None:
    """A few commits are fewer than a pass waits for: it runs once they have waited long
    enough (`MAX_WAIT`), with the store still open."""
    data = tmp_path / "data"
    store = sqlite_store(data)
    host = _host(store)
    try:
        host.create_account(DID, "blocks.test", None, K256Keypair.generate())
        commit = _post(host)
        assert store.block_index is not None
        deadline = time.monotonic() + 10
        while commit not in indexed(data) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert commit in indexed(data)
        assert len(store.block_index.pending) == 0
        assert_complete_below_mark(data)
    finally:
        host.close()
        store.close()


def test_an_older_data_directory_keeps_its_index(tmp_path: Path) -> None:
    """Before ADR 0014 `repo_blocks` lived in the log's file, complete to the log's end."""
    data = tmp_path / "data"
    store = sqlite_store(data, checkpoint=False)
    host = _host(store)
    host.create_account(DID, "blocks.test", None, K256Keypair.generate())
    commit = _post(host)
    assert store.block_index is not None
    store.block_index.catch_up()
    blocks = indexed(data)
    host.close()
    store.close()
    (data / "quire-blocks.sqlite").unlink()
    with sqlite3.connect(data / "quire.sqlite") as conn:  # the old layout, by hand
        conn.execute("CREATE TABLE repo_blocks (cid BLOB PRIMARY KEY, data BLOB NOT NULL)")
        conn.executemany("INSERT INTO repo_blocks VALUES (?, ?)", blocks.items())
    end = log_end(data)

    store = sqlite_store(data, checkpoint=False)
    try:
        assert mark(data) == end
        assert indexed(data) == blocks
        with sqlite3.connect(data / "quire.sqlite") as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "repo_blocks" not in tables
        assert store.views.get_block(CID(commit)) == blocks[commit]
    finally:
        store.close()


def test_a_deleted_index_is_rebuilt_from_the_log_when_the_writer_opens(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = sqlite_store(data, checkpoint=False)
    host = _host(store)
    host.create_account(DID, "blocks.test", None, K256Keypair.generate())
    commits = [_post(host, text=str(i)) for i in range(3)]
    host.close()
    store.close()  # without an indexer thread, nothing was indexed: the log holds it all
    (data / "quire-blocks.sqlite").unlink(missing_ok=True)
    store = sqlite_store(data)  # the writer's opening catches up before anything reads
    try:
        assert mark(data) == log_end(data)
        assert set(commits) <= indexed(data).keys()
        assert_complete_below_mark(data)
    finally:
        store.close()
