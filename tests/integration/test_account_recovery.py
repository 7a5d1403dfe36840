"""Forgotten password and account deletion over a real socket, tokens read from the
operator's log (this server sends no email): each flow end to end, and its refusals."""

from __future__ import annotations

import httpx
import pytest
from atproto import Client
from atproto_client.exceptions import UnauthorizedError

from tests.integration.conftest import (
    Account,
    LiveServer,
    app_password_auth,
    assert_xrpc_error,
)

NS = "/xrpc/com.atproto.server."


def _email(account: Account) -> str:
    return f"{account.handle}@example.com"


def _post(server: LiveServer, method: str, body: dict[str, str], **kw: object) -> httpx.Response:
    return server.http.post(NS + method, json=body, **kw)  # type: ignore[arg-type]


def test_a_forgotten_password_is_reset_with_the_emailed_token(
    server: LiveServer, account: Account, operator_tokens: dict[tuple[str, str], str]
) -> None:
    assert _post(server, "requestPasswordReset", {"email": _email(account)}).content == b""
    token = operator_tokens[("reset_password", account.did)]

    reset = _post(server, "resetPassword", {"token": token.lower(), "password": "new-pass-123"})

    assert reset.status_code == 200, reset.text
    client = Client(base_url=server.xrpc)
    client.login(account.handle, "new-pass-123", fetch_bsky_profile=False)
    with pytest.raises(UnauthorizedError):
        Client(base_url=server.xrpc).login(account.handle, account.password)
    # the old sessions ended with the old password, and the token was single use
    old_refresh = {"authorization": f"Bearer {account.refresh_jwt}"}
    assert server.http.post(NS + "refreshSession", headers=old_refresh).status_code == 400
    again = _post(server, "resetPassword", {"token": token, "password": "third-pass-1"})
    assert_xrpc_error(again, 400, "InvalidToken")


def test_a_reset_request_for_an_unknown_email_looks_the_same(
    server: LiveServer, operator_tokens: dict[tuple[str, str], str]
) -> None:
    response = _post(server, "requestPasswordReset", {"email": "nobody@example.com"})
    assert (response.status_code, response.content) == (200, b"")
    assert operator_tokens == {}


def test_reset_refusals(
    server: LiveServer, account: Account, operator_tokens: dict[tuple[str, str], str]
) -> None:
    assert_xrpc_error(
        _post(server, "resetPassword", {"token": "AAAAA-AAAAA", "password": "x" * 10}),
        400,
        "InvalidToken",
    )
    _post(server, "requestPasswordReset", {"email": _email(account)})
    token = operator_tokens[("reset_password", account.did)]
    too_long = _post(server, "resetPassword", {"token": token, "password": "x" * 300})
    assert_xrpc_error(too_long, 400, "InvalidRequest")
    # a refused password does not burn the token
    ok = _post(server, "resetPassword", {"token": token, "password": "fine-pass-1"})
    assert ok.status_code == 200


def test_deleting_an_account_needs_password_and_token_and_then_it_is_gone(
    server: LiveServer, account: Account, operator_tokens: dict[tuple[str, str], str]
) -> None:
    requested = server.http.post(NS + "requestAccountDelete", headers=account.auth)
    assert (requested.status_code, requested.content) == (200, b"")
    token = operator_tokens[("delete_account", account.did)]
    body = {"did": account.did, "password": account.password, "token": token}

    wrong = _post(server, "deleteAccount", {**body, "password": "not it"})
    assert_xrpc_error(wrong, 401, "AuthenticationRequired")
    assert_xrpc_error(_post(server, "deleteAccount", {**body, "token": "AAAAA-AAAAA"}),
                      400, "InvalidToken")  # fmt: skip
    before = server.seq()

    assert _post(server, "deleteAccount", body).status_code == 200

    assert server.seq() > before  # #account, status deleted, is in the log
    assert_xrpc_error(
        server.http.get("/xrpc/com.atproto.sync.getLatestCommit", params={"did": account.did}),
        404,
        "RepoNotFound",
    )
    with pytest.raises(UnauthorizedError):
        Client(base_url=server.xrpc).login(account.handle, account.password)
    status = server.http.get("/xrpc/com.atproto.sync.getRepoStatus", params={"did": account.did})
    assert status.status_code == 200, status.text
    assert (status.json()["active"], status.json()["status"]) == (False, "deleted")


def test_an_app_password_session_cannot_ask_to_delete_the_account(
    server: LiveServer, account: Account
) -> None:
    app_auth = app_password_auth(server, account, "app")
    response = server.http.post(NS + "requestAccountDelete", headers=app_auth)
    assert_xrpc_error(response, 401, "InvalidToken")
