"""Signing keys in a table of the same database (secrets: outside the log, see ADR 0004)."""

from __future__ import annotations

import threading

from sqlalchemy import Column, LargeBinary, MetaData, Table, Text, create_engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from domain.crypto.keys import Keypair, keypair_from_private

key_metadata = MetaData()
signing_keys = Table(
    "signing_keys",
    key_metadata,
    Column("did", Text, primary_key=True),
    Column("key_type", Text, nullable=False),
    Column("private_key", LargeBinary, nullable=False),
)


def engine_for(dialect: str, conninfo: str, schema: str | None = None) -> Engine:
    """An SQLAlchemy engine for the low-rate secret tables of the store."""
    if dialect == "sqlite":
        return create_engine(f"sqlite:///{conninfo}")
    url = conninfo.replace("postgresql://", "postgresql+psycopg://", 1).replace(
        "postgres://", "postgresql+psycopg://", 1
    )
    options = {"options": f"-c search_path={schema}"} if schema else {}
    return create_engine(url, connect_args=options, pool_size=2)


class SqlKeyStore:
    """`KeyStore` over SQLAlchemy Core; keys are cached in memory once read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        key_metadata.create_all(engine)
        self._cache: dict[str, Keypair] = {}
        self._lock = threading.Lock()
        self._insert = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert

    def put(self, did: str, keypair: Keypair) -> None:
        """Store or replace `did`'s signing key."""
        stmt = self._insert(signing_keys).values(
            did=did, key_type=keypair.key_type, private_key=keypair.private_key_bytes()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["did"],
            set_={"key_type": stmt.excluded.key_type, "private_key": stmt.excluded.private_key},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)
        with self._lock:
            self._cache[did] = keypair

    def get(self, did: str) -> Keypair | None:
        """`did`'s signing key, or None."""
        cached = self._cache.get(did)
        if cached is not None:
            return cached
        with self.engine.connect() as conn:
            row = conn.execute(signing_keys.select().where(signing_keys.c.did == did)).first()
        if row is None:
            return None
        keypair = keypair_from_private(row.key_type, bytes(row.private_key))
        with self._lock:
            self._cache[did] = keypair
        return keypair
