"""`SqlPreferences` on SQLite and Postgres: one array per account and namespace, replaced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from adapters.storage.sql_preferences import SqlPreferences
from tests.integration.stores import pg_engine

PREF = {"$type": "app.bsky.actor.defs#adultContentPref", "enabled": True}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlPreferences]:
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'prefs.sqlite'}")
        yield SqlPreferences(engine)
        engine.dispose()
        return
    with pg_engine() as pg:
        yield SqlPreferences(pg)


def test_preferences_are_replaced_per_account_and_namespace(store: SqlPreferences) -> None:
    assert store.get("did:plc:alice", "app.bsky") == []
    store.put("did:plc:alice", "app.bsky", [PREF, {"$type": "x", "ünïcode": "✓"}])
    store.put("did:plc:alice", "app.bsky", [PREF])
    store.put("did:plc:bob", "app.bsky", [])
    assert store.get("did:plc:alice", "app.bsky") == [PREF]
    assert store.get("did:plc:alice", "chat.bsky") == []
    assert store.get("did:plc:bob", "app.bsky") == []
