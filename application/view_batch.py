"""The folded, final effect of a run of events on the views, as plain rows.

Within one batch only the last state of each row matters (the views are upserted
projections), so changes are folded per key: the final record CID or deletion, the final blob
references of each record, the last head and account row per DID, the final takedown (or its
absence) of each record and blob. A page of a thousand replayed events, or a group commit of
many DIDs, then costs one statement per table.

Rows hold only bytes, str and int, so a batch built in a worker process crosses back to the
writer as cheaply as pickle can move bytes (see `application/audit/parallel_projection.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from application.views import ViewChanges

RecordKey = tuple[str, str, str]
"""(did, collection, rkey)"""


class ViewBatch:
    """Folded view rows of a sequence of events, in the order they must be applied."""

    __slots__ = (
        "accounts",
        "blob_refs",
        "blob_takedowns",
        "blocks",
        "heads",
        "record_takedowns",
        "records",
        "seq_events",
    )

    def __init__(self) -> None:
        self.blocks: dict[bytes, bytes] = {}
        self.records: dict[RecordKey, bytes | None] = {}
        self.blob_refs: dict[tuple[str, str], list[bytes]] = {}
        self.heads: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.record_takedowns: dict[RecordKey, str | None] = {}
        self.blob_takedowns: dict[tuple[str, bytes], str | None] = {}
        self.seq_events: list[dict[str, Any]] = []

    @staticmethod
    def of(changes: Sequence[ViewChanges | None], seqs: Sequence[int]) -> ViewBatch:
        """Fold `changes[i]`, which belongs to the event with `seqs[i]`, in order."""
        batch = ViewBatch()
        for change, seq in zip(changes, seqs, strict=True):
            if change is not None:
                batch.add(change, seq)
        return batch

    def add(self, change: ViewChanges, seq: int) -> None:
        """Fold one event's changes (with its seq) on top of what is already here."""
        self.blocks.update(change.blocks)
        records = self.records
        for key in change.record_deletes:
            records[key] = None
        for did, path in change.blob_deletes:
            self.blob_refs[(did, path)] = []
        for r in change.record_puts:
            records[(r.did, r.collection, r.rkey)] = r.cid.raw
        for b in change.blob_puts:
            self.blob_refs.setdefault((b.did, b.record_path), []).append(b.cid.raw)
        for t in change.record_takedowns:
            self.record_takedowns[(t.did, t.collection, t.rkey)] = t.ref
        for bt in change.blob_takedowns:
            self.blob_takedowns[(bt.did, bt.cid.raw)] = bt.ref
        if change.head is not None:
            h = change.head
            self.heads[h.did] = {
                "did": h.did, "commit_cid": h.commit.raw, "rev": h.rev, "data_cid": h.data.raw
            }  # fmt: skip
        if change.account is not None:
            a = change.account
            self.accounts[a.did] = {
                "did": a.did, "handle": a.handle, "email": a.email,
                "status": a.status, "signing_key": a.signing_key,
            }  # fmt: skip
        if change.render_frame is not None:
            self.seq_events.append(
                {
                    "seq": seq,
                    "did": change.frame_did,
                    "kind": change.frame_kind,
                    "time": change.frame_time,
                    "frame": change.render_frame(seq),
                }
            )

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self.__slots__, state, strict=True):
            setattr(self, name, value)
