"""Ports for rebuilding and comparing views (used by `quire replay`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from application.views import ViewChanges


class ViewSink(Protocol):
    """A scratch store the projection writes rebuilt views into."""

    def write(self, changes: Sequence[ViewChanges | None], seqs: Sequence[int]) -> None:
        """Write one batch of events' view changes in one transaction."""
        ...

    def close(self) -> None:
        """Release the scratch store."""
        ...


class ViewDigests(Protocol):
    """A digest per view table, computed over its rows in key order."""

    def digests(self, min_seq: int = 0) -> dict[str, str]:
        """{view name: hex digest}; the seq view only from `min_seq` (retention)."""
        ...

    def min_seq(self) -> int:
        """The lowest retained seq (0 if none)."""
        ...
