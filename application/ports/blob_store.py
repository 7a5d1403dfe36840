"""Where blob bytes live: a content-addressed store keyed by the blob's raw-codec CID.

The store knows nothing about accounts or records. Identical bytes uploaded by two accounts
are one stored object; who may see it, and when it may go, is decided by `BlobIndex` and the
use cases in `application/blobs.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from domain.data.cid import CID

DEFAULT_MAX_BLOB_SIZE = 5 * 1024 * 1024
"""The reference PDS's default upload limit (`PDS_BLOB_UPLOAD_LIMIT`): 5 MiB."""


class BlobTooLarge(Exception):
    """The upload went over its size limit; nothing was stored.

    `error` and `status` are read by the HTTP edge (as for the auth errors): 413 PayloadTooLarge.
    """

    error = "PayloadTooLarge"
    status = 413

    def __init__(self, max_size: int) -> None:
        super().__init__(f"Blob is larger than the limit of {max_size} bytes")
        self.max_size = max_size


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """What storing a blob established: its CID (sha-256, raw codec) and exact size."""

    cid: CID
    size: int


class BlobStore(Protocol):
    """Immutable bytes by CID. Writes are all-or-nothing; a reader never sees a partial blob."""

    def put_stream(self, chunks: Iterable[bytes], max_size: int) -> BlobInfo:
        """Store the concatenated `chunks`, hashing as they stream; BlobTooLarge past `max_size`.

        Storing bytes that are already present is harmless and refreshes their age.
        """
        ...

    def open(self, cid: CID) -> Iterator[bytes] | None:
        """The blob's bytes in chunks, or None if it is not stored."""
        ...

    def size(self, cid: CID) -> int | None:
        """The stored blob's size in bytes, or None if it is not stored."""
        ...

    def exists(self, cid: CID) -> bool:
        """Whether the blob is stored."""
        ...

    def delete(self, cid: CID, *, modified_before: float | None = None) -> bool:
        """Remove the blob; True if something was removed.

        With `modified_before` (epoch seconds), a blob stored or re-stored at or after that
        time is kept: the garbage collector passes its cutoff so that a concurrent upload of
        the same bytes, whose index row it could not yet see, does not lose its file.
        """
        ...
