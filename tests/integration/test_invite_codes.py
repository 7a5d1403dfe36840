"""Invite codes: the store on SQLite and Postgres, and createAccount on a server that
requires them (`QUIRE_INVITE_REQUIRED`), over a real socket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from adapters.storage.sql_invite_codes import SqlInviteCodes
from application.invite_codes import InviteCodes
from tests.integration.conftest import PASSWORD, assert_xrpc_error, live_server
from tests.integration.stores import pg_engine

NS = "/xrpc/com.atproto.server."
AT = "2024-01-01T00:00:00.000Z"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlInviteCodes]:
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'invites.sqlite'}")
        yield SqlInviteCodes(engine)
        engine.dispose()
        return
    with pg_engine() as pg:
        yield SqlInviteCodes(pg)


def test_a_code_is_good_for_its_uses_and_no_more(store: SqlInviteCodes) -> None:
    store.add(["two-uses"], 2, "did:plc:alice", "admin", AT)
    assert store.claim("two-uses", "pending:a.test", AT)
    assert store.claim("two-uses", "pending:b.test", AT)
    assert not store.claim("two-uses", "pending:c.test", AT)
    assert not store.claim("no-such-code", "pending:d.test", AT)
    store.settle("two-uses", "pending:a.test", "did:plc:a")
    store.release("two-uses", "pending:b.test")
    [code] = store.list_for_account("did:plc:alice")
    assert (code.code, code.available, [u.used_by for u in code.uses]) == (
        "two-uses", 2, ["did:plc:a"]
    )  # fmt: skip
    assert store.claim("two-uses", "pending:e.test", AT)  # the released use came back


def test_concurrent_claims_of_the_last_use_have_one_winner(store: SqlInviteCodes) -> None:
    store.add(["last"], 1, "admin", "admin", AT)
    wins: list[bool] = []
    barrier = threading.Barrier(6)

    def claim(n: int) -> None:
        barrier.wait()
        wins.append(store.claim("last", f"pending:{n}.test", AT))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 5 + [True]


@pytest.fixture(scope="module")
def invite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, httpx.Client]]:
    with live_server(tmp_path_factory.mktemp("invite-pds"), invite_required=True) as live:
        yield live.services, live.http


def _create(http: httpx.Client, handle: str, **extra: str) -> httpx.Response:
    body = {"handle": handle, "password": PASSWORD, "email": f"{handle}@example.com", **extra}
    return http.post(NS + "createAccount", json=body)


def test_a_server_requiring_invites_says_so_and_refuses_sign_ups_without_one(
    invite_server: tuple[Any, httpx.Client],
) -> None:
    _services, http = invite_server
    assert http.get(NS + "describeServer").json()["inviteCodeRequired"] is True
    assert_xrpc_error(_create(http, "nocode.test"), 400, "InvalidInviteCode")
    bad = _create(http, "badcode.test", inviteCode="localhost-aaaaa-aaaaa")
    assert_xrpc_error(bad, 400, "InvalidInviteCode")


def test_a_code_creates_one_account_and_a_refused_sign_up_keeps_it(
    invite_server: tuple[Any, httpx.Client],
) -> None:
    services, http = invite_server
    invites: InviteCodes = services.extras["invites"]
    [code] = invites.create(1, 1)
    assert code.startswith("localhost-")
    body = {"handle": "bad handle!", "password": PASSWORD, "inviteCode": code}
    refused = http.post(NS + "createAccount", json=body)
    assert refused.status_code == 400  # refused before the code was claimed
    assert _create(http, "invited.test", inviteCode=code).status_code == 200
    assert_xrpc_error(_create(http, "second.test", inviteCode=code), 400, "InvalidInviteCode")


def test_an_account_lists_the_codes_made_for_it_with_their_uses(
    invite_server: tuple[Any, httpx.Client],
) -> None:
    services, http = invite_server
    invites: InviteCodes = services.extras["invites"]
    [first] = invites.create(1, 1)
    owner = _create(http, "owner.test", inviteCode=first).json()
    [gift] = invites.create(1, 2, for_account=owner["did"])
    friend = _create(http, "friend.test", inviteCode=gift).json()

    listed = http.get(
        NS + "getAccountInviteCodes", headers={"authorization": f"Bearer {owner['accessJwt']}"}
    )

    assert listed.status_code == 200, listed.text
    [code] = listed.json()["codes"]
    assert (code["code"], code["available"], code["forAccount"]) == (gift, 2, owner["did"])
    assert [use["usedBy"] for use in code["uses"]] == [friend["did"]]


def test_codes_page_newest_first_and_are_disabled_by_code_or_owner(store: SqlInviteCodes) -> None:
    store.add(["a1", "a2"], 1, "did:plc:alice", "admin", "2024-01-01T00:00:00.000Z")
    store.add(["b1"], 1, "did:plc:bob", "admin", "2024-02-01T00:00:00.000Z")
    first = store.list_recent(None, 2)
    assert [c.code for c in first] == ["b1", "a2"]
    last = first[-1]
    assert [c.code for c in store.list_recent((last.created_at, last.code), 2)] == ["a1"]
    store.disable(["b1"], ["did:plc:alice"])
    assert all(c.disabled for c in store.list_recent(None, 10))
    assert not store.claim("a1", "pending:x.test", AT)


def test_the_store_keeps_the_switch_per_account(store: SqlInviteCodes) -> None:
    assert not store.account_disabled("did:plc:alice")
    store.set_account_disabled("did:plc:alice", True)
    store.set_account_disabled("did:plc:alice", True)
    assert store.account_disabled("did:plc:alice")
    assert not store.account_disabled("did:plc:bob")
    store.set_account_disabled("did:plc:alice", False)
    store.set_account_disabled("did:plc:alice", False)
    assert not store.account_disabled("did:plc:alice")
