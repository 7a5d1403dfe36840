"""getServiceAuth over a real socket: the token verifies with the `atproto` SDK's own checker
against the account's signing key, and every refusal is its typed XRPC error."""

from __future__ import annotations

import time

import pytest
from atproto_server.auth.jwt import verify_jwt

from tests.integration.conftest import (
    Account,
    LiveServer,
    app_password_session,
    assert_xrpc_error,
    bearer,
    sdk_client,
)

PATH = "/xrpc/com.atproto.server.getServiceAuth"
AUD = "did:web:video.bsky.app"
UPLOAD = "com.atproto.repo.uploadBlob"
CHAT = "did:web:api.bsky.chat"
GET_LOG = "chat.bsky.convo.getLog"


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


def _app_password_auth(server: LiveServer, account: Account, *, privileged: bool) -> dict[str, str]:
    session = app_password_session(
        server.http, account.handle, account.auth, "chat-client", privileged=privileged
    )
    return bearer(session["accessJwt"])


@pytest.mark.parametrize("privileged", [False, True], ids=["password", "privileged-app-password"])
def test_a_privileged_session_gets_a_token_for_a_chat_method(
    server: LiveServer, account: Account, privileged: bool
) -> None:
    auth = _app_password_auth(server, account, privileged=True) if privileged else account.auth

    response = server.http.get(PATH, headers=auth, params={"aud": CHAT, "lxm": GET_LOG})

    assert response.status_code == 200, response.text
    key = _signing_key(server, account)
    payload = verify_jwt(response.json()["token"], lambda iss, _fresh: key, own_did=CHAT)
    assert (payload.iss, payload.aud, payload.lxm) == (account.did, CHAT, GET_LOG)


@pytest.mark.parametrize(
    "lxm", [GET_LOG, "Chat.Bsky.Convo.getLog", "com.atproto.server.createAccount"]
)
def test_a_plain_app_password_session_gets_no_token_for_a_privileged_method(
    server: LiveServer, account: Account, lxm: str
) -> None:
    auth = _app_password_auth(server, account, privileged=False)

    response = server.http.get(PATH, headers=auth, params={"aud": CHAT, "lxm": lxm})

    body = assert_xrpc_error(response, 400, "InvalidRequest")
    assert body["message"] == (
        f"insufficient access to request a service auth token for the following method: {lxm}"
    )
    ordinary = server.http.get(PATH, headers=auth, params={"aud": AUD, "lxm": UPLOAD})
    assert ordinary.status_code == 200, ordinary.text


def test_no_app_password_session_gets_a_token_for_a_protected_method(
    server: LiveServer, account: Account
) -> None:
    auth = _app_password_auth(server, account, privileged=True)
    for lxm in ("com.atproto.server.createAppPassword", "com.atproto.server.GETSESSION"):
        response = server.http.get(PATH, headers=auth, params={"aud": AUD, "lxm": lxm})
        assert "protected method" in assert_xrpc_error(response, 400, "InvalidRequest")["message"]
