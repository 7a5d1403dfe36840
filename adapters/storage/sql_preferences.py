"""`PreferenceStore` over SQLAlchemy Core: one JSON text per (account, namespace)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, Table, Text, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

preference_metadata = MetaData()

account_preferences = Table(
    "account_preferences",
    preference_metadata,
    Column("did", Text, nullable=False),
    Column("namespace", Text, nullable=False),  # "app.bsky"
    Column("value", Text, nullable=False),  # a JSON array of preference objects
    PrimaryKeyConstraint("did", "namespace"),
)


class SqlPreferences:
    """Private account preferences."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database: {engine.dialect.name}")
        self.engine = engine
        preference_metadata.create_all(engine)
        self._insert: Any = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert

    def get(self, did: str, namespace: str) -> list[dict[str, Any]]:
        """The stored array, or an empty one."""
        t = account_preferences.c
        query = select(t.value).where(t.did == did, t.namespace == namespace)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return []
        value: list[dict[str, Any]] = json.loads(row.value)
        return value

    def put(self, did: str, namespace: str, preferences: list[dict[str, Any]]) -> None:
        """Replace the array."""
        text = json.dumps(preferences, separators=(",", ":"))
        stmt = self._insert(account_preferences).values(did=did, namespace=namespace, value=text)
        stmt = stmt.on_conflict_do_update(index_elements=["did", "namespace"], set_={"value": text})
        with self.engine.begin() as conn:
            conn.execute(stmt)
