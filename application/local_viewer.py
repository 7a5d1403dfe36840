"""AppView-shaped views of an account's own new records, for read-after-write.

A post the AppView has not indexed yet is described as the AppView would describe it right
after creation: no likes, replies, reposts or quotes yet; its author the account with its
current profile; images as CDN (or `sync.getBlob`) URLs; a quoted post, feed or list looked
up at the AppView itself. Values are JSON-ready (`atjson`), as the AppView's answer is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from application.local_records import PROFILE, LocalRecord
from application.ports.block_store import BlockStore
from application.ports.repo_views import RepoViews
from domain.data import atjson, dag_cbor

INVALID_HANDLE = "handle.invalid"
EMBED = "app.bsky.embed."


class AppViewQueries(Protocol):
    """Queries to the configured AppView as the requester (service-authenticated)."""

    def query(self, requester: str, nsid: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The AppView's JSON answer, or None when it has none or cannot be reached."""
        ...


@dataclass(frozen=True, slots=True)
class ImageUrls:
    """Where clients fetch an account's images: the AppView's CDN when the operator names
    its pattern (`%s` for preset, DID and CID, as the reference's `cdnUrlPattern`), else
    this server's `sync.getBlob`."""

    public_url: str
    cdn_pattern: str | None = None

    def url(self, preset: str, did: str, cid: str) -> str:
        """The URL of blob `cid` of `did` rendered with `preset` (avatar, feed_thumbnail...)."""
        if self.cdn_pattern:
            return (
                self.cdn_pattern.replace("%s", preset, 1)
                .replace("%s", did, 1)
                .replace("%s", cid, 1)
            )
        base = self.public_url.rstrip("/")
        return f"{base}/xrpc/com.atproto.sync.getBlob?did={quote(did)}&cid={quote(cid)}"


def blob_cid(blob: Any) -> str | None:
    """The CID of a blob reference in JSON form (typed `ref.$link`, or a legacy `cid`)."""
    if not isinstance(blob, dict):
        return None
    ref = blob.get("ref")
    if isinstance(ref, dict) and isinstance(ref.get("$link"), str):
        return str(ref["$link"])
    legacy = blob.get("cid")
    return legacy if isinstance(legacy, str) else None


