"""Every refused request: its status, its XRPC `error` name, no leaked internals, no new seq.

Each case runs inside `seq_unchanged()`: a refusal that still appended to the log (and so to
the firehose) would be a bug as bad as the wrong status.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import (
    Account,
    LiveServer,
    assert_no_stack_trace,
    assert_xrpc_error,
)

REPO = "/xrpc/com.atproto.repo."
SYNC = "/xrpc/com.atproto.sync."
POST = "app.bsky.feed.post"
NOTE = "com.example.note"
UNKNOWN_DID = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
A_TID = "3jzfcijpj2z2a"
A_CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"


@pytest.fixture(scope="module")
def alice(server: LiveServer) -> Account:
    return server.create_account("alice")


@pytest.fixture(scope="module")
def bob(server: LiveServer) -> Account:
    return server.create_account("bob")


@pytest.fixture(autouse=True)
def _log_does_not_move(server: LiveServer, alice: Account, bob: Account) -> Iterator[None]:
    """Every test in this module is a refusal: none may append to the log."""
    with server.seq_unchanged():
        yield


def _post(text: Any = "hello") -> dict[str, Any]:
    return {"$type": POST, "text": text, "createdAt": "2024-01-01T00:00:00.000Z"}


def _create(server: LiveServer, account: Account, **body: Any) -> httpx.Response:
    payload = {"repo": account.did, "collection": NOTE, "record": {"$type": NOTE}, **body}
    return server.http.post(REPO + "createRecord", headers=account.auth, json=payload)


@pytest.mark.parametrize(
    "collection",
    ["not an nsid", "com.example", "com..example.note", "com.example.note-", "1com.example.x",
     "com.ex_ample.note", "com.example.note.", "a" * 320 + ".b.c"],
)  # fmt: skip
def test_invalid_nsid_is_invalid_request(
    server: LiveServer, alice: Account, collection: str
) -> None:
    assert_xrpc_error(_create(server, alice, collection=collection), 400, "InvalidRequest")
    listed = server.http.get(
        REPO + "listRecords", params={"repo": alice.did, "collection": collection}
    )
    assert_xrpc_error(listed, 400, "InvalidRequest")


@pytest.mark.parametrize("rkey", [".", "..", "a/b", "", "x" * 513, "has space", "#hash", "é"])
def test_invalid_record_key_is_invalid_request(
    server: LiveServer, alice: Account, rkey: str
) -> None:
    put = server.http.post(
        REPO + "putRecord",
        headers=alice.auth,
        json={"repo": alice.did, "collection": NOTE, "rkey": rkey, "record": {"$type": NOTE}},
    )
    assert_xrpc_error(put, 400, "InvalidRequest")
    assert_xrpc_error(_create(server, alice, rkey=rkey), 400, "InvalidRequest")
    got = server.http.get(
        REPO + "getRecord", params={"repo": alice.did, "collection": NOTE, "rkey": rkey}
    )
    assert_xrpc_error(got, 400, "InvalidRequest")


@pytest.mark.parametrize(
    "handle", ["bad_handle.test", "-bad.test", "nodot", "a" * 64 + ".test", "sp ace.test"]
)
def test_syntactically_invalid_handle_is_invalid_request(server: LiveServer, handle: str) -> None:
    """The lexicon's `handle` format refuses these before any account rule (as the reference)."""
    response = server.http.post(
        "/xrpc/com.atproto.server.createAccount", json={"handle": handle, "password": "pw"}
    )
    body = assert_xrpc_error(response, 400, "InvalidRequest")
    assert "handle" in body["message"]


@pytest.mark.parametrize("handle", ["ab.test", "nineteen-characters.test", "two.labels.test"])
def test_handle_breaking_the_servers_label_rule_is_invalid_handle(
    server: LiveServer, handle: str
) -> None:
    response = server.http.post(
        "/xrpc/com.atproto.server.createAccount", json={"handle": handle, "password": "pw"}
    )
    assert_xrpc_error(response, 400, "InvalidHandle")


def test_handle_outside_the_served_domains_is_unsupported_domain(server: LiveServer) -> None:
    response = server.http.post(
        "/xrpc/com.atproto.server.createAccount",
        json={"handle": "someone.example.com", "password": "pw"},
    )
    assert_xrpc_error(response, 400, "UnsupportedDomain")


