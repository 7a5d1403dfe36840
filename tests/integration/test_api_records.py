"""Record writes and reads over a real socket, driven by the `atproto` SDK.

Ordering, paging, create-or-update, deletes, atomic batches, swaps and blobs: what a client
sees, checked against the server's own head and seq where atomicity is the claim.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from atproto import Client, models
from atproto_client.exceptions import BadRequestError, RequestErrorBase

from tests.integration.conftest import Account, LiveServer, assert_xrpc_error, sdk_client

NOTE = "com.example.note"
POST = "app.bsky.feed.post"
# The SDK's upload_blob passes bytes as `data=`, which httpx deprecates; not ours to fix.
SDK_UPLOAD_WARNING = "ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning"
# A tiny valid PNG: signature, IHDR, IDAT, IEND.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001c2c1b1f20000000049454e44ae426082"
)


@pytest.fixture
def client(server: LiveServer, account: Account) -> Client:
    return sdk_client(server, account)


def _note(n: int) -> dict[str, Any]:
    return {"$type": NOTE, "n": n}


def _create_notes(client: Client, did: str, count: int) -> list[str]:
    """Create `count` notes with server-assigned TIDs; their rkeys in creation order."""
    rkeys = []
    for n in range(count):
        out = client.com.atproto.repo.create_record(
            {"repo": did, "collection": NOTE, "record": _note(n)}
        )
        rkeys.append(out.uri.rsplit("/", 1)[1])
    return rkeys


def _list_rkeys(client: Client, did: str, **params: Any) -> tuple[list[str], str | None]:
    page = client.com.atproto.repo.list_records({"repo": did, "collection": NOTE, **params})
    return [r.uri.rsplit("/", 1)[1] for r in page.records], page.cursor


def _error_of(caught: pytest.ExceptionInfo[RequestErrorBase]) -> tuple[int, str]:
    response = caught.value.response
    assert response is not None
    return response.status_code, response.content.error


def test_posted_record_reads_back_with_the_same_cid_and_text(
    client: Client, account: Account
) -> None:
    posted = client.send_post("hello from the SDK", profile_identify=account.did)
    rkey = posted.uri.rsplit("/", 1)[1]

    got = client.com.atproto.repo.get_record(
        {"repo": account.did, "collection": POST, "rkey": rkey}
    )

    assert got.uri == posted.uri
    assert got.cid == posted.cid
    assert got.value.text == "hello from the SDK"


def test_get_record_by_handle_is_the_same_record(client: Client, account: Account) -> None:
    posted = client.send_post("by handle", profile_identify=account.did)
    rkey = posted.uri.rsplit("/", 1)[1]
    got = client.com.atproto.repo.get_record(
        {"repo": account.handle, "collection": POST, "rkey": rkey}
    )
    assert got.cid == posted.cid


def test_list_records_default_order_is_newest_first(client: Client, account: Account) -> None:
    created = _create_notes(client, account.did, 5)
    listed, _ = _list_rkeys(client, account.did)
    assert listed == sorted(created, reverse=True)
    assert listed == list(reversed(created))  # TIDs grow with time


def test_list_records_reverse_is_the_exact_inverse(client: Client, account: Account) -> None:
    _create_notes(client, account.did, 5)
    newest_first, _ = _list_rkeys(client, account.did)
    oldest_first, _ = _list_rkeys(client, account.did, reverse=True)
    assert oldest_first == list(reversed(newest_first))


@pytest.mark.parametrize("reverse", [False, True])
def test_cursor_paging_visits_every_record_once_in_order(
    client: Client, account: Account, reverse: bool
) -> None:
    created = _create_notes(client, account.did, 7)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):  # bounded: 7 records in pages of 2 need 4 pages
        params: dict[str, Any] = {"limit": 2, "reverse": reverse}
        if cursor is not None:
            params["cursor"] = cursor
        page, cursor = _list_rkeys(client, account.did, **params)
        seen += page
        if cursor is None or not page:
            break
    assert seen == sorted(created, reverse=not reverse)
    assert len(set(seen)) == len(seen)


def test_put_record_creates_then_updates_in_place(client: Client, account: Account) -> None:
    ref = {"repo": account.did, "collection": NOTE, "rkey": "settings"}
    first = client.com.atproto.repo.put_record({**ref, "record": _note(1)})
    second = client.com.atproto.repo.put_record({**ref, "record": _note(2)})

    assert first.uri == second.uri
    assert first.cid != second.cid
    got = client.com.atproto.repo.get_record(ref)
    assert got.cid == second.cid
    assert got.value["n"] == 2
    listed, _ = _list_rkeys(client, account.did)
    assert listed == ["settings"]


def test_deleted_record_is_gone(client: Client, account: Account, server: LiveServer) -> None:
    (rkey,) = _create_notes(client, account.did, 1)
    ref = {"repo": account.did, "collection": NOTE, "rkey": rkey}
    head_before = server.head(account.did)

    client.com.atproto.repo.delete_record(ref)

    assert server.head(account.did) != head_before
    with pytest.raises(BadRequestError) as caught:
        client.com.atproto.repo.get_record(ref)
    assert _error_of(caught) == (400, "RecordNotFound")
    assert _list_rkeys(client, account.did) == ([], None)


def test_apply_writes_returns_a_typed_result_per_write(
    server: LiveServer, client: Client, account: Account
) -> None:
    updated, deleted = _create_notes(client, account.did, 2)
    write = "com.atproto.repo.applyWrites#"
    response = server.http.post(
        "/xrpc/com.atproto.repo.applyWrites",
        headers=account.auth,
        json={
            "repo": account.did,
            "writes": [
                {"$type": write + "create", "collection": NOTE, "rkey": "a", "value": _note(1)},
                {"$type": write + "update", "collection": NOTE, "rkey": updated, "value": _note(2)},
                {"$type": write + "delete", "collection": NOTE, "rkey": deleted},
                {"$type": write + "create", "collection": NOTE, "value": _note(3)},
            ],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert [result["$type"] for result in results] == [
        write + "createResult",
        write + "updateResult",
        write + "deleteResult",
        write + "createResult",
    ]
    assert results[0]["uri"] == f"at://{account.did}/{NOTE}/a"
    assert results[1]["uri"] == f"at://{account.did}/{NOTE}/{updated}"
    assert set(results[2]) == {"$type"}
    assert body["commit"]["cid"] == server.head(account.did)
    listed, _ = _list_rkeys(client, account.did)
    assert deleted not in listed and {"a", updated} <= set(listed) and len(listed) == 3


def test_apply_writes_through_the_sdk_creates_updates_and_deletes(
    client: Client, account: Account
) -> None:
    (existing,) = _create_notes(client, account.did, 1)
    out = client.com.atproto.repo.apply_writes(
        models.ComAtprotoRepoApplyWrites.Data(
            repo=account.did,
            writes=[
                models.ComAtprotoRepoApplyWrites.Create(
                    collection=NOTE, rkey="new", value=_note(1)
                ),
                models.ComAtprotoRepoApplyWrites.Delete(collection=NOTE, rkey=existing),
            ],
        )
    )
    assert out.results is not None
    assert [r.py_type for r in out.results] == [
        "com.atproto.repo.applyWrites#createResult",
        "com.atproto.repo.applyWrites#deleteResult",
    ]
    assert _list_rkeys(client, account.did)[0] == ["new"]


def test_failing_apply_writes_batch_leaves_the_head_and_seq_unchanged(
    server: LiveServer, client: Client, account: Account
) -> None:
    head = server.head(account.did)
    with server.seq_unchanged():
        response = server.http.post(
            "/xrpc/com.atproto.repo.applyWrites",
            headers=account.auth,
            json={
                "repo": account.did,
                "writes": [
                    {"$type": "com.atproto.repo.applyWrites#create", "collection": NOTE,
                     "rkey": "first", "value": _note(1)},
                    {"$type": "com.atproto.repo.applyWrites#update", "collection": NOTE,
                     "rkey": "first", "value": _note(2)},
                ],
            },
        )  # fmt: skip
    assert 400 <= response.status_code < 500
    assert server.head(account.did) == head
    assert _list_rkeys(client, account.did) == ([], None)


def test_stale_swap_record_is_invalid_swap(
    server: LiveServer, client: Client, account: Account
) -> None:
    ref = {"repo": account.did, "collection": NOTE, "rkey": "swapped"}
    old = client.com.atproto.repo.put_record({**ref, "record": _note(1)})
    client.com.atproto.repo.put_record({**ref, "record": _note(2)})
    head = server.head(account.did)

    with server.seq_unchanged(), pytest.raises(BadRequestError) as caught:
        client.com.atproto.repo.put_record({**ref, "record": _note(3), "swap_record": old.cid})

    assert _error_of(caught) == (400, "InvalidSwap")
    assert server.head(account.did) == head


def test_current_swap_record_is_accepted(client: Client, account: Account) -> None:
    ref = {"repo": account.did, "collection": NOTE, "rkey": "swapped"}
    current = client.com.atproto.repo.put_record({**ref, "record": _note(1)})
    updated = client.com.atproto.repo.put_record(
        {**ref, "record": _note(2), "swap_record": current.cid}
    )
    assert updated.cid != current.cid


def test_stale_swap_commit_is_invalid_swap(
    server: LiveServer, client: Client, account: Account
) -> None:
    first = client.com.atproto.repo.create_record(
        {"repo": account.did, "collection": NOTE, "record": _note(1)}
    )
    _create_notes(client, account.did, 1)
    assert first.commit is not None
    stale = first.commit.cid
    head = server.head(account.did)

    with server.seq_unchanged(), pytest.raises(BadRequestError) as caught:
        client.com.atproto.repo.create_record(
            {"repo": account.did, "collection": NOTE, "record": _note(2), "swap_commit": stale}
        )

    assert _error_of(caught) == (400, "InvalidSwap")
    assert server.head(account.did) == head


def test_delete_with_a_stale_swap_record_is_invalid_swap(
    server: LiveServer, client: Client, account: Account
) -> None:
    ref = {"repo": account.did, "collection": NOTE, "rkey": "keep"}
    old = client.com.atproto.repo.put_record({**ref, "record": _note(1)})
    client.com.atproto.repo.put_record({**ref, "record": _note(2)})
    with server.seq_unchanged(), pytest.raises(BadRequestError) as caught:
        client.com.atproto.repo.delete_record({**ref, "swap_record": old.cid})
    assert _error_of(caught) == (400, "InvalidSwap")
    assert client.com.atproto.repo.get_record(ref).value["n"] == 2


@pytest.mark.filterwarnings(SDK_UPLOAD_WARNING)
def test_uploaded_blob_is_served_once_a_post_references_it(
    server: LiveServer, client: Client, account: Account
) -> None:
    uploaded = client.upload_blob(PNG).blob
    assert uploaded.mime_type == "image/png"
    assert uploaded.size == len(PNG)
    cid = str(uploaded.ref.link)

    client.send_image("with a picture", image=PNG, image_alt="one pixel",
                      profile_identify=account.did)  # fmt: skip

    served = client.com.atproto.sync.get_blob({"did": account.did, "cid": cid})
    assert served == PNG
    raw = server.http.get("/xrpc/com.atproto.sync.getBlob", params={"did": account.did, "cid": cid})
    assert raw.headers["content-type"] == "image/png"
    listed = client.com.atproto.sync.list_blobs({"did": account.did})
    assert cid in listed.cids


@pytest.mark.filterwarnings(SDK_UPLOAD_WARNING)
def test_unreferenced_blob_is_not_served(
    server: LiveServer, client: Client, account: Account
) -> None:
    uploaded = client.upload_blob(PNG + b"unreferenced").blob
    response = server.http.get(
        "/xrpc/com.atproto.sync.getBlob",
        params={"did": account.did, "cid": str(uploaded.ref.link)},
    )
    assert_xrpc_error(response, 400, "BlobNotFound")


def test_describe_repo_lists_the_collections_written(client: Client, account: Account) -> None:
    _create_notes(client, account.did, 1)
    client.send_post("post", profile_identify=account.did)
    described = client.com.atproto.repo.describe_repo({"repo": account.handle})
    assert described.did == account.did
    assert described.handle == account.handle
    assert sorted(described.collections) == [POST, NOTE]


def test_validation_status_is_valid_for_known_and_unknown_for_other_lexicons(
    client: Client, account: Account
) -> None:
    post = client.com.atproto.repo.create_record(
        {
            "repo": account.did,
            "collection": POST,
            "record": {"$type": POST, "text": "t", "createdAt": "2024-01-01T00:00:00.000Z"},
        }
    )
    note = client.com.atproto.repo.create_record(
        {"repo": account.did, "collection": NOTE, "record": _note(1)}
    )
    assert post.validation_status == "valid"
    assert note.validation_status == "unknown"


def test_apply_writes_update_of_a_missing_record_is_record_not_found(
    server: LiveServer, account: Account
) -> None:
    head = server.head(account.did)
    with server.seq_unchanged():
        response = server.http.post(
            "/xrpc/com.atproto.repo.applyWrites",
            headers=account.auth,
            json={
                "repo": account.did,
                "writes": [
                    {"$type": "com.atproto.repo.applyWrites#update", "collection": NOTE,
                     "rkey": "missing", "value": _note(1)},
                ],
            },
        )  # fmt: skip
    assert_xrpc_error(response, 400, "RecordNotFound")
    assert server.head(account.did) == head


def test_put_record_with_a_null_swap_record_creates_only_when_absent(
    server: LiveServer, client: Client, account: Account
) -> None:
    body = {"repo": account.did, "collection": NOTE, "rkey": "once", "record": _note(1)}
    first = server.http.post(
        "/xrpc/com.atproto.repo.putRecord", headers=account.auth, json={**body, "swapRecord": None}
    )
    assert first.status_code == 200, first.text
    with server.seq_unchanged():
        second = server.http.post(
            "/xrpc/com.atproto.repo.putRecord",
            headers=account.auth,
            json={**body, "record": _note(2), "swapRecord": None},
        )
    assert_xrpc_error(second, 400, "InvalidSwap")
    ref = {"repo": account.did, "collection": NOTE, "rkey": "once"}
    assert client.com.atproto.repo.get_record(ref).value["n"] == 1


def test_an_escaped_surrogate_pair_is_one_character_and_is_stored(
    server: LiveServer, account: Account
) -> None:
    body = {"repo": account.did, "collection": "com.example.note",
            "record": {"$type": "com.example.note", "text": "smile \U0001f600"}}  # fmt: skip
    raw = json.dumps(body).encode()  # ensure_ascii writes the emoji as "\ud83d\ude00"
    assert b"\\ud83d\\ude00" in raw
    created = server.http.post(
        "/xrpc/com.atproto.repo.createRecord",
        headers={**account.auth, "content-type": "application/json"},
        content=raw,
    )
    assert created.status_code == 200, created.text
    uri = created.json()["uri"]
    got = server.http.get(
        "/xrpc/com.atproto.repo.getRecord",
        params={
            "repo": account.did,
            "collection": "com.example.note",
            "rkey": uri.rsplit("/", 1)[1],
        },
    )
    assert got.json()["value"]["text"] == "smile \U0001f600"
