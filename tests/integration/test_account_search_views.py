"""`SqlViews.search_accounts` (behind `admin.searchAccounts`) on SQLite and Postgres: a DID-ordered
page of accounts, filtered by a literal email prefix in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from application.repo_host.app import RepoHost
from domain.crypto.k256 import K256Keypair
from tests.integration.stores import Backend, open_backend


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with open_backend(request.param, tmp_path) as opened:
        yield opened


@pytest.fixture
def host(backend: Backend) -> Iterator[RepoHost]:
    app = backend.host()
    yield app
    app.close()


def _accounts(host: RepoHost, *emails: str | None) -> list[str]:
    dids = []
    for n, email in enumerate(emails):
        did = f"did:plc:{'s' * 20}{n:04d}"
        host.create_account(did, f"search{n}.test", email, K256Keypair.generate())
        dids.append(did)
    return dids


def test_an_email_prefix_matches_literally_and_ignores_case(
    backend: Backend, host: RepoHost
) -> None:
    a_b, a_pct, axb, other, _ = _accounts(
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
    dids = _accounts(host, "p1@x.example", None, "p3@x.example", "p4@x.example")
    host.set_status(dids[2], "deleted")
    views = backend.store.views

    first = views.search_accounts(None, "", 2)
    rest = views.search_accounts(None, first[-1].did, 2)

    assert [row.did for row in first + rest] == [dids[0], dids[1], dids[3]]
    assert [row.did for row in views.search_accounts("p", dids[0], 10)] == [dids[3]]
