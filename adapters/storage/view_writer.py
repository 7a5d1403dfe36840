"""Writes `ViewChanges` with a DB-API cursor inside the event store's own transaction.

Statements are compiled once per dialect from the SQLAlchemy schema, then executed on the raw
cursor the recorder already holds: one schema, no per-call SQL compilation on the hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import bindparam

from adapters.storage import schema
from adapters.storage.pending_blocks import PendingBlocks
from application.view_batch import ViewBatch
from application.views import ViewChanges

DialectName = Literal["sqlite", "postgresql"]


def _insert(name: DialectName) -> Any:
    return sqlite.insert if name == "sqlite" else postgresql.insert


def _dialect(name: DialectName) -> Dialect:
    if name == "sqlite":
        return sqlite.dialect(paramstyle="named")
    return postgresql.psycopg.dialect(paramstyle="pyformat")  # type: ignore[no-untyped-call]


def _delete_by_record_key(table: Any) -> Any:
    """DELETE of the row keyed by (did, collection, rkey): a record, or its takedown."""
    return delete(table).where(
        table.c.did == bindparam("did"),
        table.c.collection == bindparam("collection"),
        table.c.rkey == bindparam("rkey"),
    )


@dataclass(frozen=True, slots=True)
class ViewStatements:
    """The compiled SQL of every view write, for one dialect."""

    insert_block: str
    upsert_record: str
    delete_record: str
    insert_blob_ref: str
    delete_blob_refs: str
    upsert_head: str
    upsert_account: str
    upsert_record_takedown: str
    delete_record_takedown: str
    upsert_blob_takedown: str
    delete_blob_takedown: str
    insert_seq_event: str
    bulk: dict[str, tuple[str, tuple[str, ...]]] | None = None
    """Postgres only: one `unnest` statement per table instead of a row-by-row executemany."""

    @staticmethod
    def compile(name: DialectName, db_schema: str | None = None) -> ViewStatements:
        """Compile every statement for `name`, tables qualified by `db_schema` if given."""
        ins = _insert(name)
        dialect = _dialect(name)
        translate = {None: db_schema} if db_schema else None

        def sql(stmt: Any) -> str:
            return str(
                stmt.compile(
                    dialect=dialect,
                    schema_translate_map=translate,
                    render_schema_translate=translate is not None,
                )
            )

        record = ins(schema.records)
        head = ins(schema.repo_heads)
        account = ins(schema.accounts)
        r, b = schema.records, schema.record_blobs
        rt, bt = schema.record_takedowns, schema.blob_takedowns
        record_takedown, blob_takedown = ins(rt), ins(bt)
        return ViewStatements(
            insert_block=sql(ins(schema.blocks).on_conflict_do_nothing()),
            upsert_record=sql(
                record.on_conflict_do_update(
                    index_elements=["did", "collection", "rkey"],
                    set_={"cid": record.excluded.cid},
                )
            ),
            delete_record=sql(_delete_by_record_key(r)),
            insert_blob_ref=sql(ins(b).on_conflict_do_nothing()),
            delete_blob_refs=sql(
                delete(b).where(b.c.did == bindparam("did"), b.c.record_path == bindparam("path"))
            ),
            upsert_head=sql(
                head.on_conflict_do_update(
                    index_elements=["did"],
                    set_={
                        "commit_cid": head.excluded.commit_cid,
                        "rev": head.excluded.rev,
                        "data_cid": head.excluded.data_cid,
                    },
                )
            ),
            upsert_account=sql(
                account.on_conflict_do_update(
                    index_elements=["did"],
                    set_={
                        "handle": account.excluded.handle,
                        "email": account.excluded.email,
                        "status": account.excluded.status,
                        "signing_key": account.excluded.signing_key,
                    },
                )
            ),
            upsert_record_takedown=sql(
                record_takedown.on_conflict_do_update(
                    index_elements=["did", "collection", "rkey"],
                    set_={"ref": record_takedown.excluded.ref},
                )
            ),
            delete_record_takedown=sql(_delete_by_record_key(rt)),
            upsert_blob_takedown=sql(
                blob_takedown.on_conflict_do_update(
                    index_elements=["did", "cid"], set_={"ref": blob_takedown.excluded.ref}
                )
            ),
            delete_blob_takedown=sql(
                delete(bt).where(bt.c.did == bindparam("did"), bt.c.cid == bindparam("cid"))
            ),
            insert_seq_event=sql(ins(schema.seq_events)),
            bulk=_postgres_bulk(db_schema) if name == "postgresql" else None,
        )


class ViewWriter:
    """Writes a folded `ViewBatch` (see `application/view_batch.py`): one statement per table."""

    def __init__(
        self,
        dialect: DialectName,
        db_schema: str | None = None,
        pending: PendingBlocks | None = None,
    ) -> None:
        self.sql = ViewStatements.compile(dialect, db_schema)
        self.pending = pending
        """Where `write` hands blocks when the block index is kept behind the log (ADR 0014)
        instead of writing them in the transaction."""
        self._handed: tuple[int, int] | None = None

    def write(
        self, cursor: Any, changes: Sequence[ViewChanges | None], seqs: Sequence[int]
    ) -> None:
        """Write every event's changes; `changes[i]` belongs to the event with `seqs[i]`.

        With `pending`, the blocks are handed to it once every statement has run (before the
        commit, so a reader that sees the commit finds them): the caller then says whether
        its transaction committed (`kept`) or not (`take_back`).
        """
        batch = ViewBatch.of(changes, seqs)
        self.send(cursor, batch)
        if self.pending is not None and batch.blocks:
            self.pending.add(seqs[0], seqs[-1], batch.blocks)
            self._handed = (seqs[0], seqs[-1])

    def kept(self) -> None:
        """The transaction of the last `write` committed."""
        self._handed = None

    def take_back(self) -> None:
        """The transaction of the last `write` failed: take back the blocks it handed over."""
        handed, self._handed = self._handed, None
        if handed is not None and self.pending is not None:
            self.pending.remove(*handed)

    def send(self, cursor: Any, batch: ViewBatch) -> None:
        """Write an already folded batch (its blocks too, unless they go to `pending`)."""
        sql = self.sql
        deletes = [k for k, cid in batch.records.items() if cid is None]
        puts = [(k, cid) for k, cid in batch.records.items() if cid is not None]
        if self.pending is None:
            _bulk(
                cursor, sql, "blocks", sql.insert_block,
                [{"cid": c, "data": d} for c, d in batch.blocks.items()],
            )  # fmt: skip
        _many(
            cursor,
            sql.delete_record,
            [{"did": d, "collection": c, "rkey": r} for d, c, r in deletes],
        )
        _bulk(
            cursor,
            sql,
            "records",
            sql.upsert_record,
            [{"did": d, "collection": c, "rkey": r, "cid": cid} for (d, c, r), cid in puts],
        )
        _many(cursor, sql.delete_blob_refs, [{"did": d, "path": p} for d, p in batch.blob_refs])
        _many(
            cursor,
            sql.insert_blob_ref,
            [
                {"did": d, "cid": cid, "record_path": p}
                for (d, p), cids in batch.blob_refs.items()
                for cid in cids
            ],
        )
        _bulk(cursor, sql, "heads", sql.upsert_head, list(batch.heads.values()))
        _many(cursor, sql.upsert_account, list(batch.accounts.values()))
        _write_takedowns(cursor, sql, batch)
        _bulk(cursor, sql, "seq", sql.insert_seq_event, batch.seq_events)


def _write_takedowns(cursor: Any, sql: ViewStatements, batch: ViewBatch) -> None:
    """Applied takedowns are upserted, lifted ones (and those of deleted records) deleted.

    Rare rows (a delete commit or a moderator's decision), so plain statements suffice on
    both dialects.
    """
    records = [
        ({"did": did, "collection": collection, "rkey": rkey}, ref)
        for (did, collection, rkey), ref in batch.record_takedowns.items()
    ]
    blobs = [({"did": did, "cid": cid}, ref) for (did, cid), ref in batch.blob_takedowns.items()]
    for rows, lift, apply in (
        (records, sql.delete_record_takedown, sql.upsert_record_takedown),
        (blobs, sql.delete_blob_takedown, sql.upsert_blob_takedown),
    ):
        _many(cursor, lift, [key for key, ref in rows if ref is None])
        _many(cursor, apply, [{**key, "ref": ref} for key, ref in rows if ref is not None])


def _postgres_bulk(db_schema: str | None) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Array-parameter inserts: a batch of rows costs one statement on the wire."""
    q = f'"{db_schema}".' if db_schema else ""

    def unnest(columns: dict[str, str]) -> str:
        # binary arrays (`%b`): blocks and frames are bytes, which the text form sends as hex
        arrays = ", ".join(f"%({name})b::{kind}[]" for name, kind in columns.items())
        return f"SELECT * FROM unnest({arrays})"

    blocks = {"cid": "bytea", "data": "bytea"}
    records = {"did": "text", "collection": "text", "rkey": "text", "cid": "bytea"}
    heads = {"did": "text", "commit_cid": "bytea", "rev": "text", "data_cid": "bytea"}
    seq = {"seq": "bigint", "did": "text", "kind": "text", "time": "text", "frame": "bytea"}
    return {
        "blocks": (
            f"INSERT INTO {q}repo_blocks (cid, data) {unnest(blocks)} ON CONFLICT DO NOTHING",
            tuple(blocks),
        ),
        "records": (
            f"INSERT INTO {q}records (did, collection, rkey, cid) {unnest(records)} "
            "ON CONFLICT (did, collection, rkey) DO UPDATE SET cid = excluded.cid",
            tuple(records),
        ),
        "heads": (
            f"INSERT INTO {q}repo_heads (did, commit_cid, rev, data_cid) {unnest(heads)} "
            "ON CONFLICT (did) DO UPDATE SET commit_cid = excluded.commit_cid, "
            "rev = excluded.rev, data_cid = excluded.data_cid",
            tuple(heads),
        ),
        "seq": (
            f"INSERT INTO {q}seq_events (seq, did, kind, time, frame) {unnest(seq)}",
            tuple(seq),
        ),
    }


def _bulk(
    cursor: Any, sql: ViewStatements, kind: str, fallback: str, rows: list[dict[str, Any]]
) -> None:
    """One binary array statement on Postgres, even for one row; executemany elsewhere."""
    if sql.bulk is None or not rows:
        _many(cursor, fallback, rows)
        return
    statement, columns = sql.bulk[kind]
    cursor.execute(statement, {column: [row[column] for row in rows] for column in columns})


def _many(cursor: Any, statement: str, rows: list[dict[str, Any]]) -> None:
    if len(rows) == 1:
        cursor.execute(statement, rows[0])
    elif rows:
        cursor.executemany(statement, rows)
