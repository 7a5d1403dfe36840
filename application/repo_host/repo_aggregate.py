"""The Repo aggregate: one hosted repository, id `at://<did>`; its events carry every block.

Decisions (the MST update, the signed commit, the ops) are made by `domain/repo`; the aggregate
records them as facts. Its state is only the head, so it stays tiny however large the repo.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import BaseAggregate

from application.event_base import StrCreated, StrEvent
from domain.data.cid import CID
from domain.repo.repo_commit import RepoCommit


def repo_id(did: str) -> str:
    """The aggregate id of `did`'s repository (distinct from the Account id, the DID)."""
    return f"at://{did}"


def _pairs(blocks: Any) -> list[list[Any]]:
    return [[cid, data] for cid, data in blocks.items()]


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
        blocks: list[list[Any]]

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
        blocks: list[list[Any]]
        proof: list[list[Any]]
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
            blocks=_pairs(genesis.blocks),
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
            blocks=_pairs(commit.blocks),
            proof=_pairs(commit.proof),
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
