"""The outcome of deciding a commit: everything the event, the views and the firehose need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.data.cid import CID
from domain.repo.block_map import BlockMap


@dataclass(frozen=True, slots=True)
class RepoOp:
    """One record operation of a commit, with the previous CID for updates and deletes."""

    action: str  # "create" | "update" | "delete"
    path: str  # "collection/rkey"
    cid: CID | None
    prev: CID | None = None

    @property
    def collection(self) -> str:
        """The NSID part of the path."""
        return self.path.split("/", 1)[0]

    @property
    def rkey(self) -> str:
        """The record key part of the path."""
        return self.path.split("/", 1)[1]

    def to_value(self) -> dict[str, Any]:
        """Data-model form stored in events."""
        return {"action": self.action, "path": self.path, "cid": self.cid, "prev": self.prev}

    @staticmethod
    def from_value(value: dict[str, Any]) -> RepoOp:
        """Inverse of `to_value`."""
        return RepoOp(value["action"], value["path"], value["cid"], value.get("prev"))


@dataclass(frozen=True, slots=True)
class RepoCommit:
    """A signed commit decided over a repo head, not yet recorded.

    `blocks` holds every block new in this commit (the signed commit first, then MST nodes and
    records); `proof` holds already-stored blocks a consumer needs to invert the commit.
    """

    did: str
    rev: str
    commit: CID
    since: str | None
    prev_data: CID | None
    data: CID
    ops: tuple[RepoOp, ...]
    blocks: BlockMap
    proof: BlockMap = field(default_factory=BlockMap)
    removed: tuple[CID, ...] = ()

    @property
    def commit_block(self) -> bytes:
        """The signed commit's DAG-CBOR bytes."""
        return self.blocks.require(self.commit)
