"""Read-after-write: the AppView's answer with the requester's own newest writes spliced in.

An account posts through its PDS, and the AppView indexes the post a moment later from the
firehose. A client that reloads its timeline in between would not see its post. The AppView
says how far it got (`atproto-repo-rev`); for the methods below, the PDS adds what the
account wrote after that rev (`LocalRecordReader`) as the AppView would show it
(`LocalViewer`), and says how far behind the AppView was (`Atproto-Upstream-Lag`).

Like the reference, an answer that does not match its lexicon is passed on untouched, and
only the requester's own records are ever added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.local_records import POST, LocalRecord, LocalRecordReader, LocalRecords
from application.local_viewer import LocalViewer
from domain.data import atjson
from domain.data.errors import DataModelError
from domain.lexicon import LexiconCatalog, ValidationError, validate_output
from domain.lexicon.errors import LexiconError

GET_POST_THREAD = "app.bsky.feed.getPostThread"
THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"
REPOST = "app.bsky.feed.defs#reasonRepost"

Munge = Callable[[LocalViewer, dict[str, Any], LocalRecords, str], dict[str, Any]]
ViewerFor = Callable[[str], LocalViewer]
ThreadFetch = Callable[[str, str, dict[str, Any]], dict[str, Any] | None]
"""(requester, post URI, params) -> the AppView's getPostThread answer, or None."""


@dataclass(frozen=True, slots=True)
class Munged:
    """The answer to send instead of the AppView's, and the AppView's lag if known."""

    body: dict[str, Any]
    lag_ms: int | None


def _with_author_profile(
    viewer: LocalViewer, feed: list[dict[str, Any]], local: LocalRecords, requester: str
) -> list[dict[str, Any]]:
    """`feed` with the requester's avatar and display name as its profile says now."""
    if local.profile is None:
        return feed
    profile = local.profile.value
    return [
        {**item, "post": {**item["post"],
                          "author": viewer.update_basic(item["post"]["author"], profile)}}
        if item["post"]["author"].get("did") == requester else item
        for item in feed
    ]  # fmt: skip


def _timeline(
    viewer: LocalViewer, body: dict[str, Any], local: LocalRecords, _requester: str
) -> dict[str, Any]:
    return {**body, "feed": viewer.insert_in_feed(body["feed"], local.posts)}


def _is_own_feed(feed: list[dict[str, Any]], requester: str) -> bool:
    """Is this the requester's author feed? (Its first item is theirs, or their repost.)"""
    if not feed:
        return False
    first = feed[0]
    reason = first.get("reason")
    if reason is None:
        return bool(first["post"]["author"].get("did") == requester)
    return bool(reason.get("$type") == REPOST and reason.get("by", {}).get("did") == requester)


def _author_feed(
    viewer: LocalViewer, body: dict[str, Any], local: LocalRecords, requester: str
) -> dict[str, Any]:
    if not _is_own_feed(body["feed"], requester):
        return body
    feed = _with_author_profile(viewer, body["feed"], local, requester)
    return {**body, "feed": viewer.insert_in_feed(feed, local.posts)}


def _actor_likes(
    viewer: LocalViewer, body: dict[str, Any], local: LocalRecords, requester: str
) -> dict[str, Any]:
    return {**body, "feed": _with_author_profile(viewer, body["feed"], local, requester)}


def _profile(
    viewer: LocalViewer, body: dict[str, Any], local: LocalRecords, requester: str
) -> dict[str, Any]:
    if local.profile is None or body.get("did") != requester:
        return body
    return viewer.update_detailed(body, local.profile.value)


def _profiles(
    viewer: LocalViewer, body: dict[str, Any], local: LocalRecords, requester: str
) -> dict[str, Any]:
    if local.profile is None:
        return body
    profile = local.profile.value
    return {**body, "profiles": [
        viewer.update_detailed(p, profile) if p.get("did") == requester else p
        for p in body["profiles"]
    ]}  # fmt: skip


def _post_thread(
    viewer: LocalViewer, body: dict[str, Any], local: LocalRecords, _requester: str
) -> dict[str, Any]:
    thread = body.get("thread")
    if not isinstance(thread, dict) or thread.get("$type") != THREAD_VIEW:
        return body
    return {**body, "thread": add_to_thread(viewer, thread, local.posts)}


def _root_of(record: Any) -> str | None:
    reply = record.get("reply") if isinstance(record, dict) else None
    root = reply.get("root") if isinstance(reply, dict) else None
    uri = root.get("uri") if isinstance(root, dict) else None
    return uri if isinstance(uri, str) else None


