"""`sync.getRepo` through the CAR cache over a real socket: the second download comes from the
cache with the same bytes, a write makes the next one fresh, and account status is still
checked first."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

from atproto import CAR

from adapters.http.sync_routes import _threaded
from domain.repo.car import load_car
from tests.integration.conftest import Account, LiveServer, assert_xrpc_error

NOTE = "com.example.note"
GET_REPO = "/xrpc/com.atproto.sync.getRepo"


def _create(server: LiveServer, account: Account, n: int) -> None:
    response = server.http.post(
        "/xrpc/com.atproto.repo.createRecord",
        headers=account.auth,
        json={"repo": account.did, "collection": NOTE, "record": {"$type": NOTE, "n": n}},
    )
    assert response.status_code == 200, response.text


def _get_repo(server: LiveServer, did: str) -> bytes:
    response = server.http.get(GET_REPO, params={"did": did})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.ipld.car"
    return response.content


def _entries(server: LiveServer) -> list[Path]:
    root = server.data_dir / "car-cache"
    return sorted(p for p in root.rglob("*.car") if p.parent.name != "tmp")


def test_get_repo_twice_returns_the_same_valid_car_the_second_from_the_cache(
    server: LiveServer, account: Account
) -> None:
    for n in range(30):
        _create(server, account, n)
    before = set(_entries(server))

    first = _get_repo(server, account.did)
    (entry,) = set(_entries(server)) - before
    second = _get_repo(server, account.did)

    assert first == second == entry.read_bytes()
    roots, _ = load_car(second)
    assert [str(root) for root in roots] == [server.head(account.did)]
    car = CAR.from_bytes(second)  # the SDK's reader agrees
    assert str(car.root) == server.head(account.did)
    assert sum(1 for block in car.blocks.values() if block.get("$type") == NOTE) == 30


def test_after_a_write_get_repo_returns_the_new_head(server: LiveServer, account: Account) -> None:
    _create(server, account, 1)
    old = _get_repo(server, account.did)
    old_entries = set(_entries(server))

    _create(server, account, 2)
    new = _get_repo(server, account.did)

    assert new != old
    assert [str(root) for root in load_car(new)[0]] == [server.head(account.did)]
    assert _get_repo(server, account.did) == new
    gone = old_entries - set(_entries(server))
    assert len(gone) == 1  # the superseded entry of this DID was removed


def test_a_cached_repo_of_a_deactivated_or_taken_down_account_is_refused(
    server: LiveServer, account: Account
) -> None:
    _get_repo(server, account.did)
    _get_repo(server, account.did)  # cached now

    deactivate = "/xrpc/com.atproto.server.deactivateAccount"
    assert server.http.post(deactivate, headers=account.auth, json={}).status_code == 200
    assert_xrpc_error(
        server.http.get(GET_REPO, params={"did": account.did}), 400, "RepoDeactivated"
    )
    server.services.host.set_status(account.did, "takendown")
    assert_xrpc_error(server.http.get(GET_REPO, params={"did": account.did}), 400, "RepoTakendown")


def test_a_response_cut_short_closes_the_export_stream() -> None:
    closed: list[bool] = []

    def export() -> Iterator[bytes]:
        try:
            while True:
                yield b"chunk"
        finally:
            closed.append(True)

    async def client_goes_away() -> list[bool]:
        stream = _threaded(export())
        assert await stream.__anext__() == b"chunk"
        await stream.aclose()
        return list(closed)  # at once, not when the loop is torn down

    assert asyncio.run(client_goes_away()) == [True]
