"""`SqlReservedHandles` on SQLite and Postgres: a set of handles, reserved idempotently.

Postgres runs in a fresh schema per test (failing, never skipping, under `CI=true`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from adapters.storage.sql_reserved_handles import SqlReservedHandles, reserved_handles
from tests.integration.stores import pg_engine


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        sqlite = create_engine(f"sqlite:///{tmp_path / 'reserved.sqlite'}")
        yield sqlite
        sqlite.dispose()
        return
    with pg_engine() as pg:
        yield pg


def test_a_reserved_handle_is_contained_and_others_are_not(engine: Engine) -> None:
    store = SqlReservedHandles(engine)
    store.add("kept.test", "2024-01-01T00:00:00.000Z")
    assert store.contains("kept.test")
    assert not store.contains("kept1.test")
    assert not store.contains("kept.tes")


def test_reserving_again_keeps_the_first_reservation(engine: Engine) -> None:
    store = SqlReservedHandles(engine)
    store.add("kept.test", "2024-01-01T00:00:00.000Z")
    store.add("kept.test", "2025-06-01T00:00:00.000Z")
    with engine.connect() as conn:
        rows = conn.execute(select(reserved_handles)).all()
    assert [tuple(row) for row in rows] == [("kept.test", "2024-01-01T00:00:00.000Z")]


def test_the_table_is_created_once_and_survives_a_second_store(engine: Engine) -> None:
    SqlReservedHandles(engine).add("kept.test", "2024-01-01T00:00:00.000Z")
    assert SqlReservedHandles(engine).contains("kept.test")


def test_a_released_handle_is_no_longer_contained(engine: Engine) -> None:
    store = SqlReservedHandles(engine)
    store.add("kept.test", "2024-01-01T00:00:00.000Z")
    store.add("other.test", "2024-01-01T00:00:00.000Z")
    assert store.remove("kept.test") is True
    assert store.remove("kept.test") is False  # nothing left to lift
    assert not store.contains("kept.test") and store.contains("other.test")
