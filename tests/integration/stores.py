"""Store fixtures for the contract suites: SQLite in a tmp dir, Postgres in a fresh schema.

Under `CI=true` an unreachable Postgres fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.store import Store, postgres_store, sqlite_store
from application.repo_host.app import RepoHost

PG_URL = os.environ.get("QUIRE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test").replace(
    "postgresql+psycopg://", "postgresql://", 1
)


def in_ci() -> bool:
    """True under CI, where a missing Postgres must fail rather than skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh, uniquely named schema, dropped afterwards."""
    name = f"q_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
    except psycopg.OperationalError as exc:
        if in_ci():
            pytest.fail(f"Postgres is required under CI=true and is unreachable: {exc}")
        pytest.skip(f"Postgres unreachable at {PG_URL} (outside CI only; CI=true fails): {exc}")
    try:
        yield name
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


@contextmanager
def pg_engine() -> Iterator[Engine]:
    """An SQLAlchemy engine whose `search_path` is a fresh schema, dropped afterwards."""
    with pg_schema() as schema:
        engine = create_engine(
            PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
            connect_args={"options": f"-c search_path={schema}"},
        )
        try:
            yield engine
        finally:
            engine.dispose()


@dataclass
class Backend:
    """One opened store and the means to open more RepoHosts over it."""

    kind: str
    store: Store
    schema: str | None

    def host(self) -> RepoHost:
        """A new RepoHost over the same database (a separate writer, as another process)."""
        keys = SqlKeyStore(engine_for(self.store.dialect, self.store.conninfo, self.schema))
        return RepoHost(self.store.env, blocks=self.store.views, keys=keys)


@contextmanager
def open_backend(kind: str, tmp_path: Path) -> Iterator[Backend]:
    """A store of `kind` ("sqlite" or "postgres") that is removed afterwards."""
    if kind == "sqlite":
        store = sqlite_store(tmp_path / "data")
        try:
            yield Backend(kind, store, None)
        finally:
            store.close()
        return
    with pg_schema() as schema:
        store = postgres_store(PG_URL, schema=schema)
        try:
            yield Backend(kind, store, schema)
        finally:
            store.close()
