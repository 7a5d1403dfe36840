"""The secret tables behind `CredentialStore`, in their own `MetaData` (ADR 0004).

They are ordinary mutable tables in the same database as the log, but never part of it:
nothing here is projected from events, replayed or audited.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, MetaData, PrimaryKeyConstraint, Table, Text

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
