"""DDL for the view tables, rendered from the SQLAlchemy schema for each dialect."""

from __future__ import annotations

from sqlalchemy.schema import CreateIndex, CreateTable

from adapters.storage import schema
from adapters.storage.view_writer import DialectName, _dialect


def view_ddl(dialect: DialectName, db_schema: str | None = None) -> list[str]:
    """`CREATE TABLE/INDEX IF NOT EXISTS` statements for every view table."""
    compiled = _dialect(dialect)
    translate = {None: db_schema} if db_schema else None
    statements: list[str] = []
    for table in schema.VIEW_TABLES:
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
    return statements
