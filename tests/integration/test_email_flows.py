"""Email confirmation and change over a real socket, tokens read from the operator's log.

An address change is an event in the log (the accounts view follows) but never a firehose
frame; a confirmed address can only be replaced with a token.
"""

from __future__ import annotations

from tests.integration.conftest import Account, LiveServer, assert_xrpc_error, sdk_client

NS = "/xrpc/com.atproto.server."


def _email(account: Account) -> str:
    return f"{account.handle}@example.com"


Tokens = dict[tuple[str, str], str]


def _confirm(server: LiveServer, account: Account, operator_tokens: Tokens) -> None:
    sent = server.http.post(NS + "requestEmailConfirmation", headers=account.auth)
    assert (sent.status_code, sent.content) == (200, b"")
    token = operator_tokens[("confirm_email", account.did)]
    body = {"email": _email(account).upper(), "token": token}
    confirmed = server.http.post(NS + "confirmEmail", headers=account.auth, json=body)
    assert confirmed.status_code == 200, confirmed.text


def test_confirming_the_email_shows_in_the_session(
    server: LiveServer, account: Account, operator_tokens: dict[tuple[str, str], str]
) -> None:
    client = sdk_client(server, account)
    assert client.com.atproto.server.get_session().email_confirmed is False

    _confirm(server, account, operator_tokens)

    assert client.com.atproto.server.get_session().email_confirmed is True
    relogged = sdk_client(server, account)
    assert relogged._session is not None


def test_confirming_another_address_or_a_wrong_token_is_refused(
    server: LiveServer, account: Account, operator_tokens: dict[tuple[str, str], str]
) -> None:
    server.http.post(NS + "requestEmailConfirmation", headers=account.auth)
    token = operator_tokens[("confirm_email", account.did)]
    other = {"email": "someone@else.example", "token": token}
    assert_xrpc_error(
        server.http.post(NS + "confirmEmail", headers=account.auth, json=other), 400, "InvalidEmail"
    )
    wrong = {"email": _email(account), "token": "AAAAA-AAAAA"}
    assert_xrpc_error(
        server.http.post(NS + "confirmEmail", headers=account.auth, json=wrong), 400, "InvalidToken"
    )


def test_an_unconfirmed_address_changes_without_a_token_and_stays_off_the_firehose(
    server: LiveServer, account: Account
) -> None:
    asked = server.http.post(NS + "requestEmailUpdate", headers=account.auth)
    assert asked.json() == {"tokenRequired": False}
    with server.seq_unchanged():
        changed = server.http.post(
            NS + "updateEmail", headers=account.auth, json={"email": "New@Example.com"}
        )
    assert changed.status_code == 200, changed.text
    session = sdk_client(server, account).com.atproto.server.get_session()
    assert (session.email, session.email_confirmed) == ("new@example.com", False)


def test_a_confirmed_address_needs_a_token_to_change(
    server: LiveServer, account: Account, operator_tokens: dict[tuple[str, str], str]
) -> None:
    _confirm(server, account, operator_tokens)
    asked = server.http.post(NS + "requestEmailUpdate", headers=account.auth)
    assert asked.json() == {"tokenRequired": True}
    bare = server.http.post(NS + "updateEmail", headers=account.auth, json={"email": "a@b.example"})
    assert_xrpc_error(bare, 400, "TokenRequired")

    token = operator_tokens[("update_email", account.did)]
    body = {"email": "moved@example.com", "token": token}
    assert server.http.post(NS + "updateEmail", headers=account.auth, json=body).status_code == 200

    session = sdk_client(server, account).com.atproto.server.get_session()
    assert (session.email, session.email_confirmed) == ("moved@example.com", False)


def test_an_address_in_use_or_malformed_is_refused(server: LiveServer, account: Account) -> None:
    other = server.create_account("other")
    for email in (_email(other), "not-an-email"):
        response = server.http.post(NS + "updateEmail", headers=account.auth, json={"email": email})
        assert_xrpc_error(response, 400, "InvalidEmail")
