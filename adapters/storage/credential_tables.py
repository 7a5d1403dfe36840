"""The secret tables behind `CredentialStore`, in their own `MetaData` (ADR 0004).

They are ordinary mutable tables in the same database as the log, but never part of it:
nothing here is projected from events, replayed or audited.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    false,
    inspect,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

credential_metadata = MetaData()

account_passwords = Table(
    "account_passwords",
    credential_metadata,
    Column("did", Text, primary_key=True),
    Column("hash", Text, nullable=False),  # argon2id, PHC string format
)

app_passwords = Table(
    "app_passwords",
    credential_metadata,
    Column("did", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("hash", Text, nullable=False),  # DID-salted SHA-256 of a random secret
    Column("created_at", Text, nullable=False),  # RFC 3339
    # Its sessions get `com.atproto.appPassPrivileged` (added after the table: see below).
    Column("privileged", Boolean, nullable=False, server_default=false()),
    PrimaryKeyConstraint("did", "name"),
)

refresh_tokens = Table(
    "refresh_tokens",
    credential_metadata,
    Column("jti", Text, primary_key=True),
    Column("did", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # epoch seconds
    Column("app_password_name", Text),
    Column("next_jti", Text),  # set on rotation
    Column("used_at", BigInteger),  # epoch seconds of the first rotation
    Index("refresh_tokens_did", "did"),
)

email_confirmations = Table(
    "email_confirmations",
    credential_metadata,
    Column("did", Text, primary_key=True),
    Column("email", Text, nullable=False),  # the address confirmed; a new one is unconfirmed
    Column("confirmed_at", Text, nullable=False),  # RFC 3339
)


_ADDED_COLUMNS = {
    # (table, column): the DDL that adds it to a table created before it existed
    ("app_passwords", "privileged"): {
        "sqlite": "ALTER TABLE app_passwords ADD COLUMN privileged BOOLEAN NOT NULL DEFAULT 0",
        "postgresql": "ALTER TABLE app_passwords "
        "ADD COLUMN IF NOT EXISTS privileged BOOLEAN NOT NULL DEFAULT false",
    },
}


def create_credential_tables(engine: Engine) -> None:
    """Create the tables that are missing and add the columns later versions introduced.

    `create_all` is `CREATE TABLE IF NOT EXISTS`: it leaves an existing table as it was, so
    a database from before a column existed gets it here, with a default that gives the
    old rows their previous meaning (an app password from before is unprivileged).
    Postgres guards the `ALTER` itself (`IF NOT EXISTS`, safe against a second process
    starting at once); SQLite has no such clause, so a concurrent addition is recognised by
    looking again.
    """
    credential_metadata.create_all(engine)
    for (table, column), ddl in _ADDED_COLUMNS.items():
        if _has_column(engine, table, column):
            continue
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(ddl[engine.dialect.name])
        except DBAPIError:
            if not _has_column(engine, table, column):
                raise


def _has_column(engine: Engine, table: str, column: str) -> bool:
    with engine.connect() as conn:
        return any(c["name"] == column for c in inspect(conn).get_columns(table))
