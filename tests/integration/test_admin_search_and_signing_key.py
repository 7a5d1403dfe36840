"""`admin.searchAccounts` and `admin.updateAccountSigningKey` over a real socket, behind HTTP
Basic `admin:<QUIRE_ADMIN_PASSWORD>` (every response checked against its lexicon)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from application.audit.auditor import audit_log
from domain.crypto.k256 import K256Keypair
from tests.integration.conftest import (
    ADMIN_PASSWORD,
    PASSWORD,
    LiveServer,
    assert_xrpc_error,
    bearer,
    live_server,
)
from tests.integration.live_server import free_port, serve
from tests.integration.test_did_web_account import DidWebHost

ADMIN = "/xrpc/com.atproto.admin."
SERVER = "/xrpc/com.atproto.server."


def _account(live: LiveServer, name: str, email: str | None = None) -> dict[str, Any]:
    body = {"handle": f"{name}.test", "password": PASSWORD}
    if email is not None:
        body["email"] = email
    response = live.http.post(SERVER + "createAccount", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def _search(http: httpx.Client, **params: Any) -> dict[str, Any]:
    response = http.get(ADMIN + "searchAccounts", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _reserve(live: LiveServer, owner: dict[str, Any]) -> str:
    reserved = live.http.post(
        SERVER + "reserveSigningKey", json={}, headers=bearer(owner["accessJwt"])
    )
    assert reserved.status_code == 200, reserved.text
    key: str = reserved.json()["signingKey"]
    return key


# searchAccounts


def test_accounts_are_found_by_email_prefix_in_any_case_page_by_page(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    live, http = admin
    found = {_account(live, f"finder{n}", f"Finder{n}@search.example")["did"]: n for n in range(3)}
    _account(live, "elsewhere", "elsewhere@search.example")

    first = _search(http, email="FINDER", limit=2)
    second = _search(http, email="finder", limit=2, cursor=first["cursor"])

    assert len(first["accounts"]) == 2 and "cursor" not in second
    accounts = first["accounts"] + second["accounts"]
    assert [a["did"] for a in accounts] == sorted(found)
    for account in accounts:
        n = found[account["did"]]
        assert (account["handle"], account["email"]) == (
            f"finder{n}.test",
            f"finder{n}@search.example",
        )
        assert account["indexedAt"].endswith("Z") and account["invitesDisabled"] is False


def test_without_an_email_every_live_account_is_paged_through_once(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    live, http = admin
    kept = _account(live, "pagedkept")["did"]  # no email: still listed
    gone = _account(live, "pagedgone", "pagedgone@search.example")["did"]
    assert http.post(ADMIN + "deleteAccount", json={"did": gone}).status_code == 200

    dids: list[str] = []
    cursor: str | None = None
    while True:
        page = _search(http, limit=3, **({"cursor": cursor} if cursor else {}))
        dids += [account["did"] for account in page["accounts"]]
        cursor = page.get("cursor")
        if cursor is None:
            break

    live_rows = [row.did for row in live.services.views.list_accounts() if row.status != "deleted"]
    assert dids == sorted(live_rows) and kept in dids and gone not in dids


def test_wildcards_in_the_prefix_match_only_themselves(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    live, http = admin
    literal = _account(live, "wildlit", "wild_card@search.example")["did"]
    _account(live, "wildother", "wildxcard@search.example")
    assert [a["did"] for a in _search(http, email="wild_")["accounts"]] == [literal]
    assert _search(http, email="wild%")["accounts"] == []


def test_search_limits_outside_1_to_100_are_refused(admin: tuple[LiveServer, httpx.Client]) -> None:
    _, http = admin
    for limit in ("0", "101", "many"):
        response = http.get(ADMIN + "searchAccounts", params={"limit": limit})
        assert_xrpc_error(response, 400, "InvalidRequest")


def test_the_new_methods_need_the_admin_password(admin: tuple[LiveServer, httpx.Client]) -> None:
    live, _ = admin
    owner = _account(live, "notadmin", "notadmin@search.example")
    key = _reserve(live, owner)
    change = {"did": owner["did"], "signingKey": key}
    for auth, headers in ((None, {}), (("admin", "wrong"), {}), (None, bearer(owner["accessJwt"]))):
        search = httpx.get(f"{live.url}{ADMIN}searchAccounts", auth=auth, headers=headers)
        assert_xrpc_error(search, 401, "AuthenticationRequired")
        url = f"{live.url}{ADMIN}updateAccountSigningKey"
        response = httpx.post(url, auth=auth, headers=headers, json=change)
        assert_xrpc_error(response, 401, "AuthenticationRequired")
    assert live.services.views.get_account(owner["did"]).signing_key != key  # type: ignore[union-attr]


# updateAccountSigningKey


def test_a_reserved_key_becomes_the_repos_key_in_the_plc_document_and_the_log(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    live, http = admin
    owner = _account(live, "rekeyed", "rekeyed@search.example")
    key = _reserve(live, owner)
    head = live.head(owner["did"])

    response = http.post(
        ADMIN + "updateAccountSigningKey", json={"did": owner["did"], "signingKey": key}
    )

    assert response.status_code == 200, response.text
    assert live.services.views.get_account(owner["did"]).signing_key == key  # type: ignore[union-attr]
    data = httpx.get(f"{live.url}/plc/{owner['did']}/data").json()
    assert data["verificationMethods"]["atproto"] == key
    assert live.head(owner["did"]) != head  # re-signed with the new key
    status = live.http.get(SERVER + "checkAccountStatus", headers=bearer(owner["accessJwt"]))
    assert status.json()["validDid"] is True
    post = live.http.post(
        "/xrpc/com.atproto.repo.createRecord",
        headers=bearer(owner["accessJwt"]),
        json={"repo": owner["did"], "collection": "com.example.note", "record": {"text": "hi"}},
    )
    assert post.status_code == 200, post.text
    assert not audit_log(live.services.host).failures

    with live.seq_unchanged():  # the current key again: nothing to do
        again = http.post(
            ADMIN + "updateAccountSigningKey", json={"did": owner["did"], "signingKey": key}
        )
        assert again.status_code == 200, again.text


def test_a_key_this_server_does_not_hold_for_the_account_is_refused(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    live, http = admin
    owner = _account(live, "unheld", "unheld@search.example")
    other = _account(live, "otherheld", "otherheld@search.example")
    for key in (K256Keypair.generate().did(), _reserve(live, other)):
        with live.seq_unchanged():
            response = http.post(
                ADMIN + "updateAccountSigningKey", json={"did": owner["did"], "signingKey": key}
            )
            body = assert_xrpc_error(response, 400, "InvalidRequest")
        assert "reserveSigningKey" in body["message"]
    row = live.services.views.get_account(owner["did"])
    data = httpx.get(f"{live.url}/plc/{owner['did']}/data").json()
    assert row is not None and data["verificationMethods"]["atproto"] == row.signing_key


def test_a_deactivated_account_must_be_activated_first(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    live, http = admin
    owner = _account(live, "resting", "resting@search.example")
    key = _reserve(live, owner)
    subject = {"$type": "com.atproto.admin.defs#repoRef", "did": owner["did"]}
    off = http.post(
        ADMIN + "updateSubjectStatus", json={"subject": subject, "deactivated": {"applied": True}}
    )
    assert off.status_code == 200, off.text
    with live.seq_unchanged():
        response = http.post(
            ADMIN + "updateAccountSigningKey", json={"did": owner["did"], "signingKey": key}
        )
        body = assert_xrpc_error(response, 400, "InvalidRequest")
    assert "deactivated" in body["message"]


def test_unknown_accounts_and_malformed_inputs_are_refused(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    _, http = admin
    key, unknown = K256Keypair.generate().did(), "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
    response = http.post(
        ADMIN + "updateAccountSigningKey", json={"did": unknown, "signingKey": key}
    )
    assert_xrpc_error(response, 400, "AccountNotFound")
    for body in (
        {"did": unknown},
        {"did": "nope", "signingKey": key},
        {"did": unknown, "signingKey": "not a did"},
    ):
        response = http.post(ADMIN + "updateAccountSigningKey", json=body)
        assert_xrpc_error(response, 400, "InvalidRequest")


@pytest.fixture
def web_host() -> Iterator[DidWebHost]:
    port = free_port()
    host = DidWebHost(port)
    with serve(host.app(), port):
        yield host


def test_a_did_web_account_switches_only_the_logs_key(tmp_path: Path, web_host: DidWebHost) -> None:
    with (
        live_server(tmp_path, admin_password=ADMIN_PASSWORD, allow_private_identity=True) as live,
        httpx.Client(base_url=live.url, auth=("admin", ADMIN_PASSWORD)) as http,
    ):
        endpoint = f"http://localhost:{live.url.rsplit(':', 1)[1]}"  # the public URL
        first = live.http.post(SERVER + "reserveSigningKey", json={"did": web_host.did})
        web_host.publish(first.json()["signingKey"], endpoint, "webrekey.test")
        created = live.http.post(
            SERVER + "createAccount",
            json={"handle": "webrekey.test", "password": PASSWORD, "did": web_host.did},
        )
        assert created.status_code == 200, created.text
        key = _reserve(live, created.json())
        web_host.publish(key, endpoint, "webrekey.test")  # the owner updates their document

        response = http.post(
            ADMIN + "updateAccountSigningKey", json={"did": web_host.did, "signingKey": key}
        )

        assert response.status_code == 200, response.text
        assert live.services.views.get_account(web_host.did).signing_key == key  # type: ignore[union-attr]
        post = live.http.post(
            "/xrpc/com.atproto.repo.createRecord",
            headers=bearer(created.json()["accessJwt"]),
            json={"repo": web_host.did, "collection": "com.example.note", "record": {"text": "hi"}},
        )
        assert post.status_code == 200, post.text
        assert not audit_log(live.services.host).failures
