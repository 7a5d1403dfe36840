"""Accounts, sessions and identity over a real socket, driven by the `atproto` SDK."""

from __future__ import annotations

import httpx
import pytest
from atproto import Client
from atproto_client.exceptions import BadRequestError, UnauthorizedError
from atproto_core.did_doc import DidDocument

from tests.integration.conftest import PASSWORD, Account, LiveServer, sdk_client


def test_create_account_through_the_sdk_returns_a_session_for_the_new_did(
    server: LiveServer,
) -> None:
    client = Client(base_url=server.xrpc)
    created = client.com.atproto.server.create_account(
        {"handle": "created.test", "password": PASSWORD, "email": "created@example.com"}
    )
    assert created.handle == "created.test"
    assert created.did.startswith("did:plc:")
    assert created.access_jwt and created.refresh_jwt
    session = httpx.get(
        f"{server.xrpc}/com.atproto.server.getSession",
        headers={"authorization": f"Bearer {created.access_jwt}"},
    ).json()
    assert session["did"] == created.did
    assert session["handle"] == "created.test"


def test_new_did_document_names_the_handle_pds_and_a_signing_key(
    server: LiveServer, account: Account
) -> None:
    response = server.http.get(f"/plc/{account.did}")
    assert response.status_code == 200
    doc = DidDocument.from_dict(response.json())
    assert doc.get_did() == account.did
    assert doc.get_handle() == account.handle
    assert doc.get_pds_endpoint() == server.services.settings.public_url
    did_key = doc.get_did_key()
    assert did_key is not None and did_key.startswith("did:key:z")


@pytest.mark.parametrize("identifier", ["handle", "did", "email"])
def test_login_accepts_handle_did_or_email(
    server: LiveServer, account: Account, identifier: str
) -> None:
    login = {"handle": account.handle, "did": account.did, "email": f"{account.handle}@example.com"}
    client = Client(base_url=server.xrpc)
    client.login(login[identifier], account.password, fetch_bsky_profile=False)
    assert client._session is not None
    assert client._session.did == account.did
    assert client._session.handle == account.handle


def test_login_with_a_wrong_password_is_authentication_required(
    server: LiveServer, account: Account
) -> None:
    client = Client(base_url=server.xrpc)
    with pytest.raises(UnauthorizedError) as caught:
        client.login(account.handle, "not the password", fetch_bsky_profile=False)
    assert caught.value.response is not None
    assert caught.value.response.status_code == 401
    assert caught.value.response.content.error == "AuthenticationRequired"


def test_get_session_reports_the_logged_in_account(server: LiveServer, account: Account) -> None:
    client = sdk_client(server, account)
    session = client.com.atproto.server.get_session()
    assert (session.did, session.handle) == (account.did, account.handle)
    assert session.active is True


def test_refresh_rotates_both_tokens_and_the_new_access_token_works(
    server: LiveServer, account: Account
) -> None:
    client = sdk_client(server, account)
    assert client._session is not None
    before = (client._session.access_jwt, client._session.refresh_jwt)

    refreshed = client._refresh_and_set_session()

    assert refreshed.did == account.did
    assert refreshed.refresh_jwt != before[1]
    assert client.com.atproto.server.get_session().did == account.did


def test_deleted_session_cannot_be_refreshed(server: LiveServer, account: Account) -> None:
    refresh = {"authorization": f"Bearer {account.refresh_jwt}"}
    deleted = server.http.post("/xrpc/com.atproto.server.deleteSession", headers=refresh)
    assert deleted.status_code == 200

    again = server.http.post("/xrpc/com.atproto.server.refreshSession", headers=refresh)

    assert again.status_code == 400
    assert again.json()["error"] == "ExpiredToken"


def test_refresh_token_is_not_accepted_as_an_access_token(
    server: LiveServer, account: Account
) -> None:
    response = server.http.get(
        "/xrpc/com.atproto.server.getSession",
        headers={"authorization": f"Bearer {account.refresh_jwt}"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "InvalidToken"


def test_resolve_handle_returns_the_accounts_did(server: LiveServer, account: Account) -> None:
    resolved = Client(base_url=server.xrpc).com.atproto.identity.resolve_handle(
        {"handle": account.handle}
    )
    assert resolved.did == account.did


def test_resolve_handle_of_an_unknown_handle_is_handle_not_found(server: LiveServer) -> None:
    with pytest.raises(BadRequestError) as caught:
        Client(base_url=server.xrpc).com.atproto.identity.resolve_handle(
            {"handle": "nobody-here.test"}
        )
    assert caught.value.response is not None
    assert caught.value.response.content.error == "HandleNotFound"


def test_well_known_atproto_did_answers_for_the_handle_host(
    server: LiveServer, account: Account
) -> None:
    response = server.http.get("/.well-known/atproto-did", headers={"host": account.handle})
    assert response.status_code == 200
    assert response.text.strip() == account.did


def test_describe_server_names_the_service_did_and_handle_domains(server: LiveServer) -> None:
    described = Client(base_url=server.xrpc).com.atproto.server.describe_server()
    assert described.did == server.services.settings.service_did
    assert described.available_user_domains == [".test"]
    assert described.invite_code_required is False


@pytest.mark.parametrize("method", ["createSession", "refreshSession", "getSession"])
def test_session_responses_carry_the_did_document(
    server: LiveServer, account: Account, method: str
) -> None:
    """As the reference's: clients read the account's PDS endpoint from it."""
    if method == "createSession":
        response = server.http.post(
            "/xrpc/com.atproto.server.createSession",
            json={"identifier": account.handle, "password": account.password},
        )
    elif method == "refreshSession":
        response = server.http.post(
            "/xrpc/com.atproto.server.refreshSession",
            headers={"authorization": f"Bearer {account.refresh_jwt}"},
        )
    else:
        response = server.http.get("/xrpc/com.atproto.server.getSession", headers=account.auth)
    assert response.status_code == 200, response.text
    doc = DidDocument.from_dict(response.json()["didDoc"])
    assert doc.id == account.did
    assert doc.get_pds_endpoint() == server.services.settings.public_url