def test_taken_handle_is_handle_not_available(server: LiveServer, alice: Account) -> None:
    response = server.http.post(
        "/xrpc/com.atproto.server.createAccount", json={"handle": alice.handle, "password": "pw"}
    )
    assert_xrpc_error(response, 400, "HandleNotAvailable")


@pytest.mark.parametrize("did", ["notadid", "did:bad", "did:plc:", "did:PLC:abc", "did:plc:a#b"])
def test_invalid_did_is_invalid_request(server: LiveServer, did: str) -> None:
    for method in ("getRepo", "getLatestCommit", "getRepoStatus", "listBlobs"):
        assert_xrpc_error(
            server.http.get(SYNC + method, params={"did": did}), 400, "InvalidRequest"
        )
    got = server.http.get(
        REPO + "getRecord", params={"repo": did, "collection": NOTE, "rkey": A_TID}
    )
    assert_xrpc_error(got, 400, "InvalidRequest")


@pytest.mark.parametrize("method", ["createRecord", "putRecord", "deleteRecord", "applyWrites"])
@pytest.mark.parametrize("body", [b"{nope", b"", b"[1, 2]", b'"text"', b"\xff\xfe", b"{}}"])
def test_malformed_json_body_is_invalid_request(
    server: LiveServer, alice: Account, method: str, body: bytes
) -> None:
    response = server.http.post(
        REPO + method, headers={**alice.auth, "content-type": "application/json"}, content=body
    )
    assert_xrpc_error(response, 400, "InvalidRequest")


def test_malformed_json_login_is_invalid_request(server: LiveServer) -> None:
    response = server.http.post(
        "/xrpc/com.atproto.server.createSession",
        headers={"content-type": "application/json"},
        content=b'{"identifier": ',
    )
    assert_xrpc_error(response, 400, "InvalidRequest")


def test_oversized_record_body_is_413(server: LiveServer, alice: Account) -> None:
    huge = {"$type": NOTE, "blob": "x" * 2_000_000}
    assert_xrpc_error(_create(server, alice, record=huge), 413, "PayloadTooLarge")


def test_oversized_body_without_a_declared_length_is_413(
    server: LiveServer, alice: Account
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"repo": "' + alice.did.encode() + b'", "collection": "com.example.note", '
        yield b'"record": {"$type": "com.example.note", "x": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}}'

    response = server.http.post(
        REPO + "createRecord",
        headers={**alice.auth, "content-type": "application/json"},
        content=chunks(),
    )
    assert_xrpc_error(response, 413, "PayloadTooLarge")


def test_oversized_blob_is_413(server: LiveServer, alice: Account) -> None:
    response = server.http.post(
        REPO + "uploadBlob",
        headers={**alice.auth, "content-type": "application/octet-stream"},
        content=b"\0" * (5 * 1024 * 1024 + 1),
    )
    assert_xrpc_error(response, 413, "PayloadTooLarge")


WRITES: list[tuple[str, dict[str, Any]]] = [
    ("createRecord", {"collection": NOTE, "record": {"$type": NOTE}}),
    ("putRecord", {"collection": NOTE, "rkey": "k", "record": {"$type": NOTE}}),
    ("deleteRecord", {"collection": NOTE, "rkey": "k"}),
    ("applyWrites", {"writes": [{"$type": "com.atproto.repo.applyWrites#create",
                                 "collection": NOTE, "value": {"$type": NOTE}}]}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "body"), WRITES, ids=[m for m, _ in WRITES])
@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Token abc", "bearer"]
)
def test_missing_credentials_are_authentication_required(
    server: LiveServer, alice: Account, method: str, body: dict[str, Any], authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    response = server.http.post(REPO + method, headers=headers, json={"repo": alice.did, **body})
    assert_xrpc_error(response, 401, "AuthenticationRequired")


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJkaWQ6cGxjOmFiYyJ9.",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJkaWQ6cGxjOmFiYyJ9.c2ln",
    ],
)
def test_unverifiable_token_is_invalid_token(
    server: LiveServer, alice: Account, token: str
) -> None:
    response = server.http.post(
        REPO + "createRecord",
        headers={"authorization": f"Bearer {token}"},
        json={"repo": alice.did, "collection": NOTE, "record": {"$type": NOTE}},
    )
    assert_xrpc_error(response, 401, "InvalidToken")
    session = server.http.get(
        "/xrpc/com.atproto.server.getSession", headers={"authorization": f"Bearer {token}"}
    )
    assert_xrpc_error(session, 401, "InvalidToken")


