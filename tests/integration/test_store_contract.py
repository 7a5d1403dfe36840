"""One contract for the event store and its views, run on SQLite and on the real Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.storage.view_digest import ScratchViewStore, SqlViewDigests
from application.audit.auditor import audit_log
from application.audit.replay import replay
from application.repo_host.app import AccountNotActive, RepoHost
from application.repo_host.group_commit import GroupCommitter
from domain.crypto.k256 import K256Keypair
from domain.repo.errors import InvalidSwap, RecordAlreadyExists, RecordNotFound
from domain.repo.writes import RecordWrite
from tests.integration.stores import Backend, open_backend

POST = "app.bsky.feed.post"


def post(text: str) -> dict[str, str]:
    return {"$type": POST, "text": text, "createdAt": "2024-01-01T00:00:00.000Z"}


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with open_backend(request.param, tmp_path) as opened:
        yield opened


@pytest.fixture
def host(backend: Backend) -> Iterator[RepoHost]:
    app = backend.host()
    yield app
    app.close()


def new_account(host: RepoHost, n: int) -> str:
    did = f"did:plc:{'a' * 20}{n:04d}"
    host.create_account(did, f"user{n}.test", None, K256Keypair.generate())
    return did


def test_commit_head_records_and_seq_become_visible_together(
    backend: Backend, host: RepoHost
) -> None:
    did = new_account(host, 1)
    before = backend.store.views.max_seq()
    commit = host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("hi"))])
    views = backend.store.views
    assert views.get_head(did).commit == commit.commit  # type: ignore[union-attr]
    assert views.get_record_cid(did, POST, "3k2aaaaaaaaa2") == commit.ops[0].cid
    rows = views.seq_after(before, 10)
    assert [row.kind for row in rows] == ["#commit"]
    assert views.get_block(commit.commit) == commit.commit_block


def test_account_creation_emits_identity_account_commit_sync_in_order(
    backend: Backend, host: RepoHost
) -> None:
    before = backend.store.views.max_seq()
    new_account(host, 2)
    kinds = [row.kind for row in backend.store.views.seq_after(before, 10)]
    assert kinds == ["#identity", "#account", "#commit", "#sync"]


def test_failed_batch_leaves_head_records_and_seq_unchanged(
    backend: Backend, host: RepoHost
) -> None:
    did = new_account(host, 3)
    host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("a"))])
    views = backend.store.views
    head, seq = views.get_head(did), views.max_seq()
    with pytest.raises(RecordNotFound):
        host.apply_writes(
            did,
            [
                RecordWrite("create", POST, "3k2aaaaaaaab2", post("b")),
                RecordWrite("delete", POST, "3k2zzzzzzzzz2"),
            ],
        )
    assert views.get_head(did) == head and views.max_seq() == seq
    assert views.get_record_cid(did, POST, "3k2aaaaaaaab2") is None


def test_swap_and_existence_preconditions_are_enforced(host: RepoHost) -> None:
    did = new_account(host, 4)
    first = host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("a"))])
    with pytest.raises(RecordAlreadyExists):
        host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("a"))])
    with pytest.raises(InvalidSwap):
        host.apply_writes(
            did, [RecordWrite("create", POST, "3k2aaaaaaaab2", post("b"))], first.data
        )
    stale = first.ops[0].cid
    host.apply_writes(did, [RecordWrite("update", POST, "3k2aaaaaaaaa2", post("a2"), stale)])
    with pytest.raises(InvalidSwap):
        host.apply_writes(did, [RecordWrite("update", POST, "3k2aaaaaaaaa2", post("a3"), stale)])


def test_a_second_writer_with_a_stale_head_retries_and_both_commits_land(
    backend: Backend, host: RepoHost
) -> None:
    did = new_account(host, 5)
    other = backend.host()
    try:
        a = host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("a"))])
        b = other.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaaab2", post("b"))])
        c = host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaaac2", post("c"))])
    finally:
        other.close()
    assert a.rev < b.rev < c.rev
    assert c.since == b.rev and c.prev_data == b.data
    assert backend.store.views.get_head(did).commit == c.commit  # type: ignore[union-attr]
    result = audit_log(host)
    assert not result.failures


def test_group_commit_records_many_dids_in_few_transactions(
    backend: Backend, host: RepoHost
) -> None:
    dids = [new_account(host, 10 + i) for i in range(8)]
    committer = GroupCommitter(host)
    try:
        futures = [
            committer.submit(did, [RecordWrite("create", POST, f"3k2aaaaaaa{i:02d}2", post("x"))])
            for i in range(5)
            for did in dids
        ]
        commits = [future.result(timeout=30) for future in futures]
    finally:
        committer.close()
    assert len(commits) == 40 and committer.commits == 40
    for did in dids:
        assert (
            len(backend.store.views.list_records(did, POST, limit=100, cursor=None, reverse=False))
            == 5
        )
    assert not audit_log(host).failures


def test_deactivated_account_cannot_commit(host: RepoHost) -> None:
    did = new_account(host, 6)
    host.set_status(did, "deactivated")
    with pytest.raises(AccountNotActive):
        host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("a"))])


def test_list_records_pages_both_directions_without_duplicates(
    backend: Backend, host: RepoHost
) -> None:
    did = new_account(host, 7)
    rkeys = [f"3k2aaaaaaa{i:02d}2" for i in range(23)]
    host.apply_writes(did, [RecordWrite("create", POST, k, post(k)) for k in rkeys])
    views = backend.store.views
    for reverse in (False, True):
        seen: list[str] = []
        cursor = None
        while True:
            page = views.list_records(did, POST, limit=5, cursor=cursor, reverse=reverse)
            seen += [rkey for rkey, _ in page]
            if len(page) < 5:
                break
            cursor = page[-1][0]
        assert seen == sorted(rkeys, reverse=not reverse)


def test_replay_rebuilds_every_view_identically(
    backend: Backend, host: RepoHost, tmp_path: Path
) -> None:
    did = new_account(host, 8)
    for i in range(10):
        host.apply_writes(did, [RecordWrite("create", POST, f"3k2aaaaaaa{i:02d}2", post("x"))])
    host.apply_writes(did, [RecordWrite("delete", POST, "3k2aaaaaaa03" + "2")])
    host.set_status(did, "deactivated")
    scratch = ScratchViewStore(tmp_path / "scratch.sqlite")
    try:
        report = replay(host, scratch, SqlViewDigests(backend.store.reads), scratch.digests())
    finally:
        scratch.close()
    assert report.ok, (report.live, report.rebuilt)
    assert report.events == backend.store.views.max_seq() or report.events > 0
