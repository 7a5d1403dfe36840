"""The operator's moderation methods beside account administration (`admin.sendEmail`,
`admin.disable/enableAccountInvites`) over a real socket, behind HTTP Basic
`admin:<QUIRE_ADMIN_PASSWORD>`; and the invites switch in the store on SQLite and Postgres."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import PASSWORD, LiveServer, assert_xrpc_error

ADMIN = "/xrpc/com.atproto.admin."
UNKNOWN = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
REPO_REF = "com.atproto.admin.defs#repoRef"
MODERATOR = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"


@pytest.fixture
def operator_log() -> Iterator[list[str]]:
    """Messages the server wrote to the operator's log (`quire.operator`) during the test."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("quire.operator")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def _account(live: LiveServer, name: str, *, email: bool = True) -> dict[str, Any]:
    body = {"handle": f"{name}.test", "password": PASSWORD}
    if email:
        body["email"] = f"{name}@example.com"
    response = live.http.post("/xrpc/com.atproto.server.createAccount", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def _email(
    recipient: str, content: str = "Your post was labelled.", **extra: str
) -> dict[str, str]:
    return {"recipientDid": recipient, "content": content, "senderDid": MODERATOR, **extra}


def _info(http: httpx.Client, did: str) -> dict[str, Any]:
    response = http.get(ADMIN + "getAccountInfo", params={"did": did})
    assert response.status_code == 200, response.text
    info: dict[str, Any] = response.json()
    return info


def test_the_methods_are_closed_without_a_configured_password(server: LiveServer) -> None:
    for method, body in (
        ("sendEmail", _email(UNKNOWN)),
        ("disableAccountInvites", {"account": UNKNOWN}),
        ("enableAccountInvites", {"account": UNKNOWN}),
    ):
        response = server.http.post(ADMIN + method, json=body, auth=("admin", "anything"))
        assert_xrpc_error(response, 401, "AuthenticationRequired")


def test_wrong_missing_or_account_credentials_are_refused(
    admin: tuple[LiveServer, httpx.Client], operator_log: list[str]
) -> None:
    live, _ = admin
    owner = _account(live, "refused")
    session = {"authorization": f"Bearer {owner['accessJwt']}"}
    for method, body in (
        ("sendEmail", _email(owner["did"])),
        ("disableAccountInvites", {"account": owner["did"]}),
        ("enableAccountInvites", {"account": owner["did"]}),
    ):
        for auth, headers in ((None, {}), (("admin", "wrong"), {}), (None, session)):
            response = httpx.post(f"{live.url}{ADMIN}{method}", json=body, auth=auth,
                                  headers=headers)  # fmt: skip
            assert_xrpc_error(response, 401, "AuthenticationRequired")
    assert operator_log == []
    assert _info(admin[1], owner["did"])["invitesDisabled"] is False


def test_an_email_goes_to_the_account_address_through_the_operator_log(
    admin: tuple[LiveServer, httpx.Client], operator_log: list[str]
) -> None:
    live, http = admin
    owner = _account(live, "mailed")

    response = http.post(
        ADMIN + "sendEmail",
        json=_email(owner["did"], "Line one\nLine two", subject="About your post", comment="c"),
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"sent": True}
    [message] = operator_log
    assert "mailed@example.com" in message and "'About your post'" in message
    assert message.endswith("Line one\nLine two")


def test_an_email_without_a_subject_gets_the_reference_default(
    admin: tuple[LiveServer, httpx.Client], operator_log: list[str]
) -> None:
    live, http = admin
    owner = _account(live, "defaulted")
    assert http.post(ADMIN + "sendEmail", json=_email(owner["did"])).json() == {"sent": True}
    [message] = operator_log
    assert "defaulted@example.com" in message and "'Message via your PDS'" in message


def test_a_taken_down_account_can_still_be_written_to(
    admin: tuple[LiveServer, httpx.Client], operator_log: list[str]
) -> None:
    live, http = admin
    owner = _account(live, "takendown")
    subject = {"$type": REPO_REF, "did": owner["did"]}
    taken = http.post(
        ADMIN + "updateSubjectStatus", json={"subject": subject, "takedown": {"applied": True}}
    )
    assert taken.status_code == 200, taken.text

    response = http.post(ADMIN + "sendEmail", json=_email(owner["did"], "You were taken down."))

    assert response.json() == {"sent": True}
    assert any("takendown@example.com" in message for message in operator_log)


def test_unknown_deleted_or_addressless_recipients_are_refused(
    admin: tuple[LiveServer, httpx.Client], operator_log: list[str]
) -> None:
    live, http = admin
    no_address = _account(live, "addressless", email=False)
    deleted = _account(live, "deletedmail")
    assert http.post(ADMIN + "deleteAccount", json={"did": deleted["did"]}).status_code == 200

    for did, message in (
        (UNKNOWN, "Recipient not found"),
        (deleted["did"], "Recipient not found"),
        (no_address["did"], "account does not have an email address"),
    ):
        body = assert_xrpc_error(http.post(ADMIN + "sendEmail", json=_email(did)), 400,
                                 "InvalidRequest")  # fmt: skip
        assert body["message"] == message
    assert operator_log == []


def test_malformed_email_requests_are_refused(
    admin: tuple[LiveServer, httpx.Client], operator_log: list[str]
) -> None:
    live, http = admin
    owner = _account(live, "malformed")
    for body in (
        {"recipientDid": owner["did"], "content": "no sender"},
        {"recipientDid": "mailformed.test", "content": "x", "senderDid": MODERATOR},
        {"recipientDid": owner["did"], "content": 7, "senderDid": MODERATOR},
        {**_email(owner["did"]), "subject": ["not", "a", "string"]},
    ):
        assert_xrpc_error(http.post(ADMIN + "sendEmail", json=body), 400, "InvalidRequest")
    assert operator_log == []


def test_account_invites_are_disabled_and_enabled_again(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    live, http = admin
    owner = _account(live, "inviting")
    made = http.post(
        "/xrpc/com.atproto.server.createInviteCodes",
        json={"codeCount": 1, "useCount": 1, "forAccounts": [owner["did"]]},
    )
    assert made.status_code == 200, made.text
    assert _info(http, owner["did"])["invitesDisabled"] is False

    for _ in range(2):  # disabling twice is not an error
        disabled = http.post(ADMIN + "disableAccountInvites",
                             json={"account": owner["did"], "note": "spam"})  # fmt: skip
        assert disabled.status_code == 200, disabled.text

    info = _info(http, owner["did"])
    assert info["invitesDisabled"] is True
    assert [code["disabled"] for code in info["invites"]] == [False]  # existing codes stay
    infos = http.get(ADMIN + "getAccountInfos", params={"dids": owner["did"]}).json()["infos"]
    assert infos[0]["invitesDisabled"] is True

    enabled = http.post(ADMIN + "enableAccountInvites", json={"account": owner["did"]})
    assert enabled.status_code == 200, enabled.text
    assert _info(http, owner["did"])["invitesDisabled"] is False


def test_the_switch_is_per_account(admin: tuple[LiveServer, httpx.Client]) -> None:
    live, http = admin
    one, other = _account(live, "switchone"), _account(live, "switchother")
    disabled = http.post(ADMIN + "disableAccountInvites", json={"account": one["did"]})
    assert disabled.status_code == 200, disabled.text
    assert _info(http, one["did"])["invitesDisabled"] is True
    assert _info(http, other["did"])["invitesDisabled"] is False


def test_an_unknown_account_is_accepted_as_the_reference_does(
    admin: tuple[LiveServer, httpx.Client],
) -> None:
    _, http = admin
    for method in ("disableAccountInvites", "enableAccountInvites"):
        assert http.post(ADMIN + method, json={"account": UNKNOWN}).status_code == 200


def test_malformed_invite_switches_are_refused(admin: tuple[LiveServer, httpx.Client]) -> None:
    _, http = admin
    for method in ("disableAccountInvites", "enableAccountInvites"):
        for body in ({}, {"account": "not-a-did"}, {"account": UNKNOWN, "note": 1}):
            assert_xrpc_error(http.post(ADMIN + method, json=body), 400, "InvalidRequest")
        not_json = http.post(
            ADMIN + method, content=b"{", headers={"content-type": "application/json"}
        )
        assert_xrpc_error(not_json, 400, "InvalidRequest")
