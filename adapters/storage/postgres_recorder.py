"""eventsourcing's Postgres application recorder, extended to write the views atomically.

The base recorder takes an EXCLUSIVE lock on the events table and NOTIFYs its channel inside
the insert transaction, so notification ids (our firehose seq) commit in order and tails in
other processes wake up. The views are written with the same cursor before the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from adapters.storage.ddl import view_ddl
from adapters.storage.view_writer import ViewWriter


class QuirePostgresRecorder(PostgresApplicationRecorder):
    """Inserts events, then their view changes, in the same Postgres transaction."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.views = ViewWriter("postgresql", datastore.schema)
        for statement in view_ddl("postgresql", datastore.schema):
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        changes = kwargs.get("views")
        if changes and ids:
            self.views.write(curs, changes, ids)
        return ids
