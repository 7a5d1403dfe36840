"""Where one sequential commit's time goes, end to end in process on SQLite, part by part.

Each part is wrapped with a timer (a wrapper costs under a microsecond, against parts of tens
to hundreds) and the totals are divided by the number of commits. Parts nest: `save` holds
the encoding, the recorder and `COMMIT`; `views.write` holds the fold and the statements. The
floor beside them is `bench/store.py`'s commit-shaped floor on the same machine.

Run: `.venv/bin/python -m bench.commit_parts [--commits N]`
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventsourcing import persistence

import application.repo_host.app as host_module
import application.repo_host.repo_aggregate as repo_aggregate
import application.view_batch as view_batch
import domain.crypto.k256 as k256
import domain.repo.commit_builder as commit_builder
import domain.repo.mst as mst
from adapters.storage import sqlite_recorder, view_writer
from adapters.storage.store import sqlite_store
from bench._timing import report
from bench.store import _accounts, _host, sequential

TOTALS: defaultdict[str, float] = defaultdict(float)

PARTS: tuple[tuple[Any, str, str], ...] = (
    (host_module.RepoHost, "apply_writes", "commit"),
    (host_module, "prepare_writes", "validate_and_encode_record"),
    (host_module.RepoHost, "_writable", "account_check"),
    (host_module, "build_commit", "decide"),
    (mst.Mst, "put", "decide.mst_put"),
    (mst.Mst, "flush", "decide.mst_flush"),
    (commit_builder, "covering_proofs", "decide.proofs"),
    (commit_builder, "_signed", "decide.sign_and_encode_commit"),
    (k256.K256Keypair, "sign", "decide.sign_and_encode_commit.k256"),
    (repo_aggregate.Repo, "record_commit", "aggregate_event_with_car_slice"),
    (host_module.RepoHost, "save", "save"),
    (host_module, "project", "save.project"),
    (persistence.Mapper, "to_stored_event", "save.encode_event"),
    (sqlite_recorder.QuireSQLiteRecorder, "_insert_events", "save.insert"),
    (view_writer.ViewWriter, "write", "save.insert.views"),
    (view_batch.ViewBatch, "of", "save.insert.views.fold_and_frame"),
)
SQL_LABELS = ("sql.execute", "sql.executemany", "sql.COMMIT")
"""Timed on the recorder's write connection (`_TimedConnection`): sqlite3's own types cannot
be wrapped in place."""


class _TimedCursor:
    """A sqlite3 cursor whose statements are timed; `COMMIT` apart from the others."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, *params: Any) -> sqlite3.Cursor:
        label = "sql.COMMIT" if sql == "COMMIT" else "sql.execute"
        cursor: sqlite3.Cursor = _timed(self._cursor.execute, label)(sql, *params)
        return cursor

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        cursor: sqlite3.Cursor = _timed(self._cursor.executemany, "sql.executemany")(sql, rows)
        return cursor

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid


class _TimedConnection:
    """The recorder's write connection, lending timed cursors."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.rollback = conn.rollback
        self.close = conn.close

    def cursor(self) -> _TimedCursor:
        return _TimedCursor(self._conn.cursor())

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction


def _timed(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TOTALS[label] += time.perf_counter() - start

    return timed


def main() -> None:
    """Warm up, wrap every part, run `--commits` sequential commits, print µs per commit."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = sqlite_store(Path(tmp) / "data")
        host = _host(store, None)
        did = _accounts(host, 1)[0]
        sequential(host, did, 500)
        for owner, name, label in PARTS:
            setattr(owner, name, _timed(getattr(owner, name), label))
        recorder = host.recorder
        recorder._writer = _TimedConnection(recorder._writer)  # type: ignore[attr-defined]
        TOTALS.clear()
        cpu = time.process_time()
        sequential(host, did, args.commits)
        cpu = time.process_time() - cpu
        report("commit_cpu", cpu / args.commits * 1e6, "us/commit")
        for label in [label for _, _, label in PARTS] + list(SQL_LABELS):
            report(f"part.{label}", TOTALS[label] / args.commits * 1e6, "us/commit")
        host.close()
        store.close()


if __name__ == "__main__":
    main()
