"""`OperatorTokenStore` over SQLAlchemy Core: one small table beside the credential tables.

Like the credential tables (ADR 0004) it is mutable secret state in the same database as the
log and never part of it; it has its own `MetaData` so creating it touches nothing else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, MetaData, PrimaryKeyConstraint, Table, Text, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from application.ports.operator_tokens import TokenRecord

operator_token_metadata = MetaData()

operator_tokens = Table(
    "operator_tokens",
    operator_token_metadata,
    Column("did", Text, nullable=False),
    Column("purpose", Text, nullable=False),  # "plc_operation", "reset_password", ...
    Column("digest", Text, nullable=False),  # salted SHA-256 of the token, never the token
    Column("expires_at", BigInteger, nullable=False),  # epoch seconds
    PrimaryKeyConstraint("did", "purpose"),
)


class SqlOperatorTokens:
    """Confirmation-token digests, one row per `(did, purpose)`."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database: {engine.dialect.name}")
        self.engine = engine
        operator_token_metadata.create_all(engine)
        self._insert: Any = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert

    def put(self, did: str, purpose: str, digest: str, expires_at: int) -> None:
        """Insert, or replace the outstanding token of `(did, purpose)`."""
        stmt = self._insert(operator_tokens).values(
            did=did, purpose=purpose, digest=digest, expires_at=expires_at
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["did", "purpose"],
            set_={"digest": digest, "expires_at": expires_at},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def get(self, did: str, purpose: str) -> TokenRecord | None:
        """The outstanding token of `(did, purpose)`, or None."""
        t = operator_tokens.c
        query = operator_tokens.select().where(t.did == did, t.purpose == purpose)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else TokenRecord(row.digest, int(row.expires_at))

    def take(self, did: str, purpose: str, digest: str) -> bool:
        """Delete the row if it still holds `digest`: the delete decides who used it."""
        t = operator_tokens.c
        stmt = delete(operator_tokens).where(t.did == did, t.purpose == purpose, t.digest == digest)
        with self.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount)

    def find(self, purpose: str, digest: str) -> str | None:
        """The DID holding this digest for `purpose` (a small table: one row per request)."""
        t = operator_tokens.c
        query = operator_tokens.select().where(t.purpose == purpose, t.digest == digest)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else str(row.did)

    def delete_all(self, did: str) -> None:
        """Forget every token of `did`."""
        with self.engine.begin() as conn:
            conn.execute(delete(operator_tokens).where(operator_tokens.c.did == did))
