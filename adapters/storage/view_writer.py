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
from application.views import ViewChanges

DialectName = Literal["sqlite", "postgresql"]


def _insert(name: DialectName) -> Any:
    return sqlite.insert if name == "sqlite" else postgresql.insert


def _dialect(name: DialectName) -> Dialect:
    if name == "sqlite":
        return sqlite.dialect(paramstyle="named")
    return postgresql.psycopg.dialect(paramstyle="pyformat")


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
    insert_seq_event: str

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
        return ViewStatements(
            insert_block=sql(ins(schema.blocks).on_conflict_do_nothing()),
            upsert_record=sql(
                record.on_conflict_do_update(
                    index_elements=["did", "collection", "rkey"],
                    set_={"cid": record.excluded.cid},
                )
            ),
            delete_record=sql(
                delete(r).where(
                    r.c.did == bindparam("did"),
                    r.c.collection == bindparam("collection"),
                    r.c.rkey == bindparam("rkey"),
                )
            ),
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
            insert_seq_event=sql(ins(schema.seq_events)),
        )


class ViewWriter:
    """Applies the view changes of a batch of events, given their notification ids."""

    def __init__(self, dialect: DialectName, db_schema: str | None = None) -> None:
        self.sql = ViewStatements.compile(dialect, db_schema)

    def write(
        self, cursor: Any, changes: Sequence[ViewChanges | None], seqs: Sequence[int]
    ) -> None:
        """Write every event's changes; `changes[i]` belongs to the event with `seqs[i]`."""
        sql = self.sql
        blocks: dict[bytes, bytes] = {}
        for change, seq in zip(changes, seqs, strict=True):
            if change is None:
                continue
            for cid, data in change.blocks:
                blocks[cid.raw] = data
            self._write_records(cursor, change)
            if change.head is not None:
                h = change.head
                cursor.execute(
                    sql.upsert_head,
                    {
                        "did": h.did,
                        "commit_cid": h.commit.raw,
                        "rev": h.rev,
                        "data_cid": h.data.raw,
                    },
                )
            if change.account is not None:
                a = change.account
                cursor.execute(
                    sql.upsert_account,
                    {
                        "did": a.did,
                        "handle": a.handle,
                        "email": a.email,
                        "status": a.status,
                        "signing_key": a.signing_key,
                    },
                )
            if change.render_frame is not None:
                cursor.execute(
                    sql.insert_seq_event,
                    {
                        "seq": seq,
                        "did": change.frame_did,
                        "kind": change.frame_kind,
                        "time": change.frame_time,
                        "frame": change.render_frame(seq),
                    },
                )
        if blocks:
            cursor.executemany(
                sql.insert_block, [{"cid": cid, "data": data} for cid, data in blocks.items()]
            )

    def _write_records(self, cursor: Any, change: ViewChanges) -> None:
        sql = self.sql
        for did, collection, rkey in change.record_deletes:
            cursor.execute(sql.delete_record, {"did": did, "collection": collection, "rkey": rkey})
        for did, path in change.blob_deletes:
            cursor.execute(sql.delete_blob_refs, {"did": did, "path": path})
        if change.record_puts:
            cursor.executemany(
                sql.upsert_record,
                [
                    {"did": r.did, "collection": r.collection, "rkey": r.rkey, "cid": r.cid.raw}
                    for r in change.record_puts
                ],
            )
        if change.blob_puts:
            cursor.executemany(
                sql.insert_blob_ref,
                [
                    {"did": b.did, "cid": b.cid.raw, "record_path": b.record_path}
                    for b in change.blob_puts
                ],
            )
