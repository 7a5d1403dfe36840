"""The view tables, declared once with SQLAlchemy Core for both SQLite and Postgres.

The event tables belong to eventsourcing's recorders; these are the projections written in the
same transaction (see `application/views.py`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

metadata = MetaData()

# Keys are compared bytewise, as atproto orders them (SQLite's default; Postgres needs "C").
Key = Text().with_variant(Text(collation="C"), "postgresql")
# On SQLite an `INTEGER PRIMARY KEY` is the rowid itself: one B-tree per insert, not two.
Seq = BigInteger().with_variant(Integer(), "sqlite")

blocks = Table(
    "repo_blocks",
    metadata,
    Column("cid", LargeBinary, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

records = Table(
    "records",
    metadata,
    Column("did", Key, nullable=False),
    Column("collection", Key, nullable=False),
    Column("rkey", Key, nullable=False),
    Column("cid", LargeBinary, nullable=False),
    PrimaryKeyConstraint("did", "collection", "rkey"),
    # Small rows keyed by text: stored in the key's own B-tree on SQLite (one write, not two).
    sqlite_with_rowid=False,
)

repo_heads = Table(
    "repo_heads",
    metadata,
    Column("did", Key, primary_key=True),
    Column("commit_cid", LargeBinary, nullable=False),
    Column("rev", Text, nullable=False),
    Column("data_cid", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

accounts = Table(
    "accounts",
    metadata,
    Column("did", Text, primary_key=True),
    Column("handle", Text, nullable=False, unique=True),
    Column("email", Text),
    Column("status", Text, nullable=False),
    Column("signing_key", Text, nullable=False),
)

Index("accounts_by_email", accounts.c.email)

record_blobs = Table(
    "record_blobs",
    metadata,
    Column("did", Text, nullable=False),
    Column("cid", LargeBinary, nullable=False),
    Column("record_path", Text, nullable=False),
    PrimaryKeyConstraint("did", "record_path", "cid"),
)
Index("record_blobs_by_cid", record_blobs.c.did, record_blobs.c.cid)

# Moderation takedowns (ADR 0012): a row is an applied takedown with its reference; lifting
# one deletes the row. Records are keyed by path (the reference keys them by URI), blobs by
# account and CID (the reference keeps one blob table per account).
record_takedowns = Table(
    "record_takedowns",
    metadata,
    Column("did", Key, nullable=False),
    Column("collection", Key, nullable=False),
    Column("rkey", Key, nullable=False),
    Column("ref", Text, nullable=False),
    PrimaryKeyConstraint("did", "collection", "rkey"),
    sqlite_with_rowid=False,
)

blob_takedowns = Table(
    "blob_takedowns",
    metadata,
    Column("did", Key, nullable=False),
    Column("cid", LargeBinary, nullable=False),
    Column("ref", Text, nullable=False),
    PrimaryKeyConstraint("did", "cid"),
    sqlite_with_rowid=False,
)

seq_events = Table(
    "seq_events",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("did", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("time", Text, nullable=False),
    Column("frame", LargeBinary, nullable=False),
)

Index("seq_events_by_time", seq_events.c.time)

VIEW_TABLES = (
    blocks,
    records,
    repo_heads,
    accounts,
    record_blobs,
    record_takedowns,
    blob_takedowns,
    seq_events,
)