class LocalViewer:
    """Builds post and profile views of one account from its own repo."""

    def __init__(
        self,
        did: str,
        views: RepoViews,
        blocks: BlockStore,
        images: ImageUrls,
        appview: AppViewQueries | None,
    ) -> None:
        self.did, self.views, self.blocks = did, views, blocks
        self.images, self.appview = images, appview
        self._author: dict[str, Any] | None = None

    # -- profiles -----------------------------------------------------------------------

    def profile_basic(self) -> dict[str, Any] | None:
        """The account's `profileViewBasic`: handle from its account, the rest its profile."""
        if self._author is None:
            account = self.views.get_account(self.did)
            if account is None:
                return None
            view: dict[str, Any] = {"did": self.did, "handle": account.handle or INVALID_HANDLE}
            self._author = self.update_basic(view, self._profile_record() or {})
        return dict(self._author)

    def _profile_record(self) -> dict[str, Any] | None:
        cid = self.views.get_record_cid(self.did, PROFILE, "self")
        data = self.blocks.get_block(cid) if cid is not None else None
        value = atjson.to_json(dag_cbor.decode(data)) if data is not None else None
        return value if isinstance(value, dict) else None

    def update_basic(self, view: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
        """`view` with the display name and avatar of `profile` (absent ones removed)."""
        updated = {k: v for k, v in view.items() if k not in ("displayName", "avatar")}
        if isinstance(profile.get("displayName"), str):
            updated["displayName"] = profile["displayName"]
        avatar = blob_cid(profile.get("avatar"))
        if avatar is not None:
            updated["avatar"] = self.images.url("avatar", self.did, avatar)
        return updated

    def update_view(self, view: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
        """`update_basic` plus the description (a `profileView`)."""
        updated = self.update_basic(view, profile)
        updated.pop("description", None)
        if isinstance(profile.get("description"), str):
            updated["description"] = profile["description"]
        return updated

    def update_detailed(self, view: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
        """`update_view` plus the banner (a `profileViewDetailed`)."""
        updated = self.update_view(view, profile)
        updated.pop("banner", None)
        banner = blob_cid(profile.get("banner"))
        if banner is not None:
            updated["banner"] = self.images.url("banner", self.did, banner)
        return updated

    # -- posts --------------------------------------------------------------------------

    def post_view(self, post: LocalRecord) -> dict[str, Any] | None:
        """The `postView` of a post just written (None if the account is gone)."""
        author = self.profile_basic()
        if author is None:
            return None
        view: dict[str, Any] = {
            "uri": post.uri,
            "cid": post.cid,
            "author": author,
            "record": post.value,
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": post.indexed_at,
        }
        embed = self.embed_view(post.value.get("embed"))
        if embed is not None:
            view["embed"] = embed
        return view

    def insert_in_feed(
        self, feed: list[dict[str, Any]], posts: tuple[LocalRecord, ...]
    ) -> list[dict[str, Any]]:
        """`feed` (newest first) with the posts newer than its last item put in their place."""
        last = feed[-1]["post"]["indexedAt"] if feed else "1970-01-01T00:00:00.000Z"
        merged = list(feed)
        for post in reversed(posts):  # newest first, each put before the first older item
            if post.indexed_at <= last:
                continue
            view = self.post_view(post)
            if view is None:
                continue
            at = next((i for i, item in enumerate(merged)
                       if item["post"]["indexedAt"] < post.indexed_at), len(merged))  # fmt: skip
            merged.insert(at, {"post": view})
        return merged

    # -- embeds -------------------------------------------------------------------------

    def embed_view(self, embed: Any) -> dict[str, Any] | None:
        """The view of a post's embed, as far as it can be built here (video is not)."""
        if not isinstance(embed, dict):
            return None
        kind = embed.get("$type")
        if kind == EMBED + "images":
            return self._images(embed)
        if kind == EMBED + "external":
            return self._external(embed)
        if kind == EMBED + "record":
            return self._record(embed)
        if kind == EMBED + "recordWithMedia":
            media = embed.get("media")
            media = media if isinstance(media, dict) else {}
            shown = (
                self._images(media) if media.get("$type") == EMBED + "images"
                else self._external(media) if media.get("$type") == EMBED + "external" else None
            )  # fmt: skip
            record = embed.get("record")
            if shown is None or not isinstance(record, dict):
                return None
            return {"$type": EMBED + "recordWithMedia#view", "record": self._record(record),
                    "media": shown}  # fmt: skip
        return None

    def _images(self, embed: dict[str, Any]) -> dict[str, Any]:
        images = []
        for image in embed.get("images", []):
            cid = blob_cid(image.get("image"))
            if cid is None:
                continue
            view = {"thumb": self.images.url("feed_thumbnail", self.did, cid),
                    "fullsize": self.images.url("feed_fullsize", self.did, cid),
                    "alt": image.get("alt", "")}  # fmt: skip
            if "aspectRatio" in image:
                view["aspectRatio"] = image["aspectRatio"]
            images.append(view)
        return {"$type": EMBED + "images#view", "images": images}

    def _external(self, embed: dict[str, Any]) -> dict[str, Any]:
        external = embed.get("external", {})
        view = {key: external.get(key, "") for key in ("uri", "title", "description")}
        thumb = blob_cid(external.get("thumb"))
        if thumb is not None:
            view["thumb"] = self.images.url("feed_thumbnail", self.did, thumb)
        return {"$type": EMBED + "external#view", "external": view}

    def _record(self, embed: dict[str, Any]) -> dict[str, Any]:
        ref = embed.get("record")
        uri = str(ref.get("uri", "")) if isinstance(ref, dict) else ""
        found = self._embedded_record(uri)
        if found is None:
            found = {"$type": EMBED + "record#viewNotFound", "uri": uri, "notFound": True}
        return {"$type": EMBED + "record#view", "record": found}

    def _embedded_record(self, uri: str) -> dict[str, Any] | None:
        """A quoted post, feed generator or list, as the AppView shows it."""
        if self.appview is None or not uri.startswith("at://"):
            return None
        parts = uri[len("at://") :].split("/")
        collection = parts[1] if len(parts) > 2 else ""
        if collection == "app.bsky.feed.post":
            found = self.appview.query(self.did, "app.bsky.feed.getPosts", {"uris": [uri]})
            posts = found.get("posts") if found else None
            if not posts or not isinstance(posts[0], dict):
                return None
            post = posts[0]
            view = {"$type": EMBED + "record#viewRecord", "uri": post.get("uri"),
                    "cid": post.get("cid"), "author": post.get("author"),
                    "value": post.get("record"), "indexedAt": post.get("indexedAt")}  # fmt: skip
            if post.get("labels"):
                view["labels"] = post["labels"]
            if post.get("embed"):
                view["embeds"] = [post["embed"]]
            return view
        if collection == "app.bsky.feed.generator":
            found = self.appview.query(self.did, "app.bsky.feed.getFeedGenerator", {"feed": uri})
            generator = found.get("view") if found else None
            if not isinstance(generator, dict):
                return None
            return {"$type": "app.bsky.feed.defs#generatorView", **generator}
        if collection == "app.bsky.graph.list":
            found = self.appview.query(self.did, "app.bsky.graph.getList", {"list": uri})
            listed = found.get("list") if found else None
            if not isinstance(listed, dict):
                return None
            return {"$type": "app.bsky.graph.defs#listView", **listed}
        return None
