"""App passwords over XRPC, with the `atproto` SDK: create, log in, list, revoke.

A session made with an app password works for records but not for credential management
(the reference's ACCESS_FULL endpoints), and revoking the password ends its sessions.
"""

from __future__ import annotations

import pytest
from atproto import Client, models
from atproto_client.exceptions import BadRequestError, UnauthorizedError

from tests.integration.conftest import (
    Account,
    LiveServer,
    app_password_auth,
    assert_xrpc_error,
    sdk_client,
)

SERVER = "/xrpc/com.atproto.server."
POST = "app.bsky.feed.post"


def _post_with(client: Client) -> str:
    record = {"$type": POST, "text": "from an app", "createdAt": "2024-01-01T00:00:00.000Z"}
    assert client._session is not None
    created = client.com.atproto.repo.create_record(
        {"repo": client._session.did, "collection": POST, "record": record}
    )
    return created.uri


def test_an_app_password_logs_in_and_writes_records(server: LiveServer, account: Account) -> None:
    owner = sdk_client(server, account)
    created = owner.com.atproto.server.create_app_password({"name": "phone"})
    assert created.name == "phone"
    assert len(created.password) == 19 and created.password.count("-") == 3

    app = Client(base_url=server.xrpc)
    app.login(account.handle, created.password, fetch_bsky_profile=False)

    assert _post_with(app).startswith(f"at://{account.did}/{POST}/")
    listed = owner.com.atproto.server.list_app_passwords()
    assert [p.name for p in listed.passwords] == ["phone"]
    assert listed.passwords[0].created_at == created.created_at


def test_an_app_password_session_cannot_make_more_app_passwords(
    server: LiveServer, account: Account
) -> None:
    owner = sdk_client(server, account)
    app_auth = app_password_auth(server, account, "laptop")

    response = server.http.post(
        SERVER + "createAppPassword", headers=app_auth, json={"name": "another"}
    )

    assert_xrpc_error(response, 401, "InvalidToken")
    assert [p.name for p in owner.com.atproto.server.list_app_passwords().passwords] == ["laptop"]


def test_revoking_an_app_password_ends_its_logins_and_sessions(
    server: LiveServer, account: Account
) -> None:
    owner = sdk_client(server, account)
    secret = owner.com.atproto.server.create_app_password({"name": "tablet"}).password
    app = Client(base_url=server.xrpc)
    app.login(account.handle, secret, fetch_bsky_profile=False)
    assert app._session is not None
    refresh = {"authorization": f"Bearer {app._session.refresh_jwt}"}

    owner.com.atproto.server.revoke_app_password({"name": "tablet"})

    with pytest.raises(UnauthorizedError):
        Client(base_url=server.xrpc).login(account.handle, secret, fetch_bsky_profile=False)
    again = server.http.post(SERVER + "refreshSession", headers=refresh)
    assert again.status_code == 400 and again.json()["error"] == "ExpiredToken"
    assert owner.com.atproto.server.list_app_passwords().passwords == []
    assert owner.com.atproto.server.get_session().did == account.did  # the owner's stays


def test_app_password_names_are_unique_and_privileged_ones_are_refused(
    server: LiveServer, account: Account
) -> None:
    owner = sdk_client(server, account)
    owner.com.atproto.server.create_app_password({"name": "watch"})
    with pytest.raises(BadRequestError) as taken:
        owner.com.atproto.server.create_app_password({"name": "watch"})
    assert taken.value.response is not None
    assert taken.value.response.content.error == "InvalidRequest"
    with pytest.raises(BadRequestError):
        owner.com.atproto.server.create_app_password(
            models.ComAtprotoServerCreateAppPassword.Data(name="admin", privileged=True)
        )
    assert [p.name for p in owner.com.atproto.server.list_app_passwords().passwords] == ["watch"]


def test_app_password_endpoints_need_a_session(server: LiveServer) -> None:
    assert_xrpc_error(
        server.http.post(SERVER + "createAppPassword", json={"name": "x"}),
        401,
        "AuthenticationRequired",
    )
    assert_xrpc_error(server.http.get(SERVER + "listAppPasswords"), 401, "AuthenticationRequired")
