"""The operator's XRPC methods (`pdsadmin`, moderation services) over a real socket, behind
HTTP Basic `admin:<QUIRE_ADMIN_PASSWORD>`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from atproto import Client
from atproto_client.exceptions import UnauthorizedError

from tests.integration.conftest import ADMIN_PASSWORD, PASSWORD, LiveServer, assert_xrpc_error

ADMIN = "/xrpc/com.atproto.admin."
SERVER = "/xrpc/com.atproto.server."
REPO_REF = "com.atproto.admin.defs#repoRef"


def _account(http: httpx.Client, name: str) -> dict[str, Any]:
    body = {"handle": f"{name}.test", "password": PASSWORD, "email": f"{name}@example.com"}
    response = httpx.post(f"{http.base_url}{SERVER}createAccount", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def test_admin_methods_are_closed_without_a_configured_password(server: LiveServer) -> None:
    response = server.http.get(
        ADMIN + "getAccountInfo", params={"did": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"},
        auth=("admin", "anything"),
    )  # fmt: skip
    assert_xrpc_error(response, 401, "AuthenticationRequired")


def test_wrong_or_missing_admin_credentials_are_refused(admin: tuple[str, httpx.Client]) -> None:
    url = admin[0].url
    for auth in (None, ("admin", "wrong"), ("root", ADMIN_PASSWORD)):
        response = httpx.post(f"{url}{SERVER}createInviteCode", json={"useCount": 1}, auth=auth)
        assert_xrpc_error(response, 401, "AuthenticationRequired")


def test_invite_codes_are_made_for_nobody_or_for_accounts(admin: tuple[str, httpx.Client]) -> None:
    _, http = admin
    one = http.post(SERVER + "createInviteCode", json={"useCount": 2})
    assert one.status_code == 200, one.text
    assert one.json()["code"].startswith("localhost-")
    owner = _account(http, "inviter")
    many = http.post(
        SERVER + "createInviteCodes",
        json={"codeCount": 2, "useCount": 1, "forAccounts": [owner["did"]]},
    )
    assert many.status_code == 200, many.text
    [entry] = many.json()["codes"]
    assert entry["account"] == owner["did"] and len(entry["codes"]) == 2
    info = http.get(ADMIN + "getAccountInfo", params={"did": owner["did"]}).json()
    assert sorted(c["code"] for c in info["invites"]) == sorted(entry["codes"])
    assert (info["handle"], info["email"]) == ("inviter.test", "inviter@example.com")
    assert info["indexedAt"].endswith("Z")


def test_a_takedown_is_applied_reported_and_lifted(admin: tuple[str, httpx.Client]) -> None:
    live, http = admin
    url = live.url
    account = _account(http, "moderated")
    subject = {"$type": REPO_REF, "did": account["did"]}

    applied = http.post(
        ADMIN + "updateSubjectStatus", json={"subject": subject, "takedown": {"applied": True}}
    )

    assert applied.status_code == 200, applied.text
    assert applied.json()["takedown"] == {"applied": True}
    status = http.get(ADMIN + "getSubjectStatus", params={"did": account["did"]}).json()
    assert (status["takedown"], status["deactivated"]) == ({"applied": True}, {"applied": False})
    with pytest.raises(UnauthorizedError):
        Client(base_url=f"{url}/xrpc").login("moderated.test", PASSWORD, fetch_bsky_profile=False)

    lifted = http.post(
        ADMIN + "updateSubjectStatus", json={"subject": subject, "takedown": {"applied": False}}
    )
    assert lifted.json()["takedown"] == {"applied": False}
    Client(base_url=f"{url}/xrpc").login("moderated.test", PASSWORD, fetch_bsky_profile=False)


def test_subjects_of_an_unknown_type_are_refused(admin: tuple[str, httpx.Client]) -> None:
    # Record and blob subjects are covered by test_admin_takedowns.py.
    _, http = admin
    ref = {"$type": "com.example.defs#listRef", "did": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"}
    response = http.post(
        ADMIN + "updateSubjectStatus", json={"subject": ref, "takedown": {"applied": True}}
    )
    assert_xrpc_error(response, 400, "InvalidRequest")


def test_password_email_and_deletion_by_the_operator(admin: tuple[str, httpx.Client]) -> None:
    live, http = admin
    url = live.url
    account = _account(http, "managed")
    did = account["did"]

    reset = http.post(ADMIN + "updateAccountPassword", json={"did": did, "password": "new-p-123"})
    assert reset.status_code == 200, reset.text
    client = Client(base_url=f"{url}/xrpc")
    client.login("managed.test", "new-p-123", fetch_bsky_profile=False)
    moved = http.post(
        ADMIN + "updateAccountEmail", json={"account": "managed.test", "email": "M@example.org"}
    )
    assert moved.status_code == 200, moved.text
    assert client.com.atproto.server.get_session().email == "m@example.org"

    assert http.post(ADMIN + "deleteAccount", json={"did": did}).status_code == 200

    gone = httpx.get(f"{url}/xrpc/com.atproto.sync.getLatestCommit", params={"did": did})
    assert_xrpc_error(gone, 404, "RepoNotFound")
    assert http.get(ADMIN + "getAccountInfos", params={"dids": did}).json() == {"infos": []}


def test_invite_codes_are_listed_newest_first_in_pages_and_disabled(
    admin: tuple[str, httpx.Client],
) -> None:
    _, http = admin
    made = [http.post(SERVER + "createInviteCode", json={"useCount": 1}).json()["code"]
            for _ in range(3)]  # fmt: skip
    first = http.get(ADMIN + "getInviteCodes", params={"limit": "2"}).json()
    assert len(first["codes"]) == 2 and "cursor" in first
    rest = http.get(ADMIN + "getInviteCodes", params={"limit": "500", "cursor": first["cursor"]})
    listed = [c["code"] for c in first["codes"] + rest.json()["codes"]]
    assert set(made) <= set(listed) and len(listed) == len(set(listed))

    assert http.post(ADMIN + "disableInviteCodes", json={"codes": [made[0]]}).status_code == 200

    everything = http.get(ADMIN + "getInviteCodes", params={"limit": "500"}).json()["codes"]
    disabled = {c["code"] for c in everything if c["disabled"]}
    assert made[0] in disabled and made[1] not in disabled
    bad = http.get(ADMIN + "getInviteCodes", params={"cursor": "no-separator"})
    assert_xrpc_error(bad, 400, "InvalidRequest")


def test_the_operator_changes_a_handle(admin: tuple[str, httpx.Client]) -> None:
    _, http = admin
    account = _account(http, "renamed")
    changed = http.post(
        ADMIN + "updateAccountHandle", json={"did": account["did"], "handle": "newname.test"}
    )
    assert changed.status_code == 200, changed.text
    info = http.get(ADMIN + "getAccountInfo", params={"did": account["did"]}).json()
    assert info["handle"] == "newname.test"
    # a hosted DID's document is read fresh, not from the resolver's cache
    identity = http.get(
        "/xrpc/com.atproto.identity.resolveIdentity", params={"identifier": account["did"]}
    ).json()
    assert (identity["handle"], identity["didDoc"]["alsoKnownAs"]) == (
        "newname.test", ["at://newname.test"]
    )  # fmt: skip
