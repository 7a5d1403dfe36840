"""An account's own records written after a rev: what an AppView has not indexed yet.

AppViews answer with `atproto-repo-rev`, the newest rev of the requester's repo they have
indexed. Posts and the profile the account wrote after it are read back from the log (the
repo's newest commit events, whose rev and time are the record's) so the PDS can splice them
into the AppView's answer: read-after-write. The newest op on a path decides: a record
created and deleted since the rev is simply gone, one rewritten shows its last version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from application.ports.block_store import BlockStore
from application.projection import frame_time
from application.repo_host.repo_aggregate import Repo, repo_id
from domain.data import atjson, dag_cbor
from domain.data.cid import CID

POST = "app.bsky.feed.post"
PROFILE = "app.bsky.actor.profile"

MAX_RECORDS = 10
"""The most records spliced in (the reference's limit): an AppView that far behind is
lagging, and the answer it gave is the better part of the truth."""
MAX_COMMITS = 50
"""The most commit events read back looking for the AppView's rev."""


class RepoEvents(Protocol):
    """The log read per aggregate, newest first (eventsourcing's `EventStore.get`)."""

    def get(self, originator_id: str, *, desc: bool = ..., limit: int | None = ...) -> Any:
        """The aggregate's events."""
        ...


@dataclass(frozen=True, slots=True)
class LocalRecord:
    """A record as an AppView would describe it: AT-URI, CID, time indexed, JSON value."""

    uri: str
    cid: str
    indexed_at: str
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LocalRecords:
    """What was written after the rev: the profile, if rewritten, and posts, oldest first."""

    count: int = 0
    profile: LocalRecord | None = None
    posts: tuple[LocalRecord, ...] = field(default=())

    def lag_ms(self, now: datetime) -> int | None:
        """How far behind the AppView is: the age of the oldest record it lacks."""
        times = [post.indexed_at for post in self.posts]
        if self.profile is not None:
            times.append(self.profile.indexed_at)
        if not times:
            return None
        oldest = datetime.fromisoformat(min(times).replace("Z", "+00:00"))
        return max(0, int((now - oldest).total_seconds() * 1000))


@dataclass(frozen=True, slots=True)
class _Written:
    collection: str
    rkey: str
    cid: CID
    indexed_at: str


class LocalRecordReader:
    """Reads an account's records newer than a rev from its repo's commit events."""

    def __init__(self, events: RepoEvents, blocks: BlockStore) -> None:
        self.events, self.blocks = events, blocks

    def since(self, did: str, rev: str) -> LocalRecords:
        """The records `did` wrote after `rev` and still holds (empty if `rev` is unknown).

        A rev older than the repo itself (an account migrated here, a stale AppView) finds
        nothing to compare with, so nothing is spliced: the reference's sanity check.
        """
        written = self._written_after(did, rev)
        if not written:
            return LocalRecords()
        blocks = self.blocks.get_blocks(w.cid for w in written)
        profile: LocalRecord | None = None
        posts: list[LocalRecord] = []
        for w in written:
            data = blocks.get(w.cid)
            if data is None:
                continue
            value = atjson.to_json(dag_cbor.decode(data))
            if not isinstance(value, dict):
                continue
            record = LocalRecord(f"at://{did}/{w.collection}/{w.rkey}", str(w.cid),
                                 w.indexed_at, value)  # fmt: skip
            if w.collection == PROFILE:
                profile = record
            elif w.collection == POST:
                posts.append(record)
        return LocalRecords(len(written), profile, tuple(posts))

    def _written_after(self, did: str, rev: str) -> list[_Written]:
        """Records written after `rev` and not deleted since, oldest first, at most
        `MAX_RECORDS` (the newest)."""
        newest_first: list[_Written] = []
        seen: set[str] = set()
        for event in self.events.get(repo_id(did), desc=True, limit=MAX_COMMITS):
            if not isinstance(event, Repo.Created | Repo.Committed):
                continue
            if event.rev <= rev:
                break
            if isinstance(event, Repo.Created | Repo.Imported):
                return []  # the AppView's rev predates this repo's history here
            for op in reversed(event.ops):
                path = op["path"]
                if path in seen:
                    continue
                seen.add(path)
                if op["action"] == "delete":
                    continue
                collection, _, rkey = path.partition("/")
                newest_first.append(_Written(collection, rkey, op["cid"],
                                             frame_time(event.timestamp)))  # fmt: skip
        return list(reversed(newest_first[:MAX_RECORDS]))
