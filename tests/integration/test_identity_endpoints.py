"""Identity and account-status endpoints over a real socket: updateHandle, the PLC operation
flow (request a token, sign, submit), signing-key rotation, activate/deactivate and
checkAccountStatus. Each change is checked where consumers see it: the DID document the
embedded directory serves at `/plc/<did>`, and the `#identity`/`#account` frames of the seq.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from application.identity_service import IdentityService
from domain.crypto.k256 import K256Keypair
from domain.firehose.frames import split_frame
from domain.repo.car import load_car
from tests.integration.conftest import Account, LiveServer, assert_xrpc_error

ID = "/xrpc/com.atproto.identity."
SRV = "/xrpc/com.atproto.server."
TOKEN = re.compile(r"plc_operation token for (\S+) \(\S+\): ([A-Z2-7]{5}-[A-Z2-7]{5})")
POST = "app.bsky.feed.post"
FOREIGN_KEY = K256Keypair.generate().did()  # a valid key this server does not hold


# -- helpers ----------------------------------------------------------------------------------


def identity(server: LiveServer) -> IdentityService:
    service: IdentityService = server.services.extras["identity"]
    return service


def document(server: LiveServer, did: str) -> dict[str, Any]:
    response = server.http.get(f"/plc/{did}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def plc_data(server: LiveServer, did: str) -> dict[str, Any]:
    response = server.http.get(f"/plc/{did}/data")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def frames_after(server: LiveServer, seq: int) -> list[tuple[str, dict[str, Any]]]:
    """(kind, body) of every seq-view frame after `seq`."""
    out = []
    for event in server.services.views.seq_after(seq, 1000):
        header, body = split_frame(event.frame)
        out.append((header["t"], body))
    return out


def post(server: LiveServer, account: Account, method: str, body: Any = None) -> Any:
    return server.http.post(method, json=body, headers=account.auth)


def create_post(server: LiveServer, account: Account, text: str = "hi") -> Any:
    record = {"$type": POST, "text": text, "createdAt": "2024-01-01T00:00:00.000Z"}
    return post(
        server,
        account,
        "/xrpc/com.atproto.repo.createRecord",
        {"repo": account.did, "collection": POST, "record": record},
    )


@pytest.fixture
def tokens(caplog: pytest.LogCaptureFixture) -> Iterator[dict[str, str]]:
    """The confirmation tokens the server logged during the test, by DID (latest wins)."""
    found: dict[str, str] = {}

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            match = TOKEN.search(record.getMessage())
            if match:
                found[match.group(1)] = match.group(2)

    handler = Collect()
    logger = logging.getLogger("quire.operator")
    logger.addHandler(handler)
    try:
        yield found
    finally:
        logger.removeHandler(handler)


def request_token(server: LiveServer, account: Account, tokens: dict[str, str]) -> str:
    response = post(server, account, ID + "requestPlcOperationSignature")
    assert response.status_code == 200, response.text
    assert response.content == b""  # the token goes to the operator's log, never the requester
    return tokens[account.did]


def sign(server: LiveServer, account: Account, **body: Any) -> Any:
    return post(server, account, ID + "signPlcOperation", body)


# -- updateHandle -------------------------------------------------------------------------------


def test_update_handle_changes_the_did_document_the_views_and_emits_identity(
    server: LiveServer, account: Account
) -> None:
    before = server.seq()
    new = f"renamed{account.handle.split('.')[0][-6:]}.test"
    response = post(server, account, ID + "updateHandle", {"handle": new.upper()})
    assert response.status_code == 200, response.text
    assert document(server, account.did)["alsoKnownAs"] == [f"at://{new}"]
    ((kind, body),) = frames_after(server, before)
    assert (kind, body["seq"], body["did"], body["handle"]) == (
        "#identity",
        before + 1,
        account.did,
        new,
    )
    resolved = server.http.get(ID + "resolveHandle", params={"handle": new}).json()
    assert resolved == {"did": account.did}
    session = server.http.get(SRV + "getSession", headers=account.auth).json()
    assert session["handle"] == new


def test_update_handle_to_the_current_handle_re_announces_identity_without_a_plc_op(
    server: LiveServer, account: Account
) -> None:
    audit_before = server.http.get(f"/plc/{account.did}/log/audit").json()
    before = server.seq()
    response = post(server, account, ID + "updateHandle", {"handle": account.handle})
    assert response.status_code == 200, response.text
    assert [kind for kind, _ in frames_after(server, before)] == ["#identity"]
    assert server.http.get(f"/plc/{account.did}/log/audit").json() == audit_before


@pytest.mark.parametrize(
    ("handle", "error"),
    [
        ("not a handle", "InvalidRequest"),  # refused by the lexicon's handle format
        ("ab.test", "InvalidHandle"),  # label too short
        ("a.b.test", "InvalidHandle"),  # more than one label under the served domain
        ("waytoolongforahandle1.test", "InvalidHandle"),
        ("someone.local", "InvalidHandle"),  # reserved TLD
    ],
)
def test_update_handle_refuses_invalid_handles_and_changes_nothing(
    server: LiveServer, account: Account, handle: str, error: str
) -> None:
    doc = document(server, account.did)
    with server.seq_unchanged():
        assert_xrpc_error(
            post(server, account, ID + "updateHandle", {"handle": handle}), 400, error
        )
    assert document(server, account.did) == doc


def test_update_handle_refuses_a_handle_another_account_holds(
    server: LiveServer, account: Account
) -> None:
    other = server.create_account("other")
    doc = document(server, account.did)
    with server.seq_unchanged():
        response = post(server, account, ID + "updateHandle", {"handle": other.handle})
        assert_xrpc_error(response, 400, "HandleNotAvailable")
    assert document(server, account.did) == doc


def test_update_handle_to_an_external_domain_needs_the_handle_to_resolve_to_the_did(
    server: LiveServer, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Resolver:
        def resolve_handle(self, handle: str, *, force_refresh: bool = False) -> str | None:
            return {"me.example.org": account.did}.get(handle)

    monkeypatch.setattr(identity(server).handles, "resolver", Resolver())
    with server.seq_unchanged():
        response = post(server, account, ID + "updateHandle", {"handle": "someone.example.org"})
        assert_xrpc_error(response, 400, "InvalidRequest")
    response = post(server, account, ID + "updateHandle", {"handle": "me.example.org"})
    assert response.status_code == 200, response.text
    assert document(server, account.did)["alsoKnownAs"] == ["at://me.example.org"]


def test_identity_endpoints_require_authentication(server: LiveServer) -> None:
    for method, body in [
        (ID + "updateHandle", {"handle": "nobody.test"}),
        (ID + "requestPlcOperationSignature", None),
        (ID + "signPlcOperation", {"token": "AAAAA-AAAAA"}),
        (ID + "submitPlcOperation", {"operation": {}}),
        (SRV + "activateAccount", None),
        (SRV + "deactivateAccount", {}),
        (SRV + "reserveSigningKey", {}),
    ]:
        assert_xrpc_error(server.http.post(method, json=body), 401, "AuthenticationRequired")
    for method in (ID + "getRecommendedDidCredentials", SRV + "checkAccountStatus"):
        assert_xrpc_error(server.http.get(method), 401, "AuthenticationRequired")


# -- recommended credentials and the PLC operation flow -----------------------------------------


def test_recommended_credentials_match_the_current_plc_data(
    server: LiveServer, account: Account
) -> None:
    response = server.http.get(ID + "getRecommendedDidCredentials", headers=account.auth)
    assert response.status_code == 200, response.text
    data = plc_data(server, account.did)
    assert response.json() == {
        "rotationKeys": data["rotationKeys"],
        "alsoKnownAs": data["alsoKnownAs"],
        "verificationMethods": data["verificationMethods"],
        "services": data["services"],
    }


def test_signed_operation_is_returned_not_submitted_and_spends_the_token(
    server: LiveServer, account: Account, tokens: dict[str, str]
) -> None:
    token = request_token(server, account, tokens)
    elsewhere = {"atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": "https://x.y"}}
    data = plc_data(server, account.did)
    with server.seq_unchanged():
        response = sign(server, account, token=token.lower(), services=elsewhere)
    assert response.status_code == 200, response.text
    operation = response.json()["operation"]
    assert operation["services"] == elsewhere
    assert operation["rotationKeys"] == data["rotationKeys"]
    assert operation["prev"] and operation["sig"]
    assert plc_data(server, account.did) == data  # not submitted
    again = sign(server, account, token=token, services=elsewhere)
    assert_xrpc_error(again, 400, "InvalidToken")


def test_submitting_an_op_that_moves_the_account_away_is_refused(
    server: LiveServer, account: Account, tokens: dict[str, str]
) -> None:
    token = request_token(server, account, tokens)
    elsewhere = {"atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": "https://x.y"}}
    operation = sign(server, account, token=token, services=elsewhere).json()["operation"]
    data = plc_data(server, account.did)
    with server.seq_unchanged():
        response = post(server, account, ID + "submitPlcOperation", {"operation": operation})
        body = assert_xrpc_error(response, 400, "InvalidRequest")
    assert "endpoint" in body["message"]
    assert plc_data(server, account.did) == data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"rotationKeys": [FOREIGN_KEY]},
            "rotation",
        ),
        (
            {"verificationMethods": {"atproto": FOREIGN_KEY}},
            "signing key",
        ),
        ({"alsoKnownAs": ["at://someone-else.test"]}, "alsoKnownAs"),
    ],
)
def test_submitting_an_op_that_cuts_this_server_off_is_refused(
    server: LiveServer,
    account: Account,
    tokens: dict[str, str],
    change: dict[str, Any],
    message: str,
) -> None:
    token = request_token(server, account, tokens)
    operation = sign(server, account, token=token, **change).json()["operation"]
    doc = document(server, account.did)
    with server.seq_unchanged():
        response = post(server, account, ID + "submitPlcOperation", {"operation": operation})
        assert message in assert_xrpc_error(response, 400, "InvalidRequest")["message"]
    assert document(server, account.did) == doc


def test_submitting_a_valid_op_updates_the_document_and_emits_identity(
    server: LiveServer, account: Account, tokens: dict[str, str]
) -> None:
    token = request_token(server, account, tokens)
    akas = [f"at://{account.handle}", "https://example.com/me"]
    operation = sign(server, account, token=token, alsoKnownAs=akas).json()["operation"]
    before = server.seq()
    response = post(server, account, ID + "submitPlcOperation", {"operation": operation})
    assert response.status_code == 200, response.text
    assert document(server, account.did)["alsoKnownAs"] == akas
    frames = frames_after(server, before)
    assert [kind for kind, _ in frames] == ["#identity"]
    assert frames[0][1]["handle"] == account.handle


def test_sign_refuses_a_wrong_missing_or_expired_token(
    server: LiveServer,
    account: Account,
    tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert_xrpc_error(sign(server, account, alsoKnownAs=[]), 400, "InvalidRequest")
    assert_xrpc_error(sign(server, account, token="AAAAA-AAAAA"), 400, "InvalidToken")
    token = request_token(server, account, tokens)
    assert_xrpc_error(sign(server, account, token="AAAAA-AAAAA"), 400, "InvalidToken")
    later = time.time() + 16 * 60
    monkeypatch.setattr(identity(server).tokens, "clock", lambda: later)
    assert_xrpc_error(sign(server, account, token=token), 400, "ExpiredToken")


def test_a_malformed_sign_request_keeps_the_token_for_a_retry(
    server: LiveServer, account: Account, tokens: dict[str, str]
) -> None:
    token = request_token(server, account, tokens)
    bad = sign(server, account, token=token, services={"atproto_pds": "https://x.y"})
    assert_xrpc_error(bad, 400, "InvalidRequest")
    assert sign(server, account, token=token).status_code == 200


def test_a_new_token_replaces_the_outstanding_one(
    server: LiveServer, account: Account, tokens: dict[str, str]
) -> None:
    first = request_token(server, account, tokens)
    second = request_token(server, account, tokens)
    assert first != second
    assert_xrpc_error(sign(server, account, token=first), 400, "InvalidToken")
    assert sign(server, account, token=second).status_code == 200


@pytest.mark.parametrize(
    "operation",
    [
        "not an object",
        {"type": "plc_tombstone", "prev": "bafyreib", "sig": "x"},
        {"type": "plc_operation"},
    ],
)
def test_submit_refuses_malformed_operations(
    server: LiveServer, account: Account, operation: Any
) -> None:
    with server.seq_unchanged():
        response = post(server, account, ID + "submitPlcOperation", {"operation": operation})
        assert_xrpc_error(response, 400, "InvalidRequest")


# -- signing keys -------------------------------------------------------------------------------


def test_an_op_naming_a_reserved_key_rotates_the_repo_signing_key(
    server: LiveServer, account: Account, tokens: dict[str, str]
) -> None:
    reserved = post(server, account, SRV + "reserveSigningKey", {"did": account.did})
    assert reserved.status_code == 200, reserved.text
    key = reserved.json()["signingKey"]
    token = request_token(server, account, tokens)
    operation = sign(server, account, token=token, verificationMethods={"atproto": key}).json()[
        "operation"
    ]
    before = server.seq()
    response = post(server, account, ID + "submitPlcOperation", {"operation": operation})
    assert response.status_code == 200, response.text
    method = document(server, account.did)["verificationMethod"][0]
    assert "did:key:" + method["publicKeyMultibase"] == key
    assert [kind for kind, _ in frames_after(server, before)] == ["#identity", "#commit"]
    account_row = server.services.views.get_account(account.did)
    assert account_row is not None and account_row.signing_key == key
    assert create_post(server, account).status_code == 200  # signed with the new key
    status = server.http.get(SRV + "checkAccountStatus", headers=account.auth).json()
    assert status["validDid"] is True


def test_reserving_a_key_for_another_did_is_forbidden(server: LiveServer, account: Account) -> None:
    response = post(server, account, SRV + "reserveSigningKey", {"did": "did:plc:" + "a" * 24})
    assert_xrpc_error(response, 403, "Forbidden")


# -- account status -----------------------------------------------------------------------------


def test_deactivate_then_activate_emits_account_frames_and_gates_writes(
    server: LiveServer, account: Account
) -> None:
    before = server.seq()
    assert post(server, account, SRV + "deactivateAccount", {}).status_code == 200
    assert frames_after(server, before)[-1][0] == "#account"
    assert frames_after(server, before)[-1][1]["active"] is False
    assert frames_after(server, before)[-1][1]["status"] == "deactivated"
    assert_xrpc_error(create_post(server, account), 400, "RepoDeactivated")
    status = server.http.get(SRV + "checkAccountStatus", headers=account.auth).json()
    assert status["activated"] is False

    middle = server.seq()
    assert server.http.post(SRV + "activateAccount", headers=account.auth).status_code == 200
    frames = frames_after(server, middle)
    assert [kind for kind, _ in frames] == ["#account", "#identity"]
    assert frames[0][1]["active"] is True and "status" not in frames[0][1]
    assert create_post(server, account).status_code == 200


def test_deactivate_accepts_no_body_and_a_delete_after_hint(
    server: LiveServer, account: Account
) -> None:
    response = server.http.post(SRV + "deactivateAccount", headers=account.auth)
    assert response.status_code == 200, response.text
    hint = {"deleteAfter": "2030-01-01T00:00:00.000Z"}
    assert post(server, account, SRV + "deactivateAccount", hint).status_code == 200
    assert_xrpc_error(
        post(server, account, SRV + "deactivateAccount", {"deleteAfter": "soon"}),
        400,
        "InvalidRequest",
    )


def test_activation_is_refused_while_the_did_document_points_elsewhere(
    server: LiveServer, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert post(server, account, SRV + "deactivateAccount", {}).status_code == 200
    monkeypatch.setattr(identity(server), "pds_endpoint", "https://elsewhere.example.com")
    with server.seq_unchanged():
        response = server.http.post(SRV + "activateAccount", headers=account.auth)
        assert "endpoint" in assert_xrpc_error(response, 400, "InvalidRequest")["message"]


def test_check_account_status_reports_the_repo_and_a_valid_did(
    server: LiveServer, account: Account
) -> None:
    assert create_post(server, account, "one").status_code == 200
    assert create_post(server, account, "two").status_code == 200
    response = server.http.get(SRV + "checkAccountStatus", headers=account.auth)
    assert response.status_code == 200, response.text
    head = server.services.views.get_head(account.did)
    assert head is not None
    car = server.http.get("/xrpc/com.atproto.sync.getRepo", params={"did": account.did})
    _, blocks = load_car(car.content)
    assert len(blocks) >= 4
    assert response.json() == {
        "activated": True,
        "validDid": True,
        "repoCommit": str(head.commit),
        "repoRev": head.rev,
        "repoBlocks": len(blocks),  # what getRepo exports: commit, MST nodes, records
        "indexedRecords": 2,
        "privateStateValues": 0,
        "expectedBlobs": 0,
        "importedBlobs": 0,
    }


def test_a_taken_down_account_may_still_ask_for_a_plc_signature_but_not_change_its_handle(
    server: LiveServer, account: Account, tokens: dict[str, str]
) -> None:
    server.services.extras["account_admin"].set_status_by_operator(account.did, "takendown")
    with server.seq_unchanged():
        response = post(server, account, ID + "updateHandle", {"handle": "fresh1234.test"})
        assert_xrpc_error(response, 401, "AccountTakedown")
        response = server.http.post(SRV + "activateAccount", headers=account.auth)
        assert_xrpc_error(response, 401, "AccountTakedown")
        assert post(server, account, SRV + "deactivateAccount", {}).status_code == 200
    assert request_token(server, account, tokens)
