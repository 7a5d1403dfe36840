"""Read ports over the views the recorder maintains (records, heads, accounts, seq)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from application.views import AccountRow, RepoHeadRow
from domain.data.cid import CID


@dataclass(frozen=True, slots=True)
class SeqEvent:
    """One row of the seq view: a pre-encoded firehose frame."""

    seq: int
    did: str
    kind: str
    time: str
    frame: bytes


class RepoViews(Protocol):
    """Queries the API and the firehose answer from."""

    def get_head(self, did: str) -> RepoHeadRow | None:
        """The current head of `did`'s repo."""
        ...

    def list_heads(self, after_did: str | None, limit: int) -> list[RepoHeadRow]:
        """Repo heads ordered by DID, for listRepos paging."""
        ...

    def list_dids_with_collection(
        self, collection: str, after_did: str | None, limit: int
    ) -> list[str]:
        """DIDs of active accounts holding a record in `collection`, by DID after `after_did`."""
        ...

    def get_account(self, did: str) -> AccountRow | None:
        """The account row of `did`."""
        ...

    def get_account_by_handle(self, handle: str) -> AccountRow | None:
        """The account row with `handle`."""
        ...

    def get_record_cid(self, did: str, collection: str, rkey: str) -> CID | None:
        """The CID of a current record."""
        ...

    def list_records(
        self, did: str, collection: str, *, limit: int, cursor: str | None, reverse: bool
    ) -> list[tuple[str, CID]]:
        """(rkey, cid) pairs; rkey descending by default, ascending with `reverse`."""
        ...

    def list_collections(self, did: str) -> list[str]:
        """The collections that hold records in `did`'s repo."""
        ...

    def list_blobs(self, did: str, after: bytes, limit: int) -> list[CID]:
        """Distinct blob CIDs referenced by `did`'s records, after `after`, by CID bytes."""
        ...

    def seq_after(self, seq: int, limit: int) -> list[SeqEvent]:
        """Seq events with seq > `seq`, ascending."""
        ...

    def max_seq(self) -> int:
        """The highest seq in the seq view (0 when empty)."""
        ...

    def min_seq_since(self, time: str) -> int | None:
        """The lowest seq whose time is >= `time` (retention window start)."""
        ...