def test_refresh_token_used_for_a_write_is_invalid_token(
    server: LiveServer, alice: Account
) -> None:
    response = server.http.post(
        REPO + "createRecord",
        headers={"authorization": f"Bearer {alice.refresh_jwt}"},
        json={"repo": alice.did, "collection": NOTE, "record": {"$type": NOTE}},
    )
    assert_xrpc_error(response, 401, "InvalidToken")


def test_expired_access_token_is_expired_token(server: LiveServer, alice: Account) -> None:
    expired = server.token(alice.did, expires_in=-60)
    headers = {"authorization": f"Bearer {expired}"}
    response = server.http.post(
        REPO + "createRecord",
        headers=headers,
        json={"repo": alice.did, "collection": NOTE, "record": {"$type": NOTE}},
    )
    assert_xrpc_error(response, 401, "ExpiredToken")
    session = server.http.get("/xrpc/com.atproto.server.getSession", headers=headers)
    assert_xrpc_error(session, 401, "ExpiredToken")


def test_token_for_the_same_account_but_still_valid_is_accepted(
    server: LiveServer, alice: Account
) -> None:
    """The control for the expiry test: the same hand-made token, unexpired, works."""
    fresh = server.token(alice.did, expires_in=600)
    response = server.http.get(
        "/xrpc/com.atproto.server.getSession", headers={"authorization": f"Bearer {fresh}"}
    )
    assert response.status_code == 200
    assert response.json()["did"] == alice.did


@pytest.mark.parametrize(("method", "body"), WRITES, ids=[m for m, _ in WRITES])
@pytest.mark.parametrize("by", ["did", "handle"])
def test_writing_to_another_accounts_repo_needs_that_accounts_auth(
    server: LiveServer, alice: Account, bob: Account, method: str, body: dict[str, Any], by: str
) -> None:
    """The reference PDS answers AuthRequiredError: 401, not 403."""
    repo = bob.did if by == "did" else bob.handle
    response = server.http.post(REPO + method, headers=alice.auth, json={"repo": repo, **body})
    assert_xrpc_error(response, 401, "AuthenticationRequired")


@pytest.mark.parametrize(("method", "body"), WRITES, ids=[m for m, _ in WRITES])
def test_writing_to_an_unknown_repo_is_repo_not_found(
    server: LiveServer, alice: Account, method: str, body: dict[str, Any]
) -> None:
    response = server.http.post(
        REPO + method, headers=alice.auth, json={"repo": UNKNOWN_DID, **body}
    )
    assert_xrpc_error(response, 404, "RepoNotFound")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (REPO + "getRecord", {"repo": UNKNOWN_DID, "collection": NOTE, "rkey": A_TID}),
        (REPO + "getRecord", {"repo": "nobody.test", "collection": NOTE, "rkey": A_TID}),
        (REPO + "listRecords", {"repo": UNKNOWN_DID, "collection": NOTE}),
        (REPO + "describeRepo", {"repo": UNKNOWN_DID}),
        (SYNC + "getRepo", {"did": UNKNOWN_DID}),
        (SYNC + "getLatestCommit", {"did": UNKNOWN_DID}),
        (SYNC + "getRepoStatus", {"did": UNKNOWN_DID}),
        (SYNC + "getRecord", {"did": UNKNOWN_DID, "collection": NOTE, "rkey": A_TID}),
        (SYNC + "getBlocks", {"did": UNKNOWN_DID, "cids": A_CID}),
        (SYNC + "listBlobs", {"did": UNKNOWN_DID}),
    ],
)  # fmt: skip
def test_reading_an_unknown_repo_is_repo_not_found(
    server: LiveServer, path: str, params: dict[str, str]
) -> None:
    assert_xrpc_error(server.http.get(path, params=params), 404, "RepoNotFound")


def test_missing_record_is_record_not_found(server: LiveServer, alice: Account) -> None:
    response = server.http.get(
        REPO + "getRecord", params={"repo": alice.did, "collection": NOTE, "rkey": A_TID}
    )
    assert_xrpc_error(response, 400, "RecordNotFound")