def _parent_of(record: Any) -> str | None:
    reply = record.get("reply") if isinstance(record, dict) else None
    parent = reply.get("parent") if isinstance(reply, dict) else None
    uri = parent.get("uri") if isinstance(parent, dict) else None
    return uri if isinstance(uri, str) else None


def add_to_thread(
    viewer: LocalViewer, thread: dict[str, Any], posts: tuple[LocalRecord, ...]
) -> dict[str, Any]:
    """`thread` with the requester's new replies in it, each first among its parent's."""
    anchor_root = _root_of(thread["post"].get("record"))
    for post in posts:
        root = _root_of(post.value)
        if root is not None and root in (thread["post"]["uri"], anchor_root):
            thread = _insert_reply(viewer, thread, post)
    return thread


def _insert_reply(viewer: LocalViewer, view: dict[str, Any], post: LocalRecord) -> dict[str, Any]:
    if _parent_of(post.value) == view["post"]["uri"]:
        shown = viewer.post_view(post)
        if shown is None:
            return view
        reply = {"$type": THREAD_VIEW, "post": shown}
        return {**view, "replies": [reply, *view.get("replies", [])]}
    if not view.get("replies"):
        return view
    return {**view, "replies": [
        _insert_reply(viewer, r, post) if r.get("$type") == THREAD_VIEW else r
        for r in view["replies"]
    ]}  # fmt: skip


def _by_did(viewer: LocalViewer, uri: str) -> str:
    """`uri` with the viewer's handle, if it names the account so, replaced by its DID."""
    authority, _, rest = uri.removeprefix("at://").partition("/")
    if authority.startswith("did:"):
        return uri
    account = viewer.views.get_account(viewer.did)
    if account is None or account.handle != authority.lower():
        return uri
    return f"at://{viewer.did}/{rest}"


MUNGES: dict[str, Munge] = {
    "app.bsky.feed.getTimeline": _timeline,
    "app.bsky.feed.getAuthorFeed": _author_feed,
    "app.bsky.feed.getActorLikes": _actor_likes,
    "app.bsky.actor.getProfile": _profile,
    "app.bsky.actor.getProfiles": _profiles,
    GET_POST_THREAD: _post_thread,
}


class ReadAfterWrite:
    """Splices an account's unindexed writes into AppView answers."""

    def __init__(
        self,
        records: LocalRecordReader,
        viewer_for: ViewerFor,
        catalog: LexiconCatalog,
        now: Callable[[], datetime],
    ) -> None:
        self.records, self.viewer_for = records, viewer_for
        self.catalog, self.now = catalog, now

    @staticmethod
    def applies_to(nsid: str) -> bool:
        """Does `nsid`'s answer get the requester's writes spliced in?"""
        return nsid in MUNGES

    def munge(self, nsid: str, requester: str, rev: str, body: Any) -> Munged | None:
        """The AppView's answer `body` (JSON) with `requester`'s writes after `rev`; None
        when there is nothing to add or the answer is not what the lexicon says."""
        local = self.records.since(requester, rev)
        if local.count == 0 or not self._valid(nsid, body):
            return None
        munged = MUNGES[nsid](self.viewer_for(requester), body, local, requester)
        return Munged(munged, local.lag_ms(self.now()))

    def thread_not_found(
        self, requester: str, rev: str, uri: str, params: dict[str, Any], fetch: ThreadFetch
    ) -> Munged | None:
        """A thread the AppView does not know yet, when its post is the requester's own
        newest: built here, with its parents from the AppView (`fetch`) when it has them."""
        viewer = self.viewer_for(requester)
        uri = _by_did(viewer, uri)
        if not uri.startswith(f"at://{requester}/{POST}/"):
            return None
        local = self.records.since(requester, rev)
        found = next((p for p in local.posts if p.uri == uri), None)
        if found is None:
            return None
        shown = viewer.post_view(found)
        if shown is None:
            return None
        thread: dict[str, Any] = {"$type": THREAD_VIEW, "post": shown}
        thread = add_to_thread(viewer, thread, tuple(p for p in local.posts if p.uri != uri))
        parent = _parent_of(found.value)
        if parent is not None:
            above = fetch(requester, parent, {**params, "depth": 0})
            if above is not None and isinstance(above.get("thread"), dict):
                thread["parent"] = above["thread"]
        return Munged({"thread": thread}, local.lag_ms(self.now()))

    def _valid(self, nsid: str, body: Any) -> bool:
        try:
            validate_output(self.catalog, nsid, atjson.from_json(body))
        except (ValidationError, DataModelError, LexiconError, ValueError):
            return False
        return True
