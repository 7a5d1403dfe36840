"""Blob use cases: uploadBlob, getBlob, listMissingBlobs and collecting unused uploads.

Behaviour follows the reference PDS (packages/pds/src/actor-store/blob): an upload is hashed
and sniffed while it streams, recorded for the uploading account, and answered with a blob ref
the client then puts in a record. The reference serves a blob only once a record of the
account has made it permanent; here that is "uploaded by the account and referenced by one of
its current records". Instead of the reference's temp/permanent storage split, uploads that no
record picked up within a grace period are collected. A blob the operator took down is
refused by getBlob as if it were missing (ADR 0012).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from application.ports.blob_index import BlobIndex, BlobUpload
from application.ports.blob_store import DEFAULT_MAX_BLOB_SIZE, BlobStore
from application.ports.takedown_views import TakedownViews
from domain.blob_sniff import SNIFF_BYTES, choose_mime
from domain.data.cid import CID

Clock = Callable[[], float]
"""Epoch seconds."""

DEFAULT_GRACE_SECONDS = 3600
GC_BATCH = 500


class BlobNotFound(Exception):
    """No blob by that CID is available for that account (the lexicon's `BlobNotFound`)."""

    error = "BlobNotFound"
    status = 400

    def __init__(self, message: str = "Blob not found") -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class BlobContent:
    """A blob ready to serve: its stored type, exact size and bytes."""

    mime_type: str
    size: int
    chunks: Iterator[bytes]


@dataclass(frozen=True, slots=True)
class MissingBlobsPage:
    """One page of listMissingBlobs: `(cid, record URI)` pairs and the next cursor, if any."""

    blobs: list[tuple[str, str]]
    cursor: str | None


class BlobService:
    """The blob use cases over a content-addressed `BlobStore` and a per-account `BlobIndex`."""

    def __init__(
        self,
        store: BlobStore,
        index: BlobIndex,
        clock: Clock,
        *,
        takedowns: TakedownViews | None = None,
    ) -> None:
        """`takedowns` is the takedown view the server serves under; None only where no
        takedown can exist (tests of uploading and serving alone)."""
        self._store = store
        self._index = index
        self._clock = clock
        self._takedowns = takedowns

    def _taken_down(self, did: str, cid: CID) -> bool:
        takedowns = self._takedowns
        return takedowns is not None and takedowns.get_blob_takedown(did, cid) is not None

    def upload(
        self,
        did: str,
        chunks: Iterable[bytes],
        declared_mime: str | None,
        max_size: int = DEFAULT_MAX_BLOB_SIZE,
    ) -> dict[str, Any]:
        """Store the bytes for `did` and return the blob ref (`ref` is a CID) for its records.

        The MIME type is sniffed from the first bytes as they pass through, so the upload is
        never buffered whole (see `domain.blob_sniff.choose_mime` for the order of trust).
        """
        head = _HeadCapture(chunks, SNIFF_BYTES)
        info = self._store.put_stream(head, max_size)
        mime = choose_mime(declared_mime, head.head, complete=info.size <= len(head.head))
        stored = self._index.record_upload(
            BlobUpload(did, info.cid, mime, info.size, _rfc3339(self._clock()))
        )
        return {"$type": "blob", "ref": info.cid, "mimeType": stored.mime_type, "size": stored.size}

    def get(self, did: str, cid: CID) -> BlobContent:
        """The blob `did` uploaded and still references from a record; BlobNotFound otherwise.

        A blob the operator took down is not found either, exactly as a missing one, which is
        how the reference answers for a blob whose `takedownRef` is set.
        """
        upload = self._index.get(did, cid)
        if upload is None or not self._index.referenced(did, cid) or self._taken_down(did, cid):
            raise BlobNotFound()
        chunks = self._store.open(cid)
        if chunks is None:
            raise BlobNotFound()
        return BlobContent(upload.mime_type, upload.size, chunks)

    def list_missing(self, did: str, limit: int, cursor: str | None = None) -> MissingBlobsPage:
        """Blobs `did`'s records reference but `did` never uploaded, for account migration.

        The cursor is the last CID of the previous page (pages are in CID byte order); it is
        set only when the page is full, as for `com.atproto.sync.listBlobs`.
        """
        after = CID.parse(cursor) if cursor else None
        rows = self._index.missing(did, after, limit)
        blobs = [(str(row.cid), f"at://{did}/{row.record_path}") for row in rows]
        next_cursor = str(rows[-1].cid) if rows and len(rows) == limit else None
        return MissingBlobsPage(blobs, next_cursor)

    def collect_garbage(self, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> int:
        """Delete uploads older than the grace period that no record references; return how many.

        Each deletion re-checks age and references in the index, so a record written meanwhile
        keeps its blob. The stored bytes go only when no account has an upload of them left,
        and only if nobody re-stored them since the cutoff.
        """
        cutoff_epoch = self._clock() - grace_seconds
        cutoff = _rfc3339(cutoff_epoch)
        deleted = 0
        while True:
            candidates = self._index.unreferenced_before(cutoff, GC_BATCH)
            progressed = False
            for did, cid in candidates:
                if not self._index.delete_unreferenced(did, cid, cutoff):
                    continue
                deleted += 1
                progressed = True
                if not self._index.has_uploads(cid):
                    self._store.delete(cid, modified_before=cutoff_epoch)
            if len(candidates) < GC_BATCH or not progressed:
                return deleted


class _HeadCapture:
    """Passes chunks through unchanged while keeping the first `limit` bytes for sniffing."""

    def __init__(self, chunks: Iterable[bytes], limit: int) -> None:
        self._chunks = chunks
        self._limit = limit
        self.head = b""

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if len(self.head) < self._limit:
                self.head += bytes(chunk[: self._limit - len(self.head)])
            yield chunk


def _rfc3339(epoch: float) -> str:
    """Fixed-width UTC milliseconds, so comparing the strings compares the times."""
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
