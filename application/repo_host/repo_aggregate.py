"""The Repo aggregate: one hosted repository, id `at://<did>`; its events carry every block.

Decisions (the MST update, the signed commit, the ops) are made by `domain/repo`; the aggregate
records them as facts. Its state is only the head, so it stays tiny however large the repo.

A commit event's `blocks` is a CAR: the signed commit, every new block and the proof blocks a
consumer needs to invert the commit. That is exactly the firehose `#commit` slice, so the
frame is rendered without re-encoding blocks, and replay inserts blocks from one bytes value
instead of decoding thousands of tagged CIDs (see ADR 0005).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import BaseAggregate

from application.event_base import StrCreated, StrEvent
from domain.data.cid import CID
from domain.repo.car import car_bytes
from domain.repo.repo_commit import RepoCommit


def repo_id(did: str) -> str:
    """The aggregate id of `did`'s repository (distinct from the Account id, the DID)."""
    return f"at://{did}"


def _slice(commit: RepoCommit) -> bytes:
    """The commit's CAR slice: commit block first, then new blocks, then proof blocks."""
    blocks = list(commit.blocks.items())
    blocks += [(cid, data) for cid, data in commit.proof.items() if cid not in commit.blocks]
    return car_bytes(commit.commit, blocks)


class Repo(BaseAggregate[str]):
    """A hosted atproto repository."""

    did: str
    head: CID
    rev: str
    data: CID

    class Event(StrEvent):
        """Base of Repo events."""

    class Created(StrCreated, Event):
        """The genesis commit over the empty tree (emits `#commit`)."""

        did: str
        rev: str
        commit: CID
        data: CID
        blocks: bytes

        def apply(self, aggregate: Any) -> None:
            aggregate.did = self.did
            aggregate.head, aggregate.rev, aggregate.data = self.commit, self.rev, self.data

    class Committed(Event):
        """A signed commit of record writes (emits `#commit`)."""

        did: str
        rev: str
        commit: CID
        since: str | None
        prev_data: CID | None
        data: CID
        ops: list[dict[str, Any]]
        blocks: bytes
        removed: list[CID]

        def apply(self, aggregate: Any) -> None:
            aggregate.head, aggregate.rev, aggregate.data = self.commit, self.rev, self.data

    class Imported(Committed):
        """The repo's contents replaced from a verified CAR (emits `#sync`)."""

    class SyncAnnounced(Event):
        """The current head announced to consumers, e.g. after creation (emits `#sync`)."""

        did: str
        rev: str
        commit: CID
        commit_block: bytes

    def __init__(self) -> None:
        """State is set by `Created.apply`."""

    @classmethod
    def create(cls, genesis: RepoCommit) -> Repo:
        """Record a new repository from its genesis commit."""
        return cls._create(
            cls.Created,
            id=repo_id(genesis.did),
            did=genesis.did,
            rev=genesis.rev,
            commit=genesis.commit,
            data=genesis.data,
            blocks=_slice(genesis),
        )

    def record_commit(self, commit: RepoCommit, *, imported: bool = False) -> None:
        """Record a commit decided over this repo's current head."""
        self.trigger_event(
            self.Imported if imported else self.Committed,
            did=self.did,
            rev=commit.rev,
            commit=commit.commit,
            since=commit.since,
            prev_data=commit.prev_data,
            data=commit.data,
            ops=[op.to_value() for op in commit.ops],
            blocks=_slice(commit),
            removed=list(commit.removed),
        )

    def announce_sync(self, commit_block: bytes) -> None:
        """Tell consumers the current head (`#sync`)."""
        self.trigger_event(
            self.SyncAnnounced,
            did=self.did,
            rev=self.rev,
            commit=self.head,
            commit_block=commit_block,
        )
