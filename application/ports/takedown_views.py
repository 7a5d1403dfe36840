"""Read port over the moderation takedown views (ADR 0012), which the recorder keeps current
in the same transaction as the takedown events."""

from __future__ import annotations

from typing import Protocol

from domain.data.cid import CID


class TakedownViews(Protocol):
    """Which records and blobs the operator has taken down, and under which reference."""

    def get_record_takedown(self, did: str, collection: str, rkey: str) -> str | None:
        """The reference of the takedown applied to the record at that path, or None."""
        ...

    def get_blob_takedown(self, did: str, cid: CID) -> str | None:
        """The reference of the takedown applied to `did`'s blob `cid`, or None."""
        ...
