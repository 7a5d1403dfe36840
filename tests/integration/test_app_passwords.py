"""App passwords over XRPC, with the `atproto` SDK: create, log in, list, revoke.

A session made with an app password works for records but not for credential management
(the reference's ACCESS_FULL endpoints), and revoking the password ends its sessions. A
privileged app password's sessions carry `com.atproto.appPassPrivileged`: the same, plus the
privileged methods through service auth and the proxy (test_service_auth, test_service_proxy).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from atproto import Client, models
from atproto_client.exceptions import BadRequestError, UnauthorizedError

from tests.integration.conftest import (
    Account,
    LiveServer,
    app_password_auth,
    app_password_session,
    assert_xrpc_error,
    bearer,
    sdk_client,
)

SERVER = "/xrpc/com.atproto.server."
POST = "app.bsky.feed.post"
APP_PASS = "com.atproto.appPass"
APP_PASS_PRIVILEGED = "com.atproto.appPassPrivileged"
PERSONAL = "app.bsky.actor.defs#personalDetailsPref"

FULL_ACCESS_ONLY = [
    ("POST", "com.atproto.server.createAppPassword", {"name": "another"}),
    ("GET", "com.atproto.server.getAccountInviteCodes", None),
    ("POST", "com.atproto.server.requestEmailUpdate", None),
    ("POST", "com.atproto.server.updateEmail", {"email": "new@example.com"}),
    ("POST", "com.atproto.server.requestAccountDelete", None),
    ("POST", "com.atproto.server.activateAccount", None),
    ("POST", "com.atproto.server.deactivateAccount", {}),
    ("POST", "com.atproto.identity.requestPlcOperationSignature", None),
    ("POST", "com.atproto.identity.signPlcOperation", {}),
    ("POST", "com.atproto.repo.importRepo", None),
]
"""The reference's ACCESS_FULL methods: no app-password session, privileged or not."""


def _scope(jwt: str) -> str:
    payload = jwt.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    scope: str = claims["scope"]
    return scope


def _login(server: LiveServer, account: Account, name: str, *, privileged: bool) -> dict[str, Any]:
    return app_password_session(
        server.http, account.handle, account.auth, name, privileged=privileged
    )


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


def test_app_password_names_are_unique(server: LiveServer, account: Account) -> None:
    owner = sdk_client(server, account)
    owner.com.atproto.server.create_app_password({"name": "watch"})
    with pytest.raises(BadRequestError) as taken:
        owner.com.atproto.server.create_app_password({"name": "watch"})
    assert taken.value.response is not None
    assert taken.value.response.content.error == "InvalidRequest"
    assert [p.name for p in owner.com.atproto.server.list_app_passwords().passwords] == ["watch"]


def test_a_privileged_app_password_is_created_and_listed_as_privileged(
    server: LiveServer, account: Account
) -> None:
    owner = sdk_client(server, account)
    plain = owner.com.atproto.server.create_app_password({"name": "plain"})
    created = owner.com.atproto.server.create_app_password(
        models.ComAtprotoServerCreateAppPassword.Data(name="chat", privileged=True)
    )
    explicit = owner.com.atproto.server.create_app_password(
        models.ComAtprotoServerCreateAppPassword.Data(name="explicit", privileged=False)
    )

    assert (plain.privileged, created.privileged, explicit.privileged) == (False, True, False)
    assert len(created.password) == 19 and created.password.count("-") == 3
    listed = server.http.get(SERVER + "listAppPasswords", headers=account.auth).json()
    flags = {p["name"]: p["privileged"] for p in listed["passwords"]}
    assert flags == {"plain": False, "chat": True, "explicit": False}


@pytest.mark.parametrize("value", ["true", 1, 0, None, [], {}], ids=repr)
def test_privileged_must_be_a_boolean(server: LiveServer, account: Account, value: Any) -> None:
    response = server.http.post(
        SERVER + "createAppPassword",
        headers=account.auth,
        json={"name": "odd", "privileged": value},
    )

    body = assert_xrpc_error(response, 400, "InvalidRequest")
    assert "privileged" in body["message"]
    listed = server.http.get(SERVER + "listAppPasswords", headers=account.auth).json()
    assert listed["passwords"] == []


