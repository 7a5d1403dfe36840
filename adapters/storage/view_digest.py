"""Digests of the view tables: sha256 over rows in key order, comparable across stores.

Every table of `schema.VIEW_TABLES` is digested (the takedown views included), so a view
added there is compared by `quire replay` without further code.
"""

from __future__ import annotations

import hashlib
from typing import Any

import cbor2

from adapters.storage import schema
from adapters.storage.connections import ReadConnections


def _normal(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview | bytearray) else value


class SqlViewDigests:
    """sha256 over every view's rows in primary-key order, comparable across dialects."""

    def __init__(self, reads: ReadConnections) -> None:
        self.reads = reads

    def min_seq(self) -> int:
        """The lowest retained seq in the seq view."""
        with self.reads.cursor() as cur:
            cur.execute("SELECT MIN(seq) FROM seq_events")
            row = cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def digests(self, min_seq: int = 0) -> dict[str, str]:
        """{table: hex sha256} for every view table."""
        out: dict[str, str] = {}
        mark = "?" if self.reads.dialect == "sqlite" else "%s"
        for table in schema.VIEW_TABLES:
            columns = [c.name for c in table.columns]
            keys = [c.name for c in table.primary_key.columns]
            sql = f"SELECT {', '.join(columns)} FROM {table.name}"
            params: tuple[Any, ...] = ()
            if table is schema.seq_events:
                sql += f" WHERE seq >= {mark}"
                params = (min_seq,)
            sql += f" ORDER BY {', '.join(keys)}"
            digest = hashlib.sha256()
            count = 0
            with self.reads.cursor() as cur:
                cur.execute(sql, params)
                while rows := cur.fetchmany(1000):
                    for row in rows:
                        digest.update(cbor2.dumps([_normal(v) for v in row]))
                        count += 1
            out[table.name] = f"{digest.hexdigest()[:16]} ({count} rows)"
        return out