@pytest.mark.parametrize("verb", ["GET", "POST"])
@pytest.mark.parametrize(
    "method", ["com.example.nothing", "app.bsky.actor.getProfile", "com.atproto.repo.nope"]
)
def test_unknown_method_is_method_not_implemented(
    server: LiveServer, verb: str, method: str
) -> None:
    response = server.http.request(verb, f"/xrpc/{method}")
    assert_xrpc_error(response, 501, "MethodNotImplemented")


def test_post_text_that_is_a_number_is_invalid_request(server: LiveServer, alice: Account) -> None:
    response = _create(server, alice, collection=POST, record=_post(text=123))
    body = assert_xrpc_error(response, 400, "InvalidRequest")
    assert "text" in body["message"]


def test_post_missing_created_at_is_invalid_request(server: LiveServer, alice: Account) -> None:
    response = _create(server, alice, collection=POST, record={"$type": POST, "text": "hi"})
    assert_xrpc_error(response, 400, "InvalidRequest")


def test_post_with_a_non_tid_record_key_is_invalid_request(
    server: LiveServer, alice: Account
) -> None:
    response = server.http.post(
        REPO + "putRecord",
        headers=alice.auth,
        json={"repo": alice.did, "collection": POST, "rkey": "my-post", "record": _post()},
    )
    assert_xrpc_error(response, 400, "InvalidRequest")
    assert_xrpc_error(
        _create(server, alice, collection=POST, rkey="self", record=_post()), 400, "InvalidRequest"
    )


def test_validate_true_on_an_unknown_type_is_invalid_request(
    server: LiveServer, alice: Account
) -> None:
    response = _create(server, alice, validate=True)
    assert_xrpc_error(response, 400, "InvalidRequest")


def test_record_type_that_contradicts_the_collection_is_invalid_request(
    server: LiveServer, alice: Account
) -> None:
    response = _create(server, alice, collection=POST, record={**_post(), "$type": NOTE})
    assert_xrpc_error(response, 400, "InvalidRequest")


@pytest.fixture(scope="module")
def existing_rkey(server: LiveServer, alice: Account) -> str:
    """A record alice already has (module scope: made before the seq is watched)."""
    created = _create(server, alice, rkey="only-once")
    assert created.status_code == 200, created.text
    return "only-once"


def test_duplicate_create_is_record_already_exists(
    server: LiveServer, alice: Account, existing_rkey: str
) -> None:
    assert_xrpc_error(_create(server, alice, rkey=existing_rkey), 409, "RecordAlreadyExists")
    again = server.http.post(
        REPO + "applyWrites",
        headers=alice.auth,
        json={
            "repo": alice.did,
            "writes": [{"$type": "com.atproto.repo.applyWrites#create", "collection": NOTE,
                        "rkey": existing_rkey, "value": {"$type": NOTE}}],
        },
    )  # fmt: skip
    assert_xrpc_error(again, 409, "RecordAlreadyExists")


def test_same_record_created_twice_in_one_batch_is_invalid_request(
    server: LiveServer, alice: Account
) -> None:
    create = {"$type": "com.atproto.repo.applyWrites#create", "collection": NOTE,
              "rkey": "twice", "value": {"$type": NOTE}}  # fmt: skip
    response = server.http.post(
        REPO + "applyWrites",
        headers=alice.auth,
        json={"repo": alice.did, "writes": [create, create]},
    )
    assert_xrpc_error(response, 400, "InvalidRequest")


def test_unexpected_failure_is_a_bare_500(
    server: LiveServer, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"internal detail {__file__}")

    monkeypatch.setattr(server.services.reader, "list_records", explode)
    with httpx.Client(base_url=server.url, timeout=10) as fresh:
        response = fresh.get(REPO + "listRecords", params={"repo": alice.did, "collection": NOTE})
    assert_xrpc_error(response, 500, "InternalServerError")
    assert "internal detail" not in response.text
    assert_no_stack_trace(response)


