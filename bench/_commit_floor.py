"""The storage floor of a commit: the rows one single-record commit writes, and nothing else.

A bare one-row INSERT says what the database costs per transaction; it does not say what
the rows of a commit cost, and those dominate (ADR 0005: nine new blocks land on random leaves
of the CID index; on SQLite they are now indexed in batches, ADR 0014). This floor writes
exactly those rows, shaped as the last commit quire wrote
(its event size, its blocks' sizes, its frame size), with quire's own compiled statements, into
a second store of the same kind whose block index is as large as the live one. No Python
domain work is done, so quire's rate divided by this one is the share of a commit that is the
database.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.storage.view_writer import ViewStatements
from domain.repo.car import split_slice

PREFILL_BATCH = 20_000


@dataclass(frozen=True, slots=True)
class CommitShape:
    """Sizes of one commit's rows: its stored event, its blocks and its firehose frame."""

    event_bytes: int
    block_sizes: tuple[int, ...]
    frame_bytes: int

    @staticmethod
    def of_last_commit(host: Any, views: Any) -> CommitShape:
        """The shape of the newest commit in `host`'s log."""
        notification = host.recorder.select_notifications(views.max_seq(), 1)[0]
        event = host.mapper.to_domain_event(notification)
        blocks = split_slice(event.blocks, event.commit)
        frame = views.seq_after(notification.id - 1, 1)[0].frame
        return CommitShape(len(notification.state), tuple(len(b) for _, b in blocks), len(frame))


def _cid() -> bytes:
    return b"\x01\x71\x12\x20" + os.urandom(32)


def _rows(shape: CommitShape, did: str, i: int) -> dict[str, Any]:
    return {
        "event": ("at://" + did, i + 1, "Repo.Committed", os.urandom(shape.event_bytes)),
        "blocks": [{"cid": _cid(), "data": os.urandom(size)} for size in shape.block_sizes],
        "record": {
            "did": did,
            "collection": "app.bsky.feed.post",
            "rkey": f"3l{i:011d}",
            "cid": _cid(),
        },
        "head": {"did": did, "commit_cid": _cid(), "rev": f"3l{i:011d}", "data_cid": _cid()},
        "seq": {"did": did, "kind": "commit", "time": "2024-01-01T00:00:00.000Z"},
        "frame": os.urandom(shape.frame_bytes),
    }


def sqlite_commit_floor(path: str, shape: CommitShape, prefill: int, n: int) -> float:
    """Commit-shaped transactions per second on a fresh SQLite file at `path`.

    As quire writes them (ADR 0014): the commit's rows in the log's file, and its blocks
    inserted in CID order into a second file every `EVERY_BLOCKS` blocks, with the same
    statement. Here the passes
    run in the same thread, between commits, so they count against the floor in full.
    """
    import sqlite3

    from adapters.storage.block_indexer import EVERY_BLOCKS
    from adapters.storage.ddl import view_ddl
    from adapters.storage.sqlite_block_index import INSERT_PACKED, pack_blocks

    sql = ViewStatements.compile("sqlite")
    conn = sqlite3.connect(path, isolation_level=None)
    index = sqlite3.connect(path + "-blocks", isolation_level=None)
    for db in (conn, index):
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
            db.execute(f"PRAGMA {pragma}")
    conn.execute("PRAGMA wal_autocheckpoint=8192")
    conn.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
        "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
    )
    for statement in view_ddl("sqlite", blocks=False):
        conn.execute(statement)
    index.execute("CREATE TABLE repo_blocks (cid BLOB PRIMARY KEY, data BLOB NOT NULL)")
    index.execute("BEGIN")
    _prefill(lambda rows: index.executemany(sql.insert_block, rows), prefill)
    index.execute("COMMIT")
    rows = [_rows(shape, "did:plc:floorfloorfloorfloor", i) for i in range(n)]
    held: dict[bytes, bytes] = {}
    start = time.perf_counter()
    for seq, row in enumerate(rows, 1):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO stored_events VALUES (?,?,?,?)", row["event"])
        conn.execute(sql.upsert_record, row["record"])
        conn.execute(sql.upsert_head, row["head"])
        conn.execute(sql.insert_seq_event, {**row["seq"], "seq": seq, "frame": row["frame"]})
        conn.execute("COMMIT")
        held.update((block["cid"], block["data"]) for block in row["blocks"])
        if len(held) >= EVERY_BLOCKS or seq == n:
            index.execute("BEGIN")
            index.execute(INSERT_PACKED, pack_blocks(held))
            index.execute("COMMIT")
            held = {}
    rate = n / (time.perf_counter() - start)
    conn.close()
    index.close()
    return rate


def postgres_commit_floor(url: str, schema: str, shape: CommitShape, prefill: int, n: int) -> float:
    """Commit-shaped transactions per second in a fresh Postgres `schema` (created here).

    Includes what eventsourcing's recorder does per transaction: the table lock that orders
    notification ids, and `RETURNING` the id. Blocks go in as quire's passes insert them
    (ADR 0014): every `EVERY_BLOCKS` blocks, in CID order, in a transaction of their own.
    """
    import psycopg

    from adapters.storage.block_indexer import EVERY_BLOCKS
    from adapters.storage.ddl import view_ddl

    sql = ViewStatements.compile("postgresql", schema)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path TO {schema}")
        conn.execute(
            "CREATE TABLE stored_events (originator_id text, originator_version bigint, "
            "topic text, state bytea, notification_id bigserial, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        for statement in view_ddl("postgresql"):
            conn.execute(statement)
        conn.autocommit = False
        with conn.cursor() as cur:

            def insert(rows: list[dict[str, Any]]) -> None:
                cur.executemany(sql.insert_block, rows)

            _prefill(insert, prefill)
            conn.commit()
            rows = [_rows(shape, "did:plc:floorfloorfloorfloor", i) for i in range(n)]
            assert sql.bulk is not None
            blocks_statement, _columns = sql.bulk["blocks"]
            held: dict[bytes, bytes] = {}
            start = time.perf_counter()
            for seq, row in enumerate(rows, 1):
                cur.execute("LOCK TABLE stored_events IN EXCLUSIVE MODE")
                cur.execute(
                    "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
                    " VALUES (%s,%s,%s,%s) RETURNING notification_id",
                    row["event"],
                )
                cur.fetchone()
                cur.execute(sql.upsert_record, row["record"])
                cur.execute(sql.upsert_head, row["head"])
                cur.execute(sql.insert_seq_event, {**row["seq"], "seq": seq, "frame": row["frame"]})
                conn.commit()
                held.update((block["cid"], block["data"]) for block in row["blocks"])
                if len(held) >= EVERY_BLOCKS or seq == n:
                    ordered = sorted(held.items())
                    cur.execute(
                        blocks_statement,
                        {"cid": [c for c, _ in ordered], "data": [d for _, d in ordered]},
                    )
                    conn.commit()
                    held = {}
            return n / (time.perf_counter() - start)


def _prefill(insert: Callable[[list[dict[str, Any]]], Any], count: int) -> None:
    """`count` random blocks, so the CID index is as deep and wide as the live one."""
    for start in range(0, count, PREFILL_BATCH):
        insert(
            [
                {"cid": _cid(), "data": os.urandom(200)}
                for _ in range(min(PREFILL_BATCH, count - start))
            ]
        )
