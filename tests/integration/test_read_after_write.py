"""Read-after-write over real sockets: a stand-in AppView answers as of a rev it names
(`atproto-repo-rev`), and the PDS splices in what the account wrote after that rev.

Every spliced answer is checked against its lexicon here, since proxied methods are not
covered by the server's own output check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.lexicon_files import default_catalog
from domain.data import atjson
from domain.lexicon import validate_output
from tests.integration.conftest import Account, LiveServer, live_server
from tests.integration.live_server import serve
from tests.integration.stand_in_service import StandInService

POST = "app.bsky.feed.post"
THREAD = "app.bsky.feed.defs#threadViewPost"
CREATED_AT = "2026-12-06T08:00:00.000Z"


@dataclass
class Answer:
    """What the stand-in AppView says for one method: status, JSON body, indexed rev."""

    body: dict[str, Any]
    rev: str | None
    status: int = 200


class AppView(StandInService):
    """A stand-in AppView whose answers each test sets."""

    SERVICE_ID = "#bsky_appview"
    SERVICE_TYPE = "BskyAppView"

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, Answer | Callable[[dict[str, str]], Answer]] = {}
        self.asked: list[tuple[str, dict[str, str]]] = []

    async def xrpc(self, request: Request) -> Response:
        nsid = request.path_params["method"]
        self.verified(request)
        self.asked.append((nsid, dict(request.query_params)))
        answer = self.answers.get(nsid)
        if callable(answer):
            answer = answer(dict(request.query_params))
        if answer is None:
            return JSONResponse({"error": "MethodNotImplemented", "message": nsid}, 501)
        headers = {"atproto-repo-rev": answer.rev} if answer.rev else {}
        return JSONResponse(answer.body, answer.status, headers=headers)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/did.json", self.did_doc),
            Route("/xrpc/{method}", self.xrpc, methods=["GET", "POST"]),
        ])  # fmt: skip


@dataclass
class World:
    """The PDS, the AppView and one account with a first post the AppView has indexed."""

    live: LiveServer
    appview: AppView
    account: Account
    first: dict[str, Any] = field(default_factory=dict)

    def get(self, nsid: str, **params: Any) -> httpx.Response:
        return self.live.http.get(f"/xrpc/{nsid}", params=params, headers=self.account.auth)

    def rev(self) -> str:
        head = self.live.services.views.get_head(self.account.did)
        assert head is not None
        return head.rev

    def post(self, text: str, **extra: Any) -> dict[str, Any]:
        record = {"$type": POST, "text": text, "createdAt": CREATED_AT, **extra}
        response = self.live.http.post(
            "/xrpc/com.atproto.repo.createRecord",
            json={"repo": self.account.did, "collection": POST, "record": record},
            headers=self.account.auth,
        )
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return {**created, "record": record}

    def profile(self, name: str, **extra: Any) -> None:
        record = {"$type": "app.bsky.actor.profile", "displayName": name, **extra}
        response = self.live.http.post(
            "/xrpc/com.atproto.repo.putRecord",
            json={"repo": self.account.did, "collection": "app.bsky.actor.profile",
                  "rkey": "self", "record": record},
            headers=self.account.auth,
        )  # fmt: skip
        assert response.status_code == 200, response.text

    def indexed(self, post: dict[str, Any], at: str = "2026-12-06T07:00:00.000Z") -> dict[str, Any]:
        """The AppView's postView of a post it has indexed."""
        author = {"did": self.account.did, "handle": self.account.handle, "displayName": "Old"}
        return {"uri": post["uri"], "cid": post["cid"], "author": author,
                "record": post["record"], "indexedAt": at}  # fmt: skip


@pytest.fixture
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    appview = AppView()
    with (
        serve(appview.app(), appview.port),
        live_server(
            tmp_path_factory.mktemp("raw-pds"),
            appview_url=f"http://localhost:{appview.port}",
            appview_did=appview.did,
            allow_private_identity=True,
        ) as live,
    ):
        appview.services = live.services
        w = World(live, appview, live.create_account("raw"))
        w.first = w.post("indexed already")
        yield w


def _valid(nsid: str, body: dict[str, Any]) -> dict[str, Any]:
    validate_output(default_catalog(), nsid, atjson.from_json(body))
    return body


