"""Signing keys in a table of the same database (secrets: outside the log, see ADR 0004)."""

from __future__ import annotations

import threading

from sqlalchemy import Column, LargeBinary, MetaData, Table, Text, create_engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Engine

from domain.crypto.keys import Keypair, keypair_from_private

key_metadata = MetaData()
signing_keys = Table(
    "signing_keys",
    key_metadata,
    Column("did", Text, primary_key=True),
    Column("public_key", Text, primary_key=True),
    Column("key_type", Text, nullable=False),
    Column("private_key", LargeBinary, nullable=False),
)


def engine_for(dialect: str, conninfo: str, schema: str | None = None) -> Engine:
    """An SQLAlchemy engine for the low-rate secret tables of the store."""
    if dialect == "sqlite":
        # a URL object, not a string: a data directory named with `?` or `#` would otherwise
        # be cut at it, and the keys would go to another file
        return create_engine(URL.create("sqlite", database=conninfo))
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
        self._cache: dict[tuple[str, str], Keypair] = {}
        self._lock = threading.Lock()
        self._insert = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert

    def put(self, did: str, keypair: Keypair) -> None:
        """Store or replace `did`'s signing key."""
        public_key = keypair.did()
        stmt = self._insert(signing_keys).values(
            did=did,
            public_key=public_key,
            key_type=keypair.key_type,
            private_key=keypair.private_key_bytes(),
        )
        with self.engine.begin() as conn:
            conn.execute(stmt.on_conflict_do_nothing())
        with self._lock:
            self._cache[(did, public_key)] = keypair

    def get(self, did: str, public_key: str) -> Keypair | None:
        """`did`'s private key for `public_key`, or None."""
        cached = self._cache.get((did, public_key))
        if cached is not None:
            return cached
        query = signing_keys.select().where(
            signing_keys.c.did == did, signing_keys.c.public_key == public_key
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        keypair = keypair_from_private(row.key_type, bytes(row.private_key))
        with self._lock:
            self._cache[(did, public_key)] = keypair
        return keypair
