"""Account rows cached by a writer stay true: another writer's change is seen before a commit.

Hosts here read accounts from the views, as `quire serve` wires them, and a second host over
the same database stands for another process. Run on SQLite and on the real Postgres.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from application.audit.auditor import audit_log
from application.repo_host.app import AccountNotActive, RepoHost
from application.views import AccountRow
from domain.crypto.k256 import K256Keypair
from domain.repo.commit import Commit, verify_commit
from domain.repo.errors import InvalidSwap
from domain.repo.writes import RecordWrite
from tests.integration.stores import Backend, open_backend

POST = "app.bsky.feed.post"


class CountingAccounts:
    """The accounts view, counting the reads a writer makes of it."""

    def __init__(self, views: Any) -> None:
        self.views = views
        self.reads = 0

    def get_account(self, did: str) -> AccountRow | None:
        self.reads += 1
        row: AccountRow | None = self.views.get_account(did)
        return row

    def get_accounts(self, dids: list[str]) -> dict[str, AccountRow]:
        self.reads += 1
        rows: dict[str, AccountRow] = self.views.get_accounts(dids)
        return rows


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with open_backend(request.param, tmp_path) as opened:
        yield opened


def writer(backend: Backend) -> RepoHost:
    keys = SqlKeyStore(engine_for(backend.store.dialect, backend.store.conninfo, backend.schema))
    views = backend.store.views
    return RepoHost(backend.store.env, blocks=views, keys=keys, accounts=CountingAccounts(views))


@pytest.fixture
def hosts(backend: Backend) -> Iterator[tuple[RepoHost, RepoHost]]:
    one, other = writer(backend), writer(backend)
    yield one, other
    one.close()
    other.close()


def reads(host: RepoHost) -> int:
    accounts = host.accounts
    assert isinstance(accounts, CountingAccounts)
    return accounts.reads


def new_account(host: RepoHost, n: int) -> str:
    did = f"did:plc:{'c' * 20}{n:04d}"
    host.create_account(did, f"cached{n}.test", None, K256Keypair.generate())
    return did


def create(host: RepoHost, did: str, n: int) -> Any:
    record = {"$type": POST, "text": f"post {n}", "createdAt": "2024-01-01T00:00:00.000Z"}
    return host.apply_writes(did, [RecordWrite("create", POST, f"3k2aaaaaa{n:03d}2", record)])


def settled(host: RepoHost, n: int) -> str:
    """A new account with three commits: by then its writer trusts its cached row."""
    did = new_account(host, n)
    for i in range(3):
        create(host, did, i)
    return did


def test_a_writer_alone_reads_an_account_row_once_then_trusts_it(
    hosts: tuple[RepoHost, RepoHost],
) -> None:
    host, _ = hosts
    did = settled(host, 1)
    before = reads(host)
    for n in range(3, 7):
        create(host, did, n)
    assert reads(host) == before


def test_another_writers_takedown_stops_the_next_commit_and_moves_no_seq(
    backend: Backend, hosts: tuple[RepoHost, RepoHost]
) -> None:
    host, other = hosts
    did = new_account(host, 2)
    create(host, did, 0)
    create(host, did, 1)
    other.set_status(did, "takendown")
    before = backend.store.views.max_seq()
    with pytest.raises(AccountNotActive):
        create(host, did, 2)
    assert backend.store.views.max_seq() == before


def test_another_writers_key_rotation_signs_the_next_commit_with_the_new_key(
    hosts: tuple[RepoHost, RepoHost],
) -> None:
    host, other = hosts
    did = new_account(host, 3)
    create(host, did, 0)
    create(host, did, 1)
    new_key = K256Keypair.generate()
    other.rotate_signing_key(did, new_key)
    after = create(host, did, 2)
    assert verify_commit(Commit.decode(after.commit_block), new_key.did())
    assert not audit_log(host).failures


def test_an_unrelated_write_elsewhere_is_checked_and_the_writer_settles_again(
    backend: Backend, hosts: tuple[RepoHost, RepoHost]
) -> None:
    host, other = hosts
    did, elsewhere = new_account(host, 4), new_account(other, 5)
    for n in range(3):
        create(host, did, n)
    settled = reads(host)
    create(other, elsewhere, 0)
    commit = create(host, did, 3)
    assert reads(host) == settled + 1  # the row it decided with, read again
    assert backend.store.views.get_head(did).commit == commit.commit  # type: ignore[union-attr]
    for n in range(4, 7):  # unchecked, re-armed, row cached
        create(host, did, n)
    settled = reads(host)
    for n in range(7, 10):
        create(host, did, n)
    assert reads(host) == settled
    assert not audit_log(host).failures


def test_a_group_batch_drops_only_the_account_another_writer_took_down(
    hosts: tuple[RepoHost, RepoHost],
) -> None:
    host, other = hosts
    kept, gone = new_account(host, 6), new_account(host, 7)
    for n in range(2):
        create(host, kept, n)
        create(host, gone, n)
    other.set_status(gone, "takendown")
    record = {"$type": POST, "text": "batched", "createdAt": "2024-01-01T00:00:00.000Z"}
    writes = [RecordWrite("create", POST, "3k2aaaaaa9992", record)]
    results = host.apply_writes_batch([(did, writes, None) for did in (kept, gone)])
    assert not isinstance(results[0], Exception)
    assert isinstance(results[1], AccountNotActive)
    assert not audit_log(host).failures


def test_a_view_write_that_raises_records_no_event(
    backend: Backend, hosts: tuple[RepoHost, RepoHost], monkeypatch: pytest.MonkeyPatch
) -> None:
    host, _ = hosts
    did = new_account(host, 8)
    create(host, did, 0)
    before = (backend.store.views.max_seq(), host.recorder.max_notification_id())  # type: ignore[attr-defined]
    views = host.recorder.views  # type: ignore[attr-defined]

    def broken(*args: Any) -> None:
        raise RuntimeError("view write failed")

    monkeypatch.setattr(views, "write", broken)
    with pytest.raises(RuntimeError, match="view write failed"):
        create(host, did, 1)
    monkeypatch.undo()
    assert (backend.store.views.max_seq(), host.recorder.max_notification_id()) == before  # type: ignore[attr-defined]
    create(host, did, 1)
    assert not audit_log(host).failures


def test_a_failed_decision_leaves_nothing_behind_for_the_next_save(
    hosts: tuple[RepoHost, RepoHost],
) -> None:
    host, other = hosts
    did = settled(host, 9)
    record = {"$type": POST, "text": "lost swap", "createdAt": "2024-01-01T00:00:00.000Z"}
    wrong = Commit.decode(create(host, did, 3).commit_block).data  # not a commit CID
    with pytest.raises(InvalidSwap):
        host.apply_writes(did, [RecordWrite("create", POST, "3k2aaaaaa9982", record)], wrong)
    other.set_status(did, "takendown")
    new_account(host, 10)  # decided with no account row, whatever changed elsewhere
