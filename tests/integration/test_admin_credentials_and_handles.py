"""The operator's `com.atproto.temp.revokeAccountCredentials` and `addReservedHandle` over a
real socket, behind HTTP Basic `admin:<QUIRE_ADMIN_PASSWORD>`: what each stops, what undoes
it, and what it leaves alone."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.integration.conftest import (
    ADMIN_PASSWORD,
    PASSWORD,
    LiveServer,
    app_password_session,
    assert_xrpc_error,
    bearer,
    live_server,
)

TEMP = "/xrpc/com.atproto.temp."
SERVER = "/xrpc/com.atproto.server."
IDENTITY = "/xrpc/com.atproto.identity."
AVAILABILITY = "com.atproto.temp.checkHandleAvailability"


def _login(live: LiveServer, identifier: str, password: str) -> httpx.Response:
    return live.http.post(
        SERVER + "createSession", json={"identifier": identifier, "password": password}
    )


def _available(live: LiveServer, handle: str) -> dict[str, object]:
    response = live.http.get(TEMP + "checkHandleAvailability", params={"handle": handle})
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()["result"]
    return result


# revokeAccountCredentials


def test_revoking_ends_password_app_password_and_refresh_logins(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    live, http = admin
    account = live.create_account("revoked")
    app = app_password_session(live.http, account.handle, account.auth, "phone")
    second_login = _login(live, account.handle, PASSWORD)
    assert second_login.status_code == 200

    with live.seq_unchanged():  # credentials are not in the log
        revoked = http.post(TEMP + "revokeAccountCredentials", json={"account": account.handle})
    assert revoked.status_code == 200, revoked.text

    assert_xrpc_error(_login(live, account.handle, PASSWORD), 401, "AuthenticationRequired")
    for refresh in (account.refresh_jwt, app["refreshJwt"], second_login.json()["refreshJwt"]):
        response = live.http.post(SERVER + "refreshSession", headers=bearer(refresh))
        assert_xrpc_error(response, 400, "ExpiredToken")
    listed = live.http.get(SERVER + "listAppPasswords", headers=account.auth)
    assert listed.status_code == 200 and listed.json()["passwords"] == []


def test_a_still_valid_access_token_runs_out_but_cannot_outlive_the_revocation(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    live, http = admin
    account = live.create_account("leftover")
    revoked = http.post(TEMP + "revokeAccountCredentials", json={"account": account.did})
    assert revoked.status_code == 200, revoked.text

    # Access JWTs are checked without a store lookup: one issued before works until it expires.
    session = live.http.get(SERVER + "getSession", headers=account.auth)
    assert session.status_code == 200 and session.json()["did"] == account.did
    # ...but it cannot mint a login that would outlive it, nor redirect the reset email.
    minted = live.http.post(SERVER + "createAppPassword", headers=account.auth,
                            json={"name": "backdoor"})  # fmt: skip
    assert "reset the password" in assert_xrpc_error(minted, 400, "InvalidRequest")["message"]
    moved = live.http.post(SERVER + "updateEmail", headers=account.auth,
                           json={"email": "attacker@example.com"})  # fmt: skip
    assert_xrpc_error(moved, 400, "InvalidRequest")
    assert live.services.views.get_account(account.did).email == f"{account.handle}@example.com"  # type: ignore[union-attr]


def test_a_password_reset_restores_access(
    admin: tuple[LiveServer, httpx.Client], operator_tokens: dict[tuple[str, str], str]
) -> None:
    live, http = admin
    account = live.create_account("restored")
    assert (
        http.post(TEMP + "revokeAccountCredentials", json={"account": account.did}).status_code
        == 200
    )

    asked = live.http.post(
        SERVER + "requestPasswordReset", json={"email": f"{account.handle}@example.com"}
    )
    assert asked.status_code == 200, asked.text
    token = operator_tokens[("reset_password", account.did)]
    reset = live.http.post(
        SERVER + "resetPassword", json={"token": token, "password": "fresh-pass-1"}
    )
    assert reset.status_code == 200, reset.text

    assert_xrpc_error(_login(live, account.handle, PASSWORD), 401, "AuthenticationRequired")
    login = _login(live, account.handle, "fresh-pass-1")
    assert login.status_code == 200, login.text
    fresh = bearer(login.json()["accessJwt"])
    made = live.http.post(SERVER + "createAppPassword", headers=fresh, json={"name": "again"})
    assert made.status_code == 200, made.text


def test_revoking_one_account_leaves_others_alone(admin: tuple[LiveServer, httpx.Client]) -> None:
    live, http = admin
    target, bystander = live.create_account("target"), live.create_account("bystander")
    assert (
        http.post(TEMP + "revokeAccountCredentials", json={"account": target.did}).status_code
        == 200
    )
    assert _login(live, bystander.handle, PASSWORD).status_code == 200
    refreshed = live.http.post(SERVER + "refreshSession", headers=bearer(bystander.refresh_jwt))
    assert refreshed.status_code == 200, refreshed.text


def test_revoking_an_unknown_or_malformed_account_is_refused(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    _, http = admin
    for account, error in (
        ("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "AccountNotFound"),
        ("nobody-here.test", "AccountNotFound"),
        ("not an identifier", "InvalidRequest"),
    ):
        response = http.post(TEMP + "revokeAccountCredentials", json={"account": account})
        assert_xrpc_error(response, 400, error)


def test_both_methods_need_the_admin_password(admin: tuple[LiveServer, httpx.Client]) -> None:
    live, _ = admin
    account = live.create_account("guarded")
    for method, body in (
        ("revokeAccountCredentials", {"account": account.did}),
        ("addReservedHandle", {"handle": "guarded-name.test"}),
    ):
        for auth, headers in ((None, {}), (("admin", "wrong"), {}), (None, account.auth)):
            response = httpx.post(
                f"{live.url}{TEMP}{method}", json=body, auth=auth, headers=headers
            )
            assert_xrpc_error(response, 401, "AuthenticationRequired")
    assert _login(live, account.handle, PASSWORD).status_code == 200
    assert _available(live, "guarded-name.test")["$type"] == f"{AVAILABILITY}#resultAvailable"


# addReservedHandle


def test_a_reserved_handle_is_unavailable_to_sign_ups(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    live, http = admin
    for handle in ("Kept.test", "kept.test", "kept1.test"):  # again, in any case: no error
        reserved = http.post(TEMP + "addReservedHandle", json={"handle": handle})
        assert (reserved.status_code, reserved.json()) == (200, {})

    result = _available(live, "kept.test")
    assert result["$type"] == f"{AVAILABILITY}#resultUnavailable"
    suggested = [s["handle"] for s in result["suggestions"]]  # type: ignore[attr-defined]
    assert suggested and "kept1.test" not in suggested
    with live.seq_unchanged():
        created = live.http.post(
            SERVER + "createAccount",
            json={"handle": "KEPT.test", "password": PASSWORD, "email": "kept@example.com"},
        )
        assert_xrpc_error(created, 400, "HandleNotAvailable")


def test_a_reserved_handle_is_refused_to_updates_but_the_operator_gives_it_out(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    live, http = admin
    owner, chosen = live.create_account("wanting"), live.create_account("chosen")
    assert http.post(TEMP + "addReservedHandle", json={"handle": "vip.test"}).status_code == 200

    with live.seq_unchanged():
        update = live.http.post(
            IDENTITY + "updateHandle", headers=owner.auth, json={"handle": "vip.test"}
        )
        assert_xrpc_error(update, 400, "HandleNotAvailable")

    given = http.post("/xrpc/com.atproto.admin.updateAccountHandle",
                      json={"did": chosen.did, "handle": "vip.test"})  # fmt: skip
    assert given.status_code == 200, given.text
    assert live.services.views.get_account(chosen.did).handle == "vip.test"  # type: ignore[union-attr]
    # the holder may re-announce it; it stays out of everyone else's reach
    again = live.http.post(
        IDENTITY + "updateHandle", headers=chosen.auth, json={"handle": "vip.test"}
    )
    assert again.status_code == 200, again.text


def test_malformed_handles_are_refused(admin: tuple[LiveServer, httpx.Client]) -> None:
    _, http = admin
    for body in ({"handle": "not a handle"}, {"handle": "nodots"}, {"handle": 7}, {}):
        assert_xrpc_error(http.post(TEMP + "addReservedHandle", json=body), 400, "InvalidRequest")


def test_reservations_survive_a_restart(tmp_path: Path) -> None:
    with (
        live_server(tmp_path, admin_password=ADMIN_PASSWORD) as live,
        httpx.Client(base_url=live.url, auth=("admin", ADMIN_PASSWORD)) as http,
    ):
        assert (
            http.post(TEMP + "addReservedHandle", json={"handle": "lasting.test"}).status_code
            == 200
        )
    with live_server(tmp_path) as live:
        assert _available(live, "lasting.test")["$type"] == f"{AVAILABILITY}#resultUnavailable"
