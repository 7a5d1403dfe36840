"""One contract for the event store and its views, run on SQLite and on the real Postgres."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, update

from adapters.storage.schema import blob_takedowns, record_takedowns
from adapters.storage.scratch_view_store import ScratchViewStore
from adapters.storage.sql_key_store import engine_for
from application.audit import parallel_projection
from application.audit.auditor import audit_log
from application.audit.replay import replay
from application.repo_export import RepoExporter
from application.repo_host.app import AccountNotActive, RepoHost
from application.repo_host.group_commit import GroupCommitter
from domain.crypto.k256 import K256Keypair
from domain.data.cid import CID
from domain.repo.car import car_bytes, load_car
from domain.repo.commit import Commit, UnsignedCommit, sign_commit, verify_commit
from domain.repo.errors import (
    InvalidCar,
    InvalidSwap,
    RecordAlreadyExists,
    RecordNotFound,
    RepoNotFound,
)
from domain.repo.writes import RecordWrite
from tests.integration.stores import Backend, open_backend

POST = "app.bsky.feed.post"
NOTE = "com.example.note"
BLOB = CID.for_raw(b"a taken-down image")


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


def test_a_batch_rejects_only_its_inactive_accounts(backend: Backend, host: RepoHost) -> None:
    active, taken_down, unknown = new_account(host, 30), new_account(host, 31), "did:plc:none"
    host.set_status(taken_down, "takendown")
    results = host.apply_writes_batch(
        [
            (did, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("a"))], None)
            for did in (active, taken_down, unknown, active)
        ]
    )
    assert not isinstance(results[0], Exception)
    assert isinstance(results[1], AccountNotActive) and results[1].status == "takendown"
    assert isinstance(results[2], RepoNotFound) and not isinstance(results[2], AccountNotActive)
    assert isinstance(results[3], RecordAlreadyExists)
    assert backend.store.views.get_accounts([active, unknown]).keys() == {active}


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


def test_dids_with_a_collection_are_the_active_holders_paged_by_did(
    backend: Backend, host: RepoHost
) -> None:
    holders = [new_account(host, n) for n in range(20, 26)]
    for did in holders:
        host.apply_writes(did, [RecordWrite("create", NOTE, "3k2aaaaaaaaa2", {"$type": NOTE})])
    without = new_account(host, 26)
    host.apply_writes(without, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("p"))])
    emptied = holders.pop()
    host.apply_writes(emptied, [RecordWrite("delete", NOTE, "3k2aaaaaaaaa2")])
    inactive = holders.pop()
    host.set_status(inactive, "takendown")
    views = backend.store.views
    pages, cursor = [], None
    while page := views.list_dids_with_collection(NOTE, cursor, 2):
        pages.append(page)
        cursor = page[-1]
    assert [did for page in pages for did in page] == sorted(holders)
    assert [len(page) for page in pages] == [2, 2]
    assert views.list_dids_with_collection("com.example.none", None, 10) == []


@pytest.mark.parametrize(
    ("workers", "own_reads"),
    [(1, False), (1, True), (2, False), (2, True)],
    ids=["in-process", "in-process-reading-the-log", "two-workers", "two-workers-reading-the-log"],
)
def test_replay_rebuilds_every_view_identically(
    backend: Backend,
    host: RepoHost,
    tmp_path: Path,
    workers: int,
    own_reads: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    did = new_account(host, 8)
    for i in range(10):
        host.apply_writes(did, [RecordWrite("create", POST, f"3k2aaaaaaa{i:02d}2", post("x"))])
    # Takedowns are events with no firehose frame: one applied, one lifted, one ended by the
    # record's deletion after it, and a blob's.
    host.change_record_takedown(did, POST, "3k2aaaaaaa01" + "2", "case-1")
    host.change_record_takedown(did, POST, "3k2aaaaaaa02" + "2", "case-2")
    host.change_record_takedown(did, POST, "3k2aaaaaaa02" + "2", None)
    host.change_record_takedown(did, POST, "3k2aaaaaaa03" + "2", "case-3")
    host.change_blob_takedown(did, BLOB, "case-4")
    host.apply_writes(did, [RecordWrite("delete", POST, "3k2aaaaaaa03" + "2")])
    host.change_email(did, f"moved-{workers}@example.com")  # an event with no firehose frame
    host.set_status(did, "deactivated")
    views = backend.store.views
    assert [views.get_record_takedown(did, POST, f"3k2aaaaaaa0{i}2") for i in (1, 2, 3)] == [
        "case-1", None, None
    ]  # fmt: skip
    assert views.get_blob_takedown(did, BLOB) == "case-4"
    scratch = ScratchViewStore(tmp_path / "scratch.sqlite")
    try:
        if own_reads:  # small ranges, so the log spans several (and each worker reads some)
            monkeypatch.setattr(parallel_projection, "RANGE", 3)
        log: Any = backend.store.log_pages(host.recorder.events_table_name) if own_reads else None
        read: list[int] = []  # the seqs the reader handed back, when it runs in this process
        if own_reads and workers == 1:
            log = _recording(log, read)
        report = replay(
            host,
            scratch,
            backend.store.live_digests(),
            scratch.digests(),
            workers=workers,
            log=log,
        )
    finally:
        scratch.close()
    assert not list(tmp_path.glob("scratch*")), "the scratch file and its lock file are removed"
    assert report.ok, (report.live, report.rebuilt)
    assert report.events == backend.store.views.max_seq() or report.events > 0
    if own_reads and workers == 1:  # every event came through the reader, not notifications
        assert len(read) == report.events and read == sorted(read)
        assert read[-1] == host.recorder.max_notification_id()
    assert report.live["record_takedowns"].endswith("(1 rows)")
    assert report.live["blob_takedowns"].endswith("(1 rows)")


def _recording(log: Any, seqs: list[int]) -> Callable[[int, int], list[Any]]:
    """`log`, noting the seq of every row it returns in `seqs`."""

    def read(after: int, upto: int) -> list[Any]:
        rows: list[Any] = log(after, upto)
        seqs.extend(row[0] for row in rows)
        return rows

    return read


def test_takedowns_move_no_seq_and_replay_catches_a_takedown_view_edited_outside_the_log(
    backend: Backend, host: RepoHost, tmp_path: Path
) -> None:
    did = new_account(host, 24)
    host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("a"))])
    seq, events = backend.store.views.max_seq(), host.recorder.max_notification_id()
    host.change_record_takedown(did, POST, "3k2aaaaaaaaa2", "case-5")
    host.change_blob_takedown(did, BLOB, "case-6")
    assert backend.store.views.max_seq() == seq  # no firehose frame...
    assert host.recorder.max_notification_id() == events + 2  # ...but in the log
    assert backend.store.views.list_records(did, POST, limit=10, cursor=None, reverse=False) == []
    engine = engine_for(backend.store.dialect, backend.store.conninfo, backend.schema)
    try:
        with engine.begin() as conn:
            conn.execute(delete(record_takedowns))
            conn.execute(update(blob_takedowns).values(ref="edited"))
    finally:
        engine.dispose()
    scratch = ScratchViewStore(tmp_path / "scratch.sqlite")
    try:
        report = replay(host, scratch, backend.store.live_digests(), scratch.digests())
    finally:
        scratch.close()
    assert report.differences == ["blob_takedowns", "record_takedowns"]


def test_key_rotation_signs_the_next_commit_with_the_new_key_and_audits_clean(
    backend: Backend, host: RepoHost
) -> None:
    did = new_account(host, 20)
    host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("a"))])
    new_key = K256Keypair.generate()
    before = backend.store.views.max_seq()
    resigned = host.rotate_signing_key(did, new_key)
    assert resigned.ops == () and resigned.data == resigned.prev_data
    after = host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaab22", post("b"))])
    assert Commit.decode(after.commit_block).sig
    assert verify_commit(Commit.decode(after.commit_block), new_key.did())
    kinds = [row.kind for row in backend.store.views.seq_after(before, 10)]
    assert kinds == ["#identity", "#commit", "#commit"]
    assert backend.store.views.get_account(did).signing_key == new_key.did()  # type: ignore[union-attr]
    assert not audit_log(host).failures


def test_import_replaces_the_repo_from_a_verified_car_and_emits_sync(
    backend: Backend, host: RepoHost
) -> None:
    source, target = new_account(host, 21), new_account(host, 22)
    for i in range(5):
        host.apply_writes(source, [RecordWrite("create", POST, f"3k2aaaaaaa{i:02d}2", post("s"))])
    host.apply_writes(target, [RecordWrite("create", POST, "3k2zzzzzzzzz2", post("old"))])
    exporter = RepoExporter(backend.store.views, backend.store.views)
    car = b"".join(exporter.export(source))
    # Migration: the CAR's commit must name the importing DID, so re-root it for the test.
    _roots, blocks = load_car(car)
    head = backend.store.views.get_head(source)
    assert head is not None
    forged = sign_commit(
        UnsignedCommit(did=target, data=head.data, rev=host.clock.next(), prev=None),
        K256Keypair.generate(),
    )
    cid, data = forged.encode()
    blocks.set(cid, data)
    before = backend.store.views.max_seq()
    imported = host.import_repo(target, car_bytes(cid, blocks.items()))
    assert imported.data == head.data
    actions = sorted(op.action for op in imported.ops)
    assert actions == ["create"] * 5 + ["delete"]
    records = backend.store.views.list_records(target, POST, limit=100, cursor=None, reverse=False)
    assert len(records) == 5
    assert [row.kind for row in backend.store.views.seq_after(before, 10)] == ["#sync"]
    assert not audit_log(host).failures


@pytest.mark.parametrize("missing", ["record", "root node"])
def test_import_rejects_a_car_missing_a_block(
    backend: Backend, host: RepoHost, missing: str
) -> None:
    source = new_account(host, 23 if missing == "record" else 24)
    host.apply_writes(source, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("s"))])
    commit = host.apply_writes(source, [RecordWrite("create", POST, "3k2aaaaaaab22", post("t"))])
    exporter = RepoExporter(backend.store.views, backend.store.views)
    roots, blocks = load_car(b"".join(exporter.export(source)))
    # the root node's absence was a 500 over HTTP (found by fuzzing importRepo)
    blocks.discard(commit.ops[0].cid if missing == "record" else commit.data)  # type: ignore[arg-type]
    seq = backend.store.views.max_seq()
    with pytest.raises(InvalidCar):
        host.import_repo(source, car_bytes(roots[0], blocks.items()))
    assert backend.store.views.max_seq() == seq


def test_postgres_keeps_commit_sized_rows_inline(tmp_path: Path) -> None:
    """Events, frames and blocks of a few KiB stay in the heap: no pglz, no TOAST insert."""
    with open_backend("postgres", tmp_path) as backend:
        host = backend.host()
        try:
            did = new_account(host, 40)
            host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaaaaa2", post("x" * 3000))])
            with backend.store.reads.cursor() as cur:
                cur.execute(
                    "SELECT c.relname, c.reloptions FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relkind = 'r'",
                    (backend.schema,),
                )
                options = {name: opts for name, opts in cur.fetchall()}
                cur.execute(
                    "SELECT pg_relation_size(reltoastrelid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relname = 'seq_events'",
                    (backend.schema,),
                )
                (toasted,) = cur.fetchone()
            events = host.recorder.events_table_name  # type: ignore[attr-defined]
        finally:
            host.close()
    for table in (events, "seq_events", "repo_blocks"):
        assert "toast_tuple_target=8160" in options[table], (table, options[table])
    assert toasted == 0, "a 3 KiB frame went to the TOAST table"


# -- admin.searchAccounts: a DID-ordered page of accounts, filtered by a literal email prefix


def _search_accounts(host: RepoHost, *emails: str | None) -> list[str]:
    dids = []
    for n, email in enumerate(emails):
        did = f"did:plc:{'s' * 20}{n:04d}"
        host.create_account(did, f"search{n}.test", email, K256Keypair.generate())
        dids.append(did)
    return dids


def test_an_email_prefix_matches_literally_and_ignores_case(
    backend: Backend, host: RepoHost
) -> None:
    a_b, a_pct, axb, other, _ = _search_accounts(
        host, "a_b@x.example", "a%b@x.example", "axb@x.example", "zed@x.example", None
    )
    views = backend.store.views

    def found(prefix: str) -> list[str]:
        return [row.did for row in views.search_accounts(prefix, "", 10)]

    assert found("a_") == [a_b]  # `_` is not a wildcard
    assert found("a%") == [a_pct]  # nor is `%`
    assert found("A") == [a_b, a_pct, axb]
    assert found("ZED@X.EXAMPLE") == [other]
    assert found("nobody") == []


def test_pages_follow_the_did_order_and_leave_out_deleted_accounts(
    backend: Backend, host: RepoHost
) -> None:
    dids = _search_accounts(host, "p1@x.example", None, "p3@x.example", "p4@x.example")
    host.set_status(dids[2], "deleted")
    views = backend.store.views

    first = views.search_accounts(None, "", 2)
    rest = views.search_accounts(None, first[-1].did, 2)

    assert [row.did for row in first + rest] == [dids[0], dids[1], dids[3]]
    assert [row.did for row in views.search_accounts("p", dids[0], 10)] == [dids[3]]
