"""Moderation takedowns of records and blobs over a real socket: `updateSubjectStatus` and
`getSubjectStatus` with strongRef and repoBlobRef subjects, and what the public reads then
hide, as the reference PDS hides them. Each change is one event in the log and no firehose
frame (ADR 0012)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest

from domain.data.cid import CID
from tests.integration.conftest import Account, LiveServer, assert_xrpc_error

ADMIN = "/xrpc/com.atproto.admin."
REPO = "/xrpc/com.atproto.repo."
SYNC = "/xrpc/com.atproto.sync."
STRONG_REF = "com.atproto.repo.strongRef"
BLOB_REF = "com.atproto.admin.defs#repoBlobRef"
NOTE = "com.example.note"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def moderated(admin: tuple[LiveServer, httpx.Client]) -> tuple[LiveServer, httpx.Client]:
    """The module's server with an admin password, and the moderator's client."""
    return admin


@contextmanager
def events_and_no_frame(live: LiveServer, events: int) -> Iterator[None]:
    """The block records exactly `events` events in the log and leaves the firehose alone."""
    recorder = live.services.host.recorder
    before = recorder.max_notification_id()
    with live.seq_unchanged():
        yield
    assert recorder.max_notification_id() == before + events


def one_event_and_no_frame(live: LiveServer) -> AbstractContextManager[None]:
    """The block records exactly one event in the log and leaves the firehose seq alone."""
    return events_and_no_frame(live, 1)


def nothing_recorded(live: LiveServer) -> AbstractContextManager[None]:
    """The block appends nothing to the log at all."""
    return events_and_no_frame(live, 0)


def _create(live: LiveServer, account: Account, rkey: str, record: dict[str, Any]) -> str:
    body = {"repo": account.did, "collection": record["$type"], "rkey": rkey, "record": record}
    response = live.http.post(REPO + "createRecord", json=body, headers=account.auth)
    assert response.status_code == 200, response.text
    cid: str = response.json()["cid"]
    return cid


def _note(text: str) -> dict[str, Any]:
    return {"$type": NOTE, "text": text}


def _strong_ref(account: Account, rkey: str, cid: str) -> dict[str, str]:
    return {"$type": STRONG_REF, "uri": f"at://{account.did}/{NOTE}/{rkey}", "cid": cid}


def _update(admin: httpx.Client, subject: dict[str, Any], **status: Any) -> httpx.Response:
    return admin.post(ADMIN + "updateSubjectStatus", json={"subject": subject, **status})


def _get_record(live: LiveServer, account: Account, rkey: str) -> httpx.Response:
    params = {"repo": account.did, "collection": NOTE, "rkey": rkey}
    return live.http.get(REPO + "getRecord", params=params)


def _listed(live: LiveServer, account: Account, **params: str) -> list[str]:
    response = live.http.get(
        REPO + "listRecords", params={"repo": account.did, "collection": NOTE, **params}
    )
    assert response.status_code == 200, response.text
    return [record["uri"].rsplit("/", 1)[1] for record in response.json()["records"]]


def test_a_taken_down_record_is_hidden_reported_and_restored(
    moderated: tuple[LiveServer, httpx.Client],
) -> None:
    live, admin = moderated
    account = live.create_account("records")
    cid = _create(live, account, "kept", _note("fine"))
    cid = _create(live, account, "bad", _note("not fine"))
    _create(live, account, "also", _note("fine too"))
    head = live.head(account.did)
    subject = _strong_ref(account, "bad", cid)

    with one_event_and_no_frame(live):
        applied = _update(admin, subject, takedown={"applied": True, "ref": "case-17"})

    assert applied.status_code == 200, applied.text
    assert applied.json() == {"subject": subject, "takedown": {"applied": True, "ref": "case-17"}}
    assert_xrpc_error(_get_record(live, account, "bad"), 400, "RecordNotFound")
    assert _listed(live, account) == ["kept", "also"]
    assert _listed(live, account, limit="2", reverse="true") == ["also", "kept"]
    status = admin.get(ADMIN + "getSubjectStatus", params={"uri": subject["uri"]})
    assert status.json() == {"subject": subject, "takedown": {"applied": True, "ref": "case-17"}}
    # The repository itself is untouched: same head, and sync.getRecord still proves it.
    assert live.head(account.did) == head
    proof = live.http.get(
        SYNC + "getRecord", params={"did": account.did, "collection": NOTE, "rkey": "bad"}
    )
    assert proof.status_code == 200 and CID.parse(cid).raw in proof.content

    with one_event_and_no_frame(live):
        lifted = _update(admin, subject, takedown={"applied": False})

    assert lifted.json()["takedown"] == {"applied": False}
    assert _get_record(live, account, "bad").json()["cid"] == cid
    assert _listed(live, account) == ["kept", "bad", "also"]
    status = admin.get(ADMIN + "getSubjectStatus", params={"uri": subject["uri"]})
    assert status.json()["takedown"] == {"applied": False}


def test_repeating_a_takedown_or_a_lift_records_nothing_more(
    moderated: tuple[LiveServer, httpx.Client],
) -> None:
    live, admin = moderated
    account = live.create_account("repeats")
    subject = _strong_ref(account, "once", _create(live, account, "once", _note("x")))
    with one_event_and_no_frame(live):
        first = _update(admin, subject, takedown={"applied": True})
    stamped = first.json()["takedown"]["ref"]  # no ref given: the time, as the reference does

    with nothing_recorded(live):
        again = _update(admin, subject, takedown={"applied": True})
        no_takedown = _update(admin, subject)
    assert again.json()["takedown"] == {"applied": True, "ref": stamped}
    assert no_takedown.json()["takedown"] == {"applied": True, "ref": stamped}

    with one_event_and_no_frame(live):
        _update(admin, subject, takedown={"applied": False})
    with nothing_recorded(live):
        _update(admin, subject, takedown={"applied": False})


def test_an_update_keeps_a_record_takedown_and_a_deletion_ends_it(
    moderated: tuple[LiveServer, httpx.Client],
) -> None:
    live, admin = moderated
    account = live.create_account("lifecycle")
    subject = _strong_ref(account, "self", _create(live, account, "self", _note("v1")))
    assert _update(admin, subject, takedown={"applied": True}).status_code == 200

    put = {"repo": account.did, "collection": NOTE, "rkey": "self", "record": _note("v2")}
    assert live.http.post(REPO + "putRecord", json=put, headers=account.auth).status_code == 200
    assert_xrpc_error(_get_record(live, account, "self"), 400, "RecordNotFound")

    gone = {"repo": account.did, "collection": NOTE, "rkey": "self"}
    assert live.http.post(REPO + "deleteRecord", json=gone, headers=account.auth).status_code == 200
    status = admin.get(ADMIN + "getSubjectStatus", params={"uri": subject["uri"]})
    assert_xrpc_error(status, 400, "NotFound")

    # A record written again at the path is a new record, not the one taken down.
    _create(live, account, "self", _note("v3"))
    assert _get_record(live, account, "self").json()["value"]["text"] == "v3"


def test_taking_down_a_record_that_does_not_exist_records_nothing(
    moderated: tuple[LiveServer, httpx.Client],
) -> None:
    live, admin = moderated
    account = live.create_account("absent")
    cid = _create(live, account, "real", _note("x"))
    subject = _strong_ref(account, "never", cid)

    with nothing_recorded(live):
        response = _update(admin, subject, takedown={"applied": True})

    assert response.status_code == 200, response.text  # as the reference's UPDATE of no row
    assert response.json()["takedown"] == {"applied": False}
    status = admin.get(ADMIN + "getSubjectStatus", params={"uri": subject["uri"]})
    assert_xrpc_error(status, 400, "NotFound")


def test_a_taken_down_blob_is_refused_by_get_blob_and_restored(
    moderated: tuple[LiveServer, httpx.Client],
) -> None:
    live, admin = moderated
    account = live.create_account("blobs")
    uploaded = live.http.post(
        REPO + "uploadBlob", content=PNG, headers={**account.auth, "content-type": "image/png"}
    )
    assert uploaded.status_code == 200, uploaded.text
    blob = uploaded.json()["blob"]
    cid = blob["ref"]["$link"]
    _create(live, account, "pic", {"$type": "com.example.attachment", "file": blob})
    params = {"did": account.did, "cid": cid}
    assert live.http.get(SYNC + "getBlob", params=params).content == PNG
    subject = {"$type": BLOB_REF, "did": account.did, "cid": cid}

    with one_event_and_no_frame(live):
        applied = _update(admin, subject, takedown={"applied": True, "ref": "case-9"})

    assert applied.json() == {"subject": subject, "takedown": {"applied": True, "ref": "case-9"}}
    refused = assert_xrpc_error(live.http.get(SYNC + "getBlob", params=params), 400, "BlobNotFound")
    assert refused["message"] == "Blob not found"  # told apart from a missing blob by nothing
    # listBlobs lists what the repository references, as the reference's does.
    listed = live.http.get(SYNC + "listBlobs", params={"did": account.did}).json()
    assert cid in listed["cids"]
    status = admin.get(ADMIN + "getSubjectStatus", params={"did": account.did, "blob": cid})
    assert status.json() == {"subject": subject, "takedown": {"applied": True, "ref": "case-9"}}

    with one_event_and_no_frame(live):
        lifted = _update(admin, subject, takedown={"applied": False})

    assert lifted.json()["takedown"] == {"applied": False}
    assert live.http.get(SYNC + "getBlob", params=params).content == PNG
    status = admin.get(ADMIN + "getSubjectStatus", params={"did": account.did, "blob": cid})
    assert status.json()["takedown"] == {"applied": False}


UNKNOWN_DID = "did:plc:zzzzzzzzzzzzzzzzzzzzzzzz"
SOME_CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"subject": {"$type": STRONG_REF, "uri": f"at://{UNKNOWN_DID}/{NOTE}", "cid": SOME_CID},
          "takedown": {"applied": True}}, "InvalidRequest"),
        ({"subject": {"$type": STRONG_REF, "uri": "https://example.com/x", "cid": SOME_CID},
          "takedown": {"applied": True}}, "InvalidRequest"),
        ({"subject": {"$type": STRONG_REF, "uri": f"at://{UNKNOWN_DID}/{NOTE}/k", "cid": "nope"},
          "takedown": {"applied": True}}, "InvalidRequest"),
        ({"subject": {"$type": BLOB_REF, "did": UNKNOWN_DID, "cid": "nope"},
          "takedown": {"applied": True}}, "InvalidRequest"),
        ({"subject": {"$type": BLOB_REF, "did": "alice.test", "cid": SOME_CID},
          "takedown": {"applied": True}}, "InvalidRequest"),
        ({"subject": {"$type": STRONG_REF, "uri": f"at://{UNKNOWN_DID}/{NOTE}/k", "cid": SOME_CID},
          "takedown": {"applied": "yes"}}, "InvalidRequest"),
        ({"subject": {"$type": BLOB_REF, "did": UNKNOWN_DID, "cid": SOME_CID},
          "takedown": {"applied": True}, "deactivated": {"applied": False}}, "InvalidRequest"),
        ({"subject": {"$type": STRONG_REF, "uri": f"at://{UNKNOWN_DID}/{NOTE}/k", "cid": SOME_CID},
          "takedown": {"applied": True}}, "NotFound"),
        ({"subject": {"$type": BLOB_REF, "did": UNKNOWN_DID, "cid": SOME_CID},
          "takedown": {"applied": True}}, "NotFound"),
    ],
    ids=["uri-without-rkey", "not-an-at-uri", "record-cid", "blob-cid", "blob-handle",
         "applied-not-boolean", "takedown-and-activate", "unknown-record-repo",
         "unknown-blob-repo"],
)  # fmt: skip
def test_bad_subjects_are_refused_and_record_nothing(
    moderated: tuple[LiveServer, httpx.Client], body: dict[str, Any], error: str
) -> None:
    live, admin = moderated
    with nothing_recorded(live):
        response = admin.post(ADMIN + "updateSubjectStatus", json=body)
    payload = assert_xrpc_error(response, 400, error)
    assert payload["message"]


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({}, "InvalidRequest", "No provided subject"),
        ({"blob": SOME_CID}, "InvalidRequest", "Must provide a did to request blob state"),
        ({"did": UNKNOWN_DID, "blob": "nope"}, "InvalidRequest", None),
        ({"uri": "at://not a uri"}, "InvalidRequest", None),
        ({"uri": f"at://{UNKNOWN_DID}/{NOTE}/k"}, "NotFound", "Repo not found"),
        ({"did": UNKNOWN_DID, "blob": SOME_CID}, "NotFound", "Repo not found"),
    ],
    ids=["nothing", "blob-without-did", "bad-blob-cid", "bad-uri", "unknown-repo",
         "unknown-blob-repo"],
)  # fmt: skip
def test_bad_status_queries_are_refused(
    moderated: tuple[LiveServer, httpx.Client],
    params: dict[str, str],
    error: str,
    message: str | None,
) -> None:
    _, admin = moderated
    payload = assert_xrpc_error(admin.get(ADMIN + "getSubjectStatus", params=params), 400, error)
    if message is not None:
        assert payload["message"] == message


def test_status_of_a_blob_no_record_references_is_not_found(
    moderated: tuple[LiveServer, httpx.Client],
) -> None:
    live, admin = moderated
    account = live.create_account("noblob")
    status = admin.get(ADMIN + "getSubjectStatus", params={"did": account.did, "blob": SOME_CID})
    assert assert_xrpc_error(status, 400, "NotFound")["message"] == "Subject not found"


def test_record_takedowns_need_the_admin_password(
    moderated: tuple[LiveServer, httpx.Client],
) -> None:
    live, _ = moderated
    account = live.create_account("unauthorized")
    subject = _strong_ref(account, "mine", _create(live, account, "mine", _note("x")))
    with nothing_recorded(live):
        response = live.http.post(
            ADMIN + "updateSubjectStatus",
            json={"subject": subject, "takedown": {"applied": True}},
            headers=account.auth,
        )
    assert_xrpc_error(response, 401, "AuthenticationRequired")
    assert _get_record(live, account, "mine").status_code == 200