def test_a_timeline_shows_the_accounts_newer_posts_first_with_the_upstream_lag(
    world: World,
) -> None:
    indexed_rev = world.rev()
    world.appview.answers["app.bsky.feed.getTimeline"] = Answer(
        {"feed": [{"post": world.indexed(world.first)}], "cursor": "c1"}, indexed_rev
    )
    second, third = world.post("second"), world.post("third")
    world.profile("New Name")
    response = world.get("app.bsky.feed.getTimeline")
    assert response.status_code == 200, response.text
    body = _valid("app.bsky.feed.getTimeline", response.json())
    assert [item["post"]["uri"] for item in body["feed"]] == [
        third["uri"], second["uri"], world.first["uri"],
    ]  # fmt: skip
    new = body["feed"][0]["post"]
    assert (new["cid"], new["record"]["text"], new["likeCount"]) == (third["cid"], "third", 0)
    assert new["author"] == {
        "did": world.account.did, "handle": world.account.handle, "displayName": "New Name",
    }  # fmt: skip
    assert body["cursor"] == "c1"
    assert int(response.headers["atproto-upstream-lag"]) >= 0
    assert response.headers["atproto-repo-rev"] == indexed_rev


def test_nothing_new_or_no_rev_passes_the_answer_through_untouched(world: World) -> None:
    answer = {"feed": [{"post": world.indexed(world.first)}]}
    world.appview.answers["app.bsky.feed.getTimeline"] = Answer(answer, world.rev())
    response = world.get("app.bsky.feed.getTimeline")
    assert response.json() == answer
    assert "atproto-upstream-lag" not in response.headers
    world.post("after the rev")
    world.appview.answers["app.bsky.feed.getTimeline"] = Answer(answer, None)
    assert world.get("app.bsky.feed.getTimeline").json() == answer


def test_an_answer_that_breaks_its_lexicon_is_not_munged(world: World) -> None:
    broken = {"feed": [{"post": {"uri": world.first["uri"]}}]}  # no cid, author, record...
    world.appview.answers["app.bsky.feed.getTimeline"] = Answer(broken, world.rev())
    world.post("newer")
    assert world.get("app.bsky.feed.getTimeline").json() == broken


def test_a_post_deleted_since_the_rev_and_a_rev_older_than_the_repo_add_nothing(
    world: World,
) -> None:
    answer = {"feed": [{"post": world.indexed(world.first)}]}
    world.appview.answers["app.bsky.feed.getTimeline"] = Answer(answer, world.rev())
    gone = world.post("regretted")
    rkey = gone["uri"].rsplit("/", 1)[1]
    deleted = world.live.http.post(
        "/xrpc/com.atproto.repo.deleteRecord",
        json={"repo": world.account.did, "collection": POST, "rkey": rkey},
        headers=world.account.auth,
    )
    assert deleted.status_code == 200, deleted.text
    assert world.get("app.bsky.feed.getTimeline").json() == answer
    world.appview.answers["app.bsky.feed.getTimeline"] = Answer(answer, "2222222222222")
    assert world.get("app.bsky.feed.getTimeline").json() == answer


def test_only_the_accounts_own_author_feed_gets_its_posts(world: World) -> None:
    rev = world.rev()
    own = {"feed": [{"post": world.indexed(world.first)}]}
    world.appview.answers["app.bsky.feed.getAuthorFeed"] = Answer(own, rev)
    newer = world.post("mine")
    body = _valid(
        "app.bsky.feed.getAuthorFeed",
        world.get("app.bsky.feed.getAuthorFeed", actor=world.account.did).json(),
    )
    assert [item["post"]["uri"] for item in body["feed"]] == [newer["uri"], world.first["uri"]]
    someone = {"did": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "handle": "other.test"}
    other_author = {**world.indexed(world.first), "author": someone}
    theirs = {"feed": [{"post": other_author}]}
    world.appview.answers["app.bsky.feed.getAuthorFeed"] = Answer(theirs, rev)
    assert world.get("app.bsky.feed.getAuthorFeed", actor="other.test").json() == theirs


def test_own_profile_views_show_the_new_profile_record(world: World) -> None:
    rev = world.rev()
    stale = {"did": world.account.did, "handle": world.account.handle, "displayName": "Old",
             "description": "old words", "banner": "https://cdn.example/old"}  # fmt: skip
    other = {"did": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "handle": "other.test"}
    world.appview.answers["app.bsky.actor.getProfile"] = Answer(stale, rev)
    world.appview.answers["app.bsky.actor.getProfiles"] = Answer({"profiles": [other, stale]}, rev)
    world.profile("Fresh", description="new words")
    body = _valid(
        "app.bsky.actor.getProfile",
        world.get("app.bsky.actor.getProfile", actor=world.account.did).json(),
    )
    assert (body["displayName"], body["description"]) == ("Fresh", "new words")
    assert "banner" not in body  # the new profile has none
    profiles = world.get("app.bsky.actor.getProfiles", actors=[world.account.did]).json()
    assert profiles["profiles"][0] == other
    assert profiles["profiles"][1]["displayName"] == "Fresh"


