"""listReposByCollection over a real socket: the active repos holding a collection, by DID."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Account, LiveServer, assert_xrpc_error

LIST = "/xrpc/com.atproto.sync.listReposByCollection"


def note(server: LiveServer, account: Account, collection: str) -> str:
    """Create one record in `collection`; its rkey."""
    response = server.http.post(
        "/xrpc/com.atproto.repo.createRecord",
        headers=account.auth,
        json={"repo": account.did, "collection": collection, "record": {"$type": collection}},
    )
    assert response.status_code == 200, response.text
    uri: str = response.json()["uri"]
    return uri.rsplit("/", 1)[1]


def listed(server: LiveServer, collection: str, **params: Any) -> list[str]:
    """Every DID listed for `collection`, following cursors; pages must be full but the last."""
    dids: list[str] = []
    cursor: str | None = None
    while True:
        query = {"collection": collection, **params} | ({"cursor": cursor} if cursor else {})
        response = server.http.get(LIST, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        dids += [repo["did"] for repo in body["repos"]]
        cursor = body.get("cursor")
        if cursor is None:
            return dids
        assert len(body["repos"]) == params.get("limit", 500)


def test_repos_with_a_record_in_the_collection_are_listed_once_in_did_order(
    server: LiveServer,
) -> None:
    collection = "com.example.listed.note"
    holders = [server.create_account() for _ in range(5)]
    for account in holders:
        note(server, account, collection)
        note(server, account, collection)
    bystander = server.create_account()
    note(server, bystander, "com.example.listed.other")
    expected = sorted(account.did for account in holders)
    assert listed(server, collection) == expected
    assert listed(server, collection, limit=2) == expected


def test_a_repo_whose_last_record_in_it_is_deleted_leaves_the_list(server: LiveServer) -> None:
    collection = "com.example.deleted.note"
    account = server.create_account()
    rkey = note(server, account, collection)
    assert listed(server, collection) == [account.did]
    deleted = server.http.post(
        "/xrpc/com.atproto.repo.deleteRecord",
        headers=account.auth,
        json={"repo": account.did, "collection": collection, "rkey": rkey},
    )
    assert deleted.status_code == 200, deleted.text
    assert listed(server, collection) == []


def test_deactivated_and_taken_down_repos_are_not_listed(server: LiveServer) -> None:
    collection = "com.example.inactive.note"
    active, deactivated, taken_down = (server.create_account() for _ in range(3))
    for account in (active, deactivated, taken_down):
        note(server, account, collection)
    response = server.http.post(
        "/xrpc/com.atproto.server.deactivateAccount", headers=deactivated.auth, json={}
    )
    assert response.status_code == 200, response.text
    server.services.extras["account_admin"].set_status_by_operator(taken_down.did, "takendown")
    assert listed(server, collection) == [active.did]


def test_bad_parameters_are_invalid_requests(server: LiveServer) -> None:
    for params in (
        {},
        {"collection": "not an nsid"},
        {"collection": "com.example.note", "limit": "2001"},
        {"collection": "com.example.note", "limit": "0"},
    ):
        assert_xrpc_error(server.http.get(LIST, params=params), 400, "InvalidRequest")
