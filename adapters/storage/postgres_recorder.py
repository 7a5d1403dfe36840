"""eventsourcing's Postgres application recorder, extended to write the views atomically.

The base recorder takes an EXCLUSIVE lock on the events table and NOTIFYs its channel inside
the insert transaction, so notification ids (our firehose seq) commit in order and tails in
other processes wake up. The views are written with the same cursor before the commit.

Events go in as four binary arrays rather than the base recorder's array of a composite type
in text form: a commit event is a few KiB of bytes, which the text form doubles into hex and
the server parses back, and a 3 KiB bytea row cost the server about three times as much in
text as in binary (ADR 0008).

The base recorder catches whatever goes wrong after the events are sent and re-raises it once
the transaction has ended, which commits the events when the failure was ours (a view write
raising before the server saw anything wrong). Here anything raised inside the transaction
rolls it back, so the views and the log cannot part. That also lets it honour `follows=<seq>`
(`application/ports/log_position.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from adapters.storage.block_index import find_index
from adapters.storage.ddl import inline_rows, view_ddl
from adapters.storage.postgres_block_index import index_key, mark_ddl
from adapters.storage.sql_names import quoted
from adapters.storage.view_writer import ViewWriter
from application.ports.log_position import check_follows


class QuirePostgresRecorder(PostgresApplicationRecorder):
    """Inserts events, then their view changes, in the same Postgres transaction."""

    checks_position = True

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        kwargs: dict[str, Any] = datastore.pool.kwargs  # type: ignore[assignment]
        key = index_key(kwargs["host"], kwargs["port"], kwargs["dbname"], datastore.schema)
        self.block_index = find_index(key)
        pending = None
        if self.block_index is not None:
            self.block_index.events_table = self.events_table_name  # the store could not know
            pending = self.block_index.pending
        self.views = ViewWriter("postgresql", datastore.schema, pending=pending)
        events = inline_rows(self.events_table_name, datastore.schema)
        marks = mark_ddl(datastore.schema, self.events_table_name)
        for statement in [events, *view_ddl("postgresql", datastore.schema), *marks]:
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]
        # Plain strings, rendered once: psycopg caches their conversion, where a `Composed`
        # is rendered again (identifier escaping included) on every execute.
        table = f"{quoted(datastore.schema)}.{quoted(self.events_table_name)}"
        self._insert_arrays = (
            f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::text[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        )
        self._notify = f"NOTIFY {quoted(self.channel_name)}"
        self.lock_table_statements = [
            f"SET LOCAL lock_timeout = '{datastore.lock_timeout}s'",
            f"LOCK TABLE {table} IN EXCLUSIVE MODE",
        ]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """One pipelined transaction, as the base recorder's, that any exception rolls back."""
        if not stored_events:
            return []
        try:
            with (
                self.datastore.get_connection() as conn,
                conn.pipeline() as pipeline,
                conn.transaction(),
                conn.cursor() as curs,
            ):
                self._insert_stored_events(curs, stored_events, **kwargs)
                # Sync here, so a uniqueness violation (a concurrent writer's version) raises
                # as IntegrityError now and rolls back, not later at COMMIT.
                pipeline.sync()
                ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        except BaseException:
            self.views.take_back()
            raise
        self.views.kept()
        if self.block_index is not None:
            self.block_index.bound_memory()
        return ids

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """What the base recorder does (lock, notify, insert returning ids), in binary."""
        self._lock_table(curs)
        curs.execute(self._notify)
        curs.execute(
            self._insert_arrays,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
            prepare=True,
        )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:
            check_follows(kwargs.get("follows"), ids)
        changes = kwargs.get("views")
        if changes and ids:
            self.views.write(curs, changes, ids)
        return ids
