"""What a SQLite data directory's log and block index hold, read from the files themselves."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from application.log_blocks import blocks_of


def indexed(data: Path) -> dict[bytes, bytes]:
    """The rows of the block index file."""
    with sqlite3.connect(data / "quire-blocks.sqlite") as conn:
        return {bytes(c): bytes(d) for c, d in conn.execute("SELECT cid, data FROM repo_blocks")}


def mark(data: Path) -> int:
    """The block index's mark."""
    with sqlite3.connect(data / "quire-blocks.sqlite") as conn:
        return int(conn.execute("SELECT upto FROM block_index_mark").fetchone()[0])


def log_end(data: Path) -> int:
    """The last seq in the log."""
    with sqlite3.connect(data / "quire.sqlite") as conn:
        return int(conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0])


def logged(data: Path, upto: int | None = None) -> dict[bytes, bytes]:
    """Every block the log's events (up to seq `upto`) carry, decoded from the log itself."""
    last = 2**62 if upto is None else upto
    with sqlite3.connect(data / "quire.sqlite") as conn:
        rows = conn.execute(
            "SELECT topic, state FROM stored_events WHERE rowid <= ?", (last,)
        ).fetchall()
    out: dict[bytes, bytes] = {}
    for topic, state in rows:
        out.update(blocks_of(topic, state))
    return out


def assert_complete_below_mark(data: Path) -> None:
    """Every block of every event up to the mark is in the index, byte for byte."""
    held = indexed(data)
    for cid, block in logged(data, mark(data)).items():
        assert held.get(cid) == block, f"block {cid.hex()} below the mark is not indexed"
