"""The `blob_uploads` table behind `BlobIndex`, in its own `MetaData`.

Uploads are mutable bookkeeping (created, refreshed, collected), not facts of the log, so like
the credential tables they sit beside the views rather than among them. References are read
from the `record_blobs` view in the same database.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

blob_metadata = MetaData()

blob_uploads = Table(
    "blob_uploads",
    blob_metadata,
    Column("did", Text, nullable=False),
    Column("cid", LargeBinary, nullable=False),  # binary CID, as record_blobs stores it
    Column("mime_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Text, nullable=False),  # RFC 3339 UTC, fixed width: text order = time
    PrimaryKeyConstraint("did", "cid"),
)

Index("blob_uploads_by_created_at", blob_uploads.c.created_at)
Index("blob_uploads_by_cid", blob_uploads.c.cid)
