"""An in-memory seq view (reader and pruner) for firehose hub tests."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from application.ports.repo_views import SeqEvent
from domain.firehose.frames import identity_frame


@dataclass
class FakeSeqView:
    """Rows in seq order; `append` plays the writer, `prune_seq_view` the retention job."""

    rows: list[SeqEvent] = field(default_factory=list)
    pruned_before: list[str] = field(default_factory=list)
    reads: int = 0

    def append(self, seq: int, time: str = "2024-01-01T00:00:00.000Z") -> SeqEvent:
        """Record an event with `seq` (must exceed every seq so far)."""
        assert not self.rows or seq > self.rows[-1].seq
        did = "did:plc:fake"
        row = SeqEvent(
            seq, did, "#identity", time, identity_frame(seq=seq, did=did, time=time, handle=None)
        )
        self.rows.append(row)
        return row

    def seq_after(self, seq: int, limit: int) -> list[SeqEvent]:
        self.reads += 1
        start = bisect.bisect_right([row.seq for row in self.rows], seq)
        return self.rows[start : start + limit]

    def max_seq(self) -> int:
        return self.rows[-1].seq if self.rows else 0

    def min_seq_since(self, time: str) -> int | None:
        return next((row.seq for row in self.rows if row.time >= time), None)

    def prune_seq_view(self, before_time: str) -> int:
        self.pruned_before.append(before_time)
        keep = [row for row in self.rows[:-1] if row.time >= before_time] + self.rows[-1:]
        deleted = len(self.rows) - len(keep)
        self.rows = keep
        return deleted
