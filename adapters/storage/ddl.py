"""DDL for the view tables, rendered from the SQLAlchemy schema for each dialect."""

from __future__ import annotations

from sqlalchemy.schema import CreateIndex, CreateTable

from adapters.storage import schema
from adapters.storage.sql_names import quoted
from adapters.storage.view_writer import DialectName, _dialect

INLINE_ROWS_UP_TO = 8160
"""Postgres `toast_tuple_target` of the tables whose rows carry a few KiB of bytes.

At the default (about 2 KiB) a commit event or a firehose frame is compressed (pglz, which
fails on block bytes) and moved to the TOAST table, a second heap and index per value:
measured, 26-35 µs of server time per 3.3 KiB row against 12 µs kept inline. Rows past
this size (an import's CAR) are still toasted."""

WIDE_TABLES = ("repo_blocks", "seq_events")


def inline_rows(table: str, db_schema: str | None = None) -> str:
    """Postgres: keep rows of `table` inline up to `INLINE_ROWS_UP_TO` bytes (idempotent)."""
    name = f"{quoted(db_schema)}.{quoted(table)}" if db_schema else quoted(table)
    return f"ALTER TABLE {name} SET (toast_tuple_target = {INLINE_ROWS_UP_TO})"


def view_ddl(
    dialect: DialectName, db_schema: str | None = None, *, blocks: bool = True
) -> list[str]:
    """`CREATE TABLE/INDEX IF NOT EXISTS` statements for every view table (but the block
    index, if `blocks` is False: SQLite keeps it in a file of its own, ADR 0014)."""
    compiled = _dialect(dialect)
    translate = {None: db_schema} if db_schema else None
    statements: list[str] = []
    for table in schema.VIEW_TABLES:
        if table is schema.blocks and not blocks:
            continue
        create = CreateTable(table, if_not_exists=True)
        statements.append(
            str(
                create.compile(
                    dialect=compiled,
                    schema_translate_map=translate,
                    render_schema_translate=translate is not None,
                )
            )
        )
        for index in table.indexes:
            statements.append(
                str(
                    CreateIndex(index, if_not_exists=True).compile(
                        dialect=compiled,
                        schema_translate_map=translate,
                        render_schema_translate=translate is not None,
                    )
                )
            )
    if dialect == "postgresql":
        statements += [inline_rows(table, db_schema) for table in WIDE_TABLES]
    return statements
