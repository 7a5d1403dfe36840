"""What one event changes in the views, computed by the projection and written atomically.

The recorder writes these rows in the same transaction as the event itself, so a commit, its
seq and its records become visible together or not at all. Everything here is derived from the
event alone (see `application/projection.py`), which is what lets `quire replay` rebuild the
views from the log and compare them byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from domain.data.cid import CID


@dataclass(frozen=True, slots=True)
class RecordRow:
    """One row of the records view."""

    did: str
    collection: str
    rkey: str
    cid: CID


@dataclass(frozen=True, slots=True)
class RepoHeadRow:
    """The repo-heads view row after an event (listRepos, getLatestCommit, status)."""

    did: str
    commit: CID
    rev: str
    data: CID


@dataclass(frozen=True, slots=True)
class AccountRow:
    """The accounts view row after an account event."""

    did: str
    handle: str
    email: str | None
    status: str  # "active", "deactivated", "takendown", "suspended", "deleted"
    signing_key: str  # did:key of the current #atproto key


@dataclass(frozen=True, slots=True)
class BlobRefRow:
    """A blob referenced by a record (listBlobs, garbage collection of uploads)."""

    did: str
    cid: CID
    record_path: str


@dataclass(frozen=True, slots=True)
class RecordTakedownRow:
    """A record's moderation takedown: `ref` applies it, None removes the row (lifted, or the
    record was deleted)."""

    did: str
    collection: str
    rkey: str
    ref: str | None


@dataclass(frozen=True, slots=True)
class BlobTakedownRow:
    """A blob's moderation takedown for one account: `ref` applies it, None lifts it."""

    did: str
    cid: CID
    ref: str | None


FrameRenderer = Callable[[int], bytes]
"""Given the event's seq, return the pre-encoded firehose frame (header + body bytes)."""


@dataclass(slots=True)
class ViewChanges:
    """Every view row one event adds, replaces or removes."""

    blocks: list[tuple[bytes, bytes]] = field(default_factory=list)  # (CID bytes, block)
    record_puts: list[RecordRow] = field(default_factory=list)
    record_deletes: list[tuple[str, str, str]] = field(default_factory=list)
    blob_puts: list[BlobRefRow] = field(default_factory=list)
    blob_deletes: list[tuple[str, str]] = field(default_factory=list)  # (did, record_path)
    record_takedowns: list[RecordTakedownRow] = field(default_factory=list)
    blob_takedowns: list[BlobTakedownRow] = field(default_factory=list)
    head: RepoHeadRow | None = None
    account: AccountRow | None = None
    frame_kind: str | None = None  # "#commit", "#sync", "#identity", "#account"
    frame_did: str | None = None
    frame_time: str | None = None
    render_frame: FrameRenderer | None = None