@pytest.mark.parametrize(
    ("privileged", "scope"),
    [(False, APP_PASS), (True, APP_PASS_PRIVILEGED)],
    ids=["plain", "privileged"],
)
def test_an_app_password_session_and_its_refreshes_carry_its_scope(
    server: LiveServer, account: Account, privileged: bool, scope: str
) -> None:
    session = _login(server, account, "device", privileged=privileged)
    assert _scope(session["accessJwt"]) == scope

    refresh_jwt = session["refreshJwt"]
    for _ in range(2):  # a refreshed session refreshes again with the same scope
        refreshed = server.http.post(SERVER + "refreshSession", headers=bearer(refresh_jwt))
        assert refreshed.status_code == 200, refreshed.text
        assert _scope(refreshed.json()["accessJwt"]) == scope
        refresh_jwt = refreshed.json()["refreshJwt"]
    password_session = sdk_client(server, account)._session
    assert password_session is not None
    assert _scope(password_session.access_jwt) == "com.atproto.access"


@pytest.mark.parametrize("privileged", [False, True], ids=["plain", "privileged"])
@pytest.mark.parametrize(
    ("method", "nsid", "body"), FULL_ACCESS_ONLY, ids=[nsid for _, nsid, _ in FULL_ACCESS_ONLY]
)
def test_full_access_methods_refuse_app_password_sessions(
    server: LiveServer,
    account: Account,
    privileged: bool,
    method: str,
    nsid: str,
    body: dict[str, Any] | None,
) -> None:
    session = _login(server, account, "device", privileged=privileged)

    with server.seq_unchanged():
        response = server.http.request(
            method, f"/xrpc/{nsid}", headers=bearer(session["accessJwt"]), json=body
        )

    assert assert_xrpc_error(response, 401, "InvalidToken")["message"] == "Bad token scope"
    status = server.http.get(SERVER + "getSession", headers=account.auth).json()
    assert status["active"] is True


def test_a_privileged_app_password_session_works_as_an_app_password_session(
    server: LiveServer, account: Account
) -> None:
    owner = sdk_client(server, account)
    personal = {"$type": PERSONAL, "birthDate": "1990-01-01T00:00:00.000Z"}
    saved = {"$type": "app.bsky.actor.defs#savedFeedsPrefV2", "items": []}
    put = server.http.post(
        "/xrpc/app.bsky.actor.putPreferences",
        headers=account.auth,
        json={"preferences": [personal, saved]},
    )
    assert put.status_code == 200, put.text
    session = _login(server, account, "chat", privileged=True)
    auth = bearer(session["accessJwt"])

    assert server.http.get(SERVER + "getSession", headers=auth).json()["did"] == account.did
    listed = server.http.get(SERVER + "listAppPasswords", headers=auth).json()
    assert listed["passwords"][0]["privileged"] is True
    record = {"$type": POST, "text": "privileged", "createdAt": "2024-01-01T00:00:00.000Z"}
    created = server.http.post(
        "/xrpc/com.atproto.repo.createRecord",
        headers=auth,
        json={"repo": account.did, "collection": POST, "record": record},
    )
    assert created.status_code == 200, created.text
    prefs = server.http.get("/xrpc/app.bsky.actor.getPreferences", headers=auth).json()
    assert [p["$type"] for p in prefs["preferences"]] == [saved["$type"]]  # not full access
    assert owner.com.atproto.server.get_session().did == account.did


def test_app_password_endpoints_need_a_session(server: LiveServer) -> None:
    assert_xrpc_error(
        server.http.post(SERVER + "createAppPassword", json={"name": "x"}),
        401,
        "AuthenticationRequired",
    )
    assert_xrpc_error(server.http.get(SERVER + "listAppPasswords"), 401, "AuthenticationRequired")