@pytest.mark.parametrize(
    ("path", "params", "complaint"),
    [
        ("/xrpc/com.atproto.identity.resolveHandle", {"handle": "not a handle!!"}, "Params/handle"),
        ("/xrpc/com.atproto.identity.resolveHandle", {}, 'property "handle"'),
        (REPO + "getRecord", {"repo": "x y", "collection": POST, "rkey": A_TID}, "Params/repo"),
        (
            REPO + "getRecord",
            {"repo": UNKNOWN_DID, "collection": "no", "rkey": A_TID},
            "collection",
        ),
        (REPO + "listRecords", {"repo": UNKNOWN_DID, "collection": POST, "limit": "abc"}, "limit"),
        (REPO + "listRecords", {"repo": UNKNOWN_DID, "collection": POST, "limit": "101"}, "limit"),
        (SYNC + "getBlocks", {"did": UNKNOWN_DID, "cids": "not-a-cid"}, "Params/cids"),
        (SYNC + "listRepos", {"limit": "0"}, "limit"),
        (SYNC + "getLatestCommit", {"did": "did:nope"}, "Params/did"),
    ],
)
def test_query_parameters_are_checked_against_the_lexicon(
    server: LiveServer, path: str, params: dict[str, str], complaint: str
) -> None:
    """Before any handler: a malformed parameter is 400 InvalidRequest, as the reference says."""
    body = assert_xrpc_error(server.http.get(path, params=params), 400, "InvalidRequest")
    assert body["message"].startswith("Error: ")
    assert complaint in body["message"]


def test_an_array_parameter_given_twice_is_checked_item_by_item(
    server: LiveServer, alice: Account
) -> None:
    head = server.http.get(SYNC + "getLatestCommit", params={"did": alice.did}).json()["cid"]
    good = server.http.get(SYNC + "getBlocks", params=[("did", alice.did), ("cids", head)])
    assert good.status_code == 200
    bad = server.http.get(
        SYNC + "getBlocks", params=[("did", alice.did), ("cids", head), ("cids", "nope")]
    )
    assert_xrpc_error(bad, 400, "InvalidRequest")


@pytest.mark.parametrize("query", ["handle=%C4%80", "handle=%FF%FE", "handle=al%C3%AFce.test%00"])
def test_non_ascii_query_parameters_are_checked_not_crashed_on(
    server: LiveServer, query: str
) -> None:
    """Percent-escaped code points above U+00FF and invalid UTF-8: a 400, as any bad handle.

    (The parameter check once re-encoded what it parsed and raised on code points above
    U+00FF, and answered 500.)
    """
    response = server.http.get(f"/xrpc/com.atproto.identity.resolveHandle?{query}")
    body = assert_xrpc_error(response, 400, "InvalidRequest")
    assert "handle" in body["message"]


_LONE = "\ud800"
_SURROGATE_CASES = [
    ("com.atproto.repo.createRecord", {"collection": NOTE, "record": {"$type": NOTE, "t": _LONE}}),
    ("com.atproto.repo.createRecord", {"collection": NOTE, "record": {"$type": NOTE, _LONE: 1}}),
    (
        "com.atproto.server.createAccount",
        {"handle": "l1.test", "password": _LONE, "email": "l@x.t"},
    ),
    ("com.atproto.server.createAccount", {"handle": "l2.test", "password": "p", "email": _LONE}),
    ("com.atproto.server.updateEmail", {"email": f"z{_LONE}@x.test"}),
    ("com.atproto.server.createAppPassword", {"name": f"n{_LONE}"}),
    ("com.atproto.server.requestPasswordReset", {"email": f"{_LONE}@x.test"}),
    ("app.bsky.actor.putPreferences", {"preferences": [{"$type": "x.y.z", "v": _LONE}]}),
]


@pytest.mark.parametrize(("method", "body"), _SURROGATE_CASES)
def test_lone_surrogates_in_json_are_invalid_request(
    server: LiveServer, alice: Account, method: str, body: dict[str, Any]
) -> None:
    """JSON can escape half a UTF-16 pair, which no UTF-8 text (a record, a hash, the log) holds."""
    if "collection" in body:
        body = {"repo": alice.did, **body}
    response = server.http.post(
        f"/xrpc/{method}",
        headers={**alice.auth, "content-type": "application/json"},
        content=json.dumps(body).encode(),  # ensure_ascii: the surrogate goes as \\udXXX
    )
    assert_xrpc_error(response, 400, "InvalidRequest")
    assert "surrogate" in response.json()["message"]
