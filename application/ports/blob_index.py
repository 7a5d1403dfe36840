"""Which account uploaded which blob, and which of those its records still reference.

Uploads are per account, as in the reference PDS (one `blob` table per actor store): bytes that
Alice uploaded are not Bob's blob even when Bob's record names the same CID. References come
from the `record_blobs` view, written in the same transaction as each commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.data.cid import CID


@dataclass(frozen=True, slots=True)
class BlobUpload:
    """One account's upload of one blob."""

    did: str
    cid: CID
    mime_type: str
    size: int
    created_at: str  # RFC 3339 UTC with milliseconds, so text order is time order


@dataclass(frozen=True, slots=True)
class MissingBlob:
    """A blob a record references but the account never uploaded (listMissingBlobs)."""

    cid: CID
    record_path: str  # "<collection>/<rkey>" of one referencing record


class BlobIndex(Protocol):
    """Upload rows keyed by `(did, cid)`; every method is its own short transaction."""

    def record_upload(self, upload: BlobUpload) -> BlobUpload:
        """Insert the upload, or refresh `created_at` of an existing one; return the stored row.

        A re-upload keeps the first row's MIME type and size, as the reference does, so a
        record written against the first answer stays valid; refreshing the time restarts the
        grace period for a client that retries an upload before writing its record.
        """
        ...

    def get(self, did: str, cid: CID) -> BlobUpload | None:
        """`did`'s upload of `cid`, or None."""
        ...

    def referenced(self, did: str, cid: CID) -> bool:
        """Whether any current record of `did` references `cid`."""
        ...

    def unreferenced_before(self, created_before: str, limit: int) -> list[tuple[str, CID]]:
        """Up to `limit` uploads created before the cutoff that no record of theirs references."""
        ...

    def delete_unreferenced(self, did: str, cid: CID, created_before: str) -> bool:
        """Delete the upload only if it is still older than the cutoff and still unreferenced.

        One statement, so a record written (or an upload retried) since the candidate was
        listed wins over the collector. True if a row was deleted.
        """
        ...

    def delete(self, did: str, cid: CID) -> bool:
        """Delete `did`'s upload of `cid` unconditionally; True if there was one."""
        ...

    def has_uploads(self, cid: CID) -> bool:
        """Whether any account still has an upload of `cid` (the stored bytes are shared)."""
        ...

    def missing(self, did: str, after: CID | None, limit: int) -> list[MissingBlob]:
        """CIDs `did`'s records reference that `did` never uploaded, in CID byte order."""
        ...
