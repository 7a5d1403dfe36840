"""The SQLite store's checkpointer: commits reach the database file without any commit
checkpointing, and the write-ahead log stops growing once it is copied."""

from __future__ import annotations

import time
from pathlib import Path

from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.store import Store, sqlite_store
from adapters.storage.wal_checkpointer import INTERVAL
from application.repo_host.app import RepoHost
from domain.crypto.k256 import K256Keypair
from domain.repo.writes import RecordWrite

DID = "did:plc:" + "c" * 24
NOTE = "com.example.note"


def _host(store: Store) -> RepoHost:
    keys = SqlKeyStore(engine_for("sqlite", store.conninfo))
    return RepoHost(store.env, blocks=store.views, keys=keys, accounts=store.views)


def _write(host: RepoHost, start: int, count: int) -> None:
    for i in range(start, start + count):
        host.apply_writes(
            DID,
            [RecordWrite("create", NOTE, f"n{i:06d}", {"$type": NOTE, "n": i, "pad": "x" * 200})],
        )


def _settle(store: Store) -> None:
    assert store.checkpointer is not None
    seen = store.checkpointer.checkpoints
    deadline = time.monotonic() + 30
    while store.checkpointer.checkpoints < seen + 2 and time.monotonic() < deadline:
        time.sleep(INTERVAL / 2)


def test_commits_reach_the_database_file_off_the_commit_path(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path / "data")
    host = _host(store)
    host.create_account(DID, "wal.test", None, K256Keypair.generate())
    database = Path(store.conninfo)
    _settle(store)
    before = database.stat().st_size
    _write(host, 0, 200)  # ~4,000 log pages: far below the writer's own checkpoint threshold
    _settle(store)
    assert database.stat().st_size > before + 200 * 500  # the pages were copied in
    checkpointer = store.checkpointer
    assert checkpointer is not None
    host.close()
    store.close()
    assert store.checkpointer is None
    assert not checkpointer._thread.is_alive()


def test_the_log_is_reused_from_its_start_once_copied(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path / "data")
    host = _host(store)
    host.create_account(DID, "wal2.test", None, K256Keypair.generate())
    wal = Path(store.conninfo + "-wal")
    sizes = []
    for burst in range(5):
        _write(host, burst * 100, 100)
        _settle(store)
        sizes.append(wal.stat().st_size)
    host.close()
    store.close()
    # Without checkpoints the log would hold all 500 commits by the last burst.
    assert sizes[-1] < 2 * sizes[0], sizes


def test_an_auditor_opening_reads_without_a_checkpointer(tmp_path: Path) -> None:
    """`quire replay` forks its workers only when its process runs no other thread."""
    import threading

    from entrypoints.bootstrap import open_store
    from entrypoints.config import Settings

    settings = Settings(data_dir=tmp_path / "data", database_url=None)
    live = open_store(settings)
    try:
        assert live.checkpointer is not None
        before = threading.active_count()
        auditor = open_store(settings, create=False)
        assert auditor.checkpointer is None
        assert threading.active_count() == before
        auditor.close()
    finally:
        live.close()
