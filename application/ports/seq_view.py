"""What the firehose needs of the seq view: read it in order, and prune what retention drops.

The seq view (`seq, did, kind, time, frame`) is a projection written in the recording
transaction (ADR 0003). The hub only reads it; pruning deletes old rows of the view and never
touches the log, so `quire replay` can always rebuild every frame ever emitted.
"""

from __future__ import annotations

from typing import Protocol

from application.ports.repo_views import SeqEvent


class SeqViewReader(Protocol):
    """Ordered reads of the seq view (`SqlViews` implements it)."""

    def seq_after(self, seq: int, limit: int) -> list[SeqEvent]:
        """Up to `limit` rows with seq > `seq`, ascending."""
        ...

    def max_seq(self) -> int:
        """The highest seq in the view (0 when empty)."""
        ...

    def min_seq_since(self, time: str) -> int | None:
        """The lowest seq whose time is >= `time`: the first event of the retention window."""
        ...


class SeqViewPruner(Protocol):
    """Deletes seq view rows that fell out of the retention window."""

    def prune_seq_view(self, before_time: str) -> int:
        """Delete rows with time < `before_time`, except the newest row; return how many.

        The newest row is kept so the current seq survives an idle spell longer than the
        window: without it a restarted server would read 0 as its position and answer every
        client's cursor with `FutureCursor`.
        """
        ...
