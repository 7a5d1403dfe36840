"""`ReservedHandleStore` over SQLAlchemy Core: one small table beside the credential tables.

Operator state, like invite codes: mutable, in the same database as the log and never part of
it (ADR 0004); its own `MetaData`, so creating it touches nothing else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, MetaData, Table, Text, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

reserved_handle_metadata = MetaData()

reserved_handles = Table(
    "reserved_handles",
    reserved_handle_metadata,
    Column("handle", Text, primary_key=True),  # normalized (lower case)
    Column("reserved_at", Text, nullable=False),  # RFC 3339
)


class SqlReservedHandles:
    """Reserved handles, one row each."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database: {engine.dialect.name}")
        self.engine = engine
        reserved_handle_metadata.create_all(engine)
        self._insert: Any = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert

    def add(self, handle: str, reserved_at: str) -> None:
        """Insert unless present: a second reservation (even a concurrent one) is a no-op."""
        stmt = (
            self._insert(reserved_handles)
            .values(handle=handle, reserved_at=reserved_at)
            .on_conflict_do_nothing(index_elements=["handle"])
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def remove(self, handle: str) -> bool:
        """Delete the row of `handle`; whether there was one."""
        with self.engine.begin() as conn:
            deleted = conn.execute(
                delete(reserved_handles).where(reserved_handles.c.handle == handle)
            )
        return bool(deleted.rowcount)

    def contains(self, handle: str) -> bool:
        """Whether a row holds `handle`."""
        query = select(reserved_handles.c.handle).where(reserved_handles.c.handle == handle)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None
