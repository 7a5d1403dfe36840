"""The scratch store's writers take turns across processes, through the lock file."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest

from adapters.storage.scratch_view_store import ScratchViewStore, WorkerWriterOpener
from application.view_batch import ViewBatch

HOLD = 0.5


def _hold_the_lock(path: str, held: multiprocessing.synchronize.Event) -> None:
    writer = WorkerWriterOpener(path)()
    with writer._lock:
        held.set()
        time.sleep(HOLD)


def test_a_write_waits_while_a_worker_holds_the_lock_then_lands(tmp_path: Path) -> None:
    scratch = ScratchViewStore(tmp_path / "scratch.sqlite")
    context = multiprocessing.get_context("spawn")
    held = context.Event()
    worker = context.Process(target=_hold_the_lock, args=(str(scratch.path), held))
    worker.start()
    try:
        assert held.wait(30), "the worker never took the lock"
        started = time.monotonic()
        batch = ViewBatch()
        batch.blocks = {b"\x01\x71\x12\x20" + bytes(32): b"\xa0"}
        scratch.write(batch)
        waited = time.monotonic() - started
    finally:
        worker.join(30)
    assert waited >= HOLD / 2, f"the write did not wait for the worker ({waited:.3f} s)"
    with scratch.reads.cursor() as cur:
        cur.execute("SELECT count(*) FROM repo_blocks")
        assert cur.fetchone()[0] == 1
    scratch.close()
    assert not list(tmp_path.iterdir())


def test_a_worker_writes_blocks_and_seq_rows_into_the_shared_file(tmp_path: Path) -> None:
    scratch = ScratchViewStore(tmp_path / "scratch.sqlite")
    writer = scratch.shard_opener()()
    batch = ViewBatch()
    batch.blocks = {b"\x01\x71\x12\x20" + bytes([i]) * 32: bytes([i]) for i in range(3)}
    batch.seq_events = [
        {"seq": 7, "did": "did:plc:x", "kind": "#commit", "time": "2024-01-01T00:00:00.000Z",
         "frame": b"frame"}
    ]  # fmt: skip
    writer.write(batch)
    again = ViewBatch()
    again.blocks = batch.blocks
    writer.write(again)  # a block seen again keeps one row
    with pytest.raises(sqlite3.IntegrityError):
        writer.write(batch)  # a seq written twice is a bug, and its transaction rolls back
    again.blocks = {b"\x01\x71\x12\x20" + bytes([9]) * 32: b"\x09"}
    writer.write(again)
    with scratch.reads.cursor() as cur:
        cur.execute("SELECT count(*) FROM repo_blocks")
        assert cur.fetchone()[0] == 4
        cur.execute("SELECT seq, frame FROM seq_events")
        assert [tuple(row) for row in cur.fetchall()] == [(7, b"frame")]
    scratch.close()


def test_the_scratch_store_has_the_view_tables_and_no_secondary_index(tmp_path: Path) -> None:
    scratch = ScratchViewStore(tmp_path / "scratch.sqlite")
    with scratch.reads.cursor() as cur:
        cur.execute("SELECT type, name FROM sqlite_master WHERE sql IS NOT NULL")
        objects = {(kind, name) for kind, name in cur.fetchall()}
    scratch.close()
    assert {name for kind, name in objects if kind == "table"} >= {
        "repo_blocks", "records", "repo_heads", "accounts", "seq_events"
    }  # fmt: skip
    assert not {name for kind, name in objects if kind == "index"}, objects
