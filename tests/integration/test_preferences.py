"""app.bsky preferences, kept by the PDS: over a real socket with the `atproto` SDK."""

from __future__ import annotations

from atproto import models

from tests.integration.conftest import (
    Account,
    LiveServer,
    app_password_auth,
    assert_xrpc_error,
    sdk_client,
)

NS = "/xrpc/app.bsky.actor."
ADULT = {"$type": "app.bsky.actor.defs#adultContentPref", "enabled": False}
BIRTH = {
    "$type": "app.bsky.actor.defs#personalDetailsPref",
    "birthDate": "1990-01-01T00:00:00.000Z",
}


def test_preferences_start_empty_and_are_replaced_whole(
    server: LiveServer, account: Account
) -> None:
    client = sdk_client(server, account)
    assert client.app.bsky.actor.get_preferences().preferences == []

    saved = server.http.post(NS + "putPreferences", headers=account.auth,
                             json={"preferences": [ADULT, BIRTH]})  # fmt: skip
    assert saved.status_code == 200, saved.text

    got = server.http.get(NS + "getPreferences", headers=account.auth).json()["preferences"]
    assert got == [ADULT, BIRTH]
    parsed = client.app.bsky.actor.get_preferences().preferences
    assert isinstance(parsed[0], models.AppBskyActorDefs.AdultContentPref)
    server.http.post(NS + "putPreferences", headers=account.auth, json={"preferences": []})
    assert server.http.get(NS + "getPreferences", headers=account.auth).json() == {
        "preferences": []
    }


def test_foreign_or_malformed_preferences_are_refused(server: LiveServer, account: Account) -> None:
    for prefs in ([{"$type": "com.example.pref", "x": 1}], [{"enabled": True}], "nope"):
        response = server.http.post(
            NS + "putPreferences", headers=account.auth, json={"preferences": prefs}
        )
        assert_xrpc_error(response, 400, "InvalidRequest")


def test_an_app_password_session_neither_sees_nor_sets_personal_details(
    server: LiveServer, account: Account
) -> None:
    server.http.post(NS + "putPreferences", headers=account.auth,
                     json={"preferences": [ADULT, BIRTH]})  # fmt: skip
    app_auth = app_password_auth(server, account, "prefs")

    assert server.http.get(NS + "getPreferences", headers=app_auth).json()["preferences"] == [ADULT]
    refused = server.http.post(NS + "putPreferences", headers=app_auth,
                               json={"preferences": [BIRTH]})  # fmt: skip
    assert_xrpc_error(refused, 400, "InvalidRequest")
    kept = server.http.post(NS + "putPreferences", headers=app_auth, json={"preferences": []})
    assert kept.status_code == 200
    assert server.http.get(NS + "getPreferences", headers=account.auth).json()["preferences"] == [
        BIRTH
    ]


def test_preferences_need_a_session(server: LiveServer) -> None:
    assert_xrpc_error(server.http.get(NS + "getPreferences"), 401, "AuthenticationRequired")
