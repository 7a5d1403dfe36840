"""`BlobIndex` over SQLAlchemy Core, for SQLite and Postgres alike.

Reference checks read the `record_blobs` view (`adapters/storage/schema.py`), which the
recording transaction keeps current, so "is this blob referenced?" is one indexed lookup. The
collector's delete carries that check in the same statement, so a record committed after the
candidate list was read still keeps its blob.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from adapters.storage.blob_tables import blob_metadata, blob_uploads
from adapters.storage.schema import record_blobs
from application.ports.blob_index import BlobUpload, MissingBlob
from domain.data.cid import CID

_u = blob_uploads.c
_r = record_blobs.c


def _is_referenced() -> ColumnElement[bool]:
    """EXISTS a record of the upload's account naming the upload's CID (correlated)."""
    return exists().where(_r.did == _u.did, _r.cid == _u.cid)


class SqlBlobIndex:
    """Upload rows in `blob_uploads`; references from the `record_blobs` view table."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database: {engine.dialect.name}")
        self.engine = engine
        blob_metadata.create_all(engine)
        self._insert: Any = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert

    def record_upload(self, upload: BlobUpload) -> BlobUpload:
        """Insert, or refresh `created_at` of the existing row; the stored row comes back."""
        stmt = self._insert(blob_uploads).values(
            did=upload.did,
            cid=upload.cid.raw,
            mime_type=upload.mime_type,
            size=upload.size,
            created_at=upload.created_at,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["did", "cid"], set_={"created_at": stmt.excluded.created_at}
        ).returning(_u.mime_type, _u.size, _u.created_at)
        with self.engine.begin() as conn:
            row = conn.execute(stmt).one()
        return BlobUpload(upload.did, upload.cid, row.mime_type, int(row.size), row.created_at)

    def get(self, did: str, cid: CID) -> BlobUpload | None:
        """`did`'s upload of `cid`, or None."""
        query = select(_u.mime_type, _u.size, _u.created_at).where(_u.did == did, _u.cid == cid.raw)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return BlobUpload(did, cid, row.mime_type, int(row.size), row.created_at)

    def referenced(self, did: str, cid: CID) -> bool:
        """Whether a current record of `did` names `cid`."""
        query = select(_r.cid).where(_r.did == did, _r.cid == cid.raw).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def unreferenced_before(self, created_before: str, limit: int) -> list[tuple[str, CID]]:
        """Oldest first, so a capped batch always makes progress on the backlog."""
        query = (
            select(_u.did, _u.cid)
            .where(_u.created_at < created_before, ~_is_referenced())
            .order_by(_u.created_at, _u.did, _u.cid)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [(row.did, CID(bytes(row.cid))) for row in rows]

    def delete_unreferenced(self, did: str, cid: CID, created_before: str) -> bool:
        """One guarded DELETE: still old, still unreferenced."""
        stmt = delete(blob_uploads).where(
            and_(
                _u.did == did,
                _u.cid == cid.raw,
                _u.created_at < created_before,
                ~_is_referenced(),
            )
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount)

    def delete(self, did: str, cid: CID) -> bool:
        """Unconditional delete of one upload row."""
        stmt = delete(blob_uploads).where(_u.did == did, _u.cid == cid.raw)
        with self.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount)

    def has_uploads(self, cid: CID) -> bool:
        """Whether any account still holds an upload of these bytes."""
        query = select(_u.did).where(_u.cid == cid.raw).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def missing(self, did: str, after: CID | None, limit: int) -> list[MissingBlob]:
        """Referenced by `did`'s records, never uploaded by `did`; one record path per CID."""
        uploaded = exists().where(_u.did == _r.did, _u.cid == _r.cid)
        query = (
            select(_r.cid, func.min(_r.record_path).label("record_path"))
            .where(_r.did == did, _r.cid > (after.raw if after else b""), ~uploaded)
            .group_by(_r.cid)
            .order_by(_r.cid)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [MissingBlob(CID(bytes(row.cid)), row.record_path) for row in rows]
