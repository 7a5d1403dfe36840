"""Read-after-write's pure parts: splicing posts into a feed (a hypothesis property) and
reading an account's newest writes back from its repo's commit events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from application.local_records import MAX_RECORDS, LocalRecord, LocalRecordReader, LocalRecords
from application.local_viewer import ImageUrls, LocalViewer
from application.repo_host.repo_aggregate import Repo
from application.views import AccountRow
from domain.data import dag_cbor
from domain.data.cid import CID

DID = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"


def _time(n: int) -> str:
    return f"2026-12-06T08:{n // 60:02d}:{n % 60:02d}.000Z"


class Views:
    """The records view and blocks of one account, in memory."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], CID] = {}
        self.blocks: dict[CID, bytes] = {}

    def put(self, collection: str, rkey: str, value: dict[str, Any]) -> CID:
        data = dag_cbor.encode(value)
        cid = CID.for_dag_cbor(data)
        self.records[(collection, rkey)] = cid
        self.blocks[cid] = data
        return cid

    def get_account(self, did: str) -> AccountRow | None:
        return AccountRow(did, "me.test", None, "active", "did:key:z") if did == DID else None

    def get_record_cid(self, did: str, collection: str, rkey: str) -> CID | None:
        return self.records.get((collection, rkey)) if did == DID else None

    def get_block(self, cid: CID) -> bytes | None:
        return self.blocks.get(cid)

    def get_blocks(self, cids: Any) -> dict[CID, bytes]:
        return {cid: self.blocks[cid] for cid in cids if cid in self.blocks}


def _viewer(views: Views) -> LocalViewer:
    return LocalViewer(DID, views, views, ImageUrls("https://pds.test"), None)  # type: ignore[arg-type]


def _feed_item(n: int) -> dict[str, Any]:
    post = {"uri": f"at://did:plc:other/app.bsky.feed.post/{n}", "cid": "x", "indexedAt": _time(n),
            "author": {"did": "did:plc:other", "handle": "o.test"}, "record": {}}  # fmt: skip
    return {"post": post}


@given(
    feed_times=st.sets(st.integers(0, 3000), max_size=8),
    post_times=st.sets(st.integers(0, 3000), max_size=8),
)
def test_posts_newer_than_the_feed_are_spliced_in_time_order(
    feed_times: set[int], post_times: set[int]
) -> None:
    feed = [_feed_item(n) for n in sorted(feed_times, reverse=True)]
    posts = tuple(
        LocalRecord(f"at://{DID}/app.bsky.feed.post/{n}", "c", _time(n), {"text": str(n)})
        for n in sorted(post_times)
    )
    merged = _viewer(Views()).insert_in_feed(feed, posts)
    times = [item["post"]["indexedAt"] for item in merged]
    assert times == sorted(times, reverse=True)
    assert [item for item in merged if item in feed] == feed  # nothing lost or reordered
    last = min(feed_times, default=-1)
    added = [item["post"]["uri"] for item in merged if item not in feed]
    assert added == [p.uri for p in reversed(posts) if int(p.uri.rsplit("/", 1)[1]) > last]


@dataclass(frozen=True)
class Event:
    """What the reader reads of a commit event."""

    rev: str
    ops: list[dict[str, Any]]
    timestamp: datetime


class Log:
    """A repo's commit events, newest last, read newest first as the event store does."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def commit(self, rev: str, *ops: tuple[str, str, CID | None]) -> None:
        event = object.__new__(Repo.Committed)
        values = [{"action": a, "path": p, "cid": c, "prev": None} for a, p, c in ops]
        stamp = datetime(2026, 12, 6, 8, 0, len(self.events), tzinfo=UTC)
        for name, value in (("rev", rev), ("ops", values), ("timestamp", stamp)):
            object.__setattr__(event, name, value)
        self.events.append(event)

    def get(self, originator_id: str, *, desc: bool = False, limit: int | None = None) -> Any:
        assert originator_id == f"at://{DID}" and desc
        return iter(list(reversed(self.events))[:limit])


def test_only_records_still_current_are_read_back_oldest_first() -> None:
    views, log = Views(), Log()
    old = views.put("app.bsky.feed.post", "a", {"text": "indexed"})
    log.commit("2000000000001", ("create", "app.bsky.feed.post/a", old))
    gone = views.put("app.bsky.feed.post", "b", {"text": "deleted later"})
    log.commit("2000000000002", ("create", "app.bsky.feed.post/b", gone))
    first = views.put("app.bsky.feed.post", "c", {"text": "v1"})
    log.commit("2000000000003", ("create", "app.bsky.feed.post/c", first))
    profile = views.put("app.bsky.actor.profile", "self", {"displayName": "Me"})
    log.commit("2000000000004", ("delete", "app.bsky.feed.post/b", None),
               ("create", "app.bsky.actor.profile/self", profile))  # fmt: skip
    second = views.put("app.bsky.feed.post", "c", {"text": "v2"})
    log.commit("2000000000005", ("update", "app.bsky.feed.post/c", second))
    reader = LocalRecordReader(log, views)  # type: ignore[arg-type]
    local = reader.since(DID, "2000000000001")
    assert local.count == 2
    assert [p.value for p in local.posts] == [{"text": "v2"}]
    assert local.profile is not None and local.profile.value == {"displayName": "Me"}
    assert reader.since(DID, "2000000000005") == LocalRecords()


def test_at_most_the_newest_records_are_read_back() -> None:
    views, log = Views(), Log()
    for n in range(MAX_RECORDS + 5):
        cid = views.put("app.bsky.feed.post", f"p{n:02d}", {"text": str(n)})
        log.commit(f"20000000000{n:02d}", ("create", f"app.bsky.feed.post/p{n:02d}", cid))
    local = LocalRecordReader(log, views).since(DID, "1000000000000")  # type: ignore[arg-type]
    assert [p.value["text"] for p in local.posts] == [str(n) for n in range(5, MAX_RECORDS + 5)]


def test_the_lag_is_the_age_of_the_oldest_record_the_appview_lacks() -> None:
    post = LocalRecord("at://x/app.bsky.feed.post/1", "c", "2026-12-06T08:00:00.000Z", {})
    profile = LocalRecord("at://x/app.bsky.actor.profile/self", "c", "2026-12-06T08:00:01.500Z", {})
    now = datetime(2026, 12, 6, 8, 0, 3, tzinfo=UTC)
    assert LocalRecords(2, profile, (post,)).lag_ms(now) == 3000
    assert LocalRecords(1, profile).lag_ms(now) == 1500
    assert LocalRecords().lag_ms(now) is None
