"""Ports for rebuilding and comparing views (used by `quire replay`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from application.view_batch import ViewBatch


class ViewShard(Protocol):
    """What one worker process writes into a scratch store, on a connection of its own.

    It takes the views whose rows never depend on the order of events: blocks (content
    addressed) and seq rows (keyed by seq), so workers may write them in any order.
    Everything else stays with the ordered writer.
    """

    def write(self, batch: ViewBatch) -> None:
        """Write the batch's blocks and seq rows; leave the rest."""
        ...


class ViewSink(Protocol):
    """A scratch store the projection writes rebuilt views into."""

    def write(self, batch: ViewBatch) -> None:
        """Write one folded batch of events' view changes in one transaction."""
        ...

    def shard_opener(self) -> Callable[[], ViewShard]:
        """A picklable callable that opens a worker's writer inside the worker process."""
        ...

    def finish(self) -> None:
        """Complete the store (fold in anything workers left aside); call once they stop."""
        ...

    def close(self) -> None:
        """Release the scratch store."""
        ...


class ViewDigests(Protocol):
    """A digest per view table, computed over its rows in key order."""

    def digests(self, min_seq: int = 0) -> dict[str, str]:
        """{view name: hex sha256}; the seq view only from `min_seq` (retention)."""
        ...

    def min_seq(self) -> int:
        """The lowest retained seq (0 if none)."""
        ...