def test_a_new_reply_appears_under_its_parent_in_the_thread(world: World) -> None:
    rev = world.rev()
    root = {"$type": THREAD, "post": world.indexed(world.first), "replies": []}
    world.appview.answers["app.bsky.feed.getPostThread"] = Answer({"thread": root}, rev)
    ref = {"uri": world.first["uri"], "cid": world.first["cid"]}
    reply = world.post("a reply", reply={"root": ref, "parent": ref})
    world.post("unrelated")
    body = _valid(
        "app.bsky.feed.getPostThread",
        world.get("app.bsky.feed.getPostThread", uri=world.first["uri"]).json(),
    )
    replies = body["thread"]["replies"]
    assert [r["post"]["uri"] for r in replies] == [reply["uri"]]
    assert replies[0]["$type"] == THREAD


def test_a_thread_the_appview_has_not_seen_is_built_here_with_its_parents(world: World) -> None:
    rev = world.rev()
    ref = {"uri": world.first["uri"], "cid": world.first["cid"]}
    reply = world.post("too new to be indexed", reply={"root": ref, "parent": ref})
    not_found = Answer({"error": "NotFound", "message": "Post not found"}, rev, status=400)
    known = Answer({"thread": {"$type": THREAD, "post": world.indexed(world.first)}}, rev)

    def thread(params: dict[str, str]) -> Answer:
        return known if params["uri"] == world.first["uri"] else not_found

    world.appview.answers["app.bsky.feed.getPostThread"] = thread
    response = world.get("app.bsky.feed.getPostThread", uri=reply["uri"], parentHeight=3)
    assert response.status_code == 200, response.text
    body = _valid("app.bsky.feed.getPostThread", response.json())
    assert body["thread"]["post"]["uri"] == reply["uri"]
    assert body["thread"]["parent"]["post"]["uri"] == world.first["uri"]
    assert world.appview.asked[-1] == (
        "app.bsky.feed.getPostThread", {"uri": world.first["uri"], "parentHeight": "3",
                                        "depth": "0"},
    )  # fmt: skip
    world.appview.answers["app.bsky.feed.getPostThread"] = not_found
    by_handle = reply["uri"].replace(world.account.did, world.account.handle)
    assert world.get("app.bsky.feed.getPostThread", uri=by_handle).status_code == 200
    unknown = world.get("app.bsky.feed.getPostThread", uri=world.first["uri"] + "x")
    assert (unknown.status_code, unknown.json()["error"]) == (400, "NotFound")


def test_embedded_images_and_quoted_posts_are_shown_as_the_appview_would(world: World) -> None:
    rev = world.rev()
    world.appview.answers["app.bsky.feed.getTimeline"] = Answer({"feed": []}, rev)
    world.appview.answers["app.bsky.feed.getPosts"] = Answer(
        {"posts": [world.indexed(world.first)]}, rev
    )
    uploaded = world.live.http.post(
        "/xrpc/com.atproto.repo.uploadBlob",
        content=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        headers={**world.account.auth, "content-type": "image/png"},
    )
    assert uploaded.status_code == 200, uploaded.text
    blob = uploaded.json()["blob"]
    images = {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": "a square"}]}
    world.post("look", embed=images)
    quote = {"$type": "app.bsky.embed.record",
             "record": {"uri": world.first["uri"], "cid": world.first["cid"]}}  # fmt: skip
    world.post("quoting", embed=quote)
    body = _valid("app.bsky.feed.getTimeline", world.get("app.bsky.feed.getTimeline").json())
    quoted, pictured = (item["post"]["embed"] for item in body["feed"])
    assert quoted["record"]["$type"] == "app.bsky.embed.record#viewRecord"
    assert quoted["record"]["uri"] == world.first["uri"]
    cid = blob["ref"]["$link"]
    image = pictured["images"][0]
    assert image["alt"] == "a square"
    public_url = world.live.services.settings.public_url
    assert image["thumb"] == (
        f"{public_url}/xrpc/com.atproto.sync.getBlob?did="
        f"{world.account.did.replace(':', '%3A')}&cid={cid}"
    )
    fetched = world.live.http.get(image["fullsize"].removeprefix(public_url))
    assert fetched.status_code == 200
