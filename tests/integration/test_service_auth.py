"""getServiceAuth over a real socket: the token verifies with the `atproto` SDK's own checker
against the account's signing key, and every refusal is its typed XRPC error."""

from __future__ import annotations

import time

import pytest
from atproto_server.auth.jwt import verify_jwt

from tests.integration.conftest import Account, LiveServer, assert_xrpc_error, sdk_client

PATH = "/xrpc/com.atproto.server.getServiceAuth"
AUD = "did:web:video.bsky.app"
UPLOAD = "com.atproto.repo.uploadBlob"


def _signing_key(server: LiveServer, account: Account) -> str:
    row = server.services.store.views.get_account(account.did)
    assert row is not None
    return row.signing_key


def test_a_service_token_verifies_with_the_sdk_against_the_accounts_key(
    server: LiveServer, account: Account
) -> None:
    client = sdk_client(server, account)
    token = client.com.atproto.server.get_service_auth(
        {"aud": AUD, "lxm": "com.atproto.repo.uploadBlob"}
    ).token

    payload = verify_jwt(token, lambda iss, _fresh: _signing_key(server, account), own_did=AUD)

    assert (payload.iss, payload.aud) == (account.did, AUD)
    assert payload.lxm == "com.atproto.repo.uploadBlob"
    assert 0 < payload.exp - time.time() <= 61


def test_an_expiry_an_hour_away_is_kept(server: LiveServer, account: Account) -> None:
    exp = int(time.time()) + 3000
    response = server.http.get(
        PATH,
        headers=account.auth,
        params={"aud": AUD, "lxm": "com.atproto.repo.uploadBlob", "exp": str(exp)},
    )
    assert response.status_code == 200
    payload = verify_jwt(
        response.json()["token"], lambda iss, _fresh: _signing_key(server, account), own_did=AUD
    )
    assert payload.exp == exp


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"exp": "1"}, "BadExpiration"),
        ({"exp": str(int(time.time()) + 7200), "lxm": UPLOAD}, "BadExpiration"),
        ({"lxm": "com.atproto.server.createAppPassword"}, "InvalidRequest"),
        ({"lxm": "not an nsid"}, "InvalidRequest"),
        ({"exp": "soon"}, "InvalidRequest"),
    ],
    ids=["past", "beyond-an-hour", "protected-method", "bad-lxm", "exp-not-an-integer"],
)
def test_refusals_are_typed_errors(
    server: LiveServer, account: Account, params: dict[str, str], error: str
) -> None:
    response = server.http.get(PATH, headers=account.auth, params={"aud": AUD, **params})
    assert_xrpc_error(response, 400, error)


def test_a_service_token_needs_a_session(server: LiveServer) -> None:
    assert_xrpc_error(server.http.get(PATH, params={"aud": AUD}), 401, "AuthenticationRequired")
