"""Takedown events project to the takedown views only, and fold in the order they happened."""

from __future__ import annotations

from application.projection import project
from application.repo_host.account_aggregate import Account
from application.view_batch import ViewBatch
from application.views import BlobTakedownRow, RecordTakedownRow, ViewChanges
from domain.data.cid import CID

DID = "did:plc:" + "t" * 24
POST = "app.bsky.feed.post"
RKEY = "3k2aaaaaaaaa2"
BLOB = CID.for_raw(b"an image")


def _account() -> Account:
    account = Account.register(DID, "mod.test", None, "did:key:zQ3shtest")
    account.collect_events()
    return account


def test_a_record_takedown_projects_to_its_view_and_to_no_frame_or_account_row() -> None:
    account = _account()
    account.change_record_takedown(POST, RKEY, "case-1")
    [event] = account.collect_events()

    changes = project(event)

    assert changes is not None
    assert changes.record_takedowns == [RecordTakedownRow(DID, POST, RKEY, "case-1")]
    assert changes.render_frame is None and changes.frame_kind is None
    assert changes.account is None and not changes.record_deletes


def test_a_blob_takedown_and_its_lift_project_to_the_blob_view() -> None:
    account = _account()
    account.change_blob_takedown(BLOB, "case-2")
    account.change_blob_takedown(BLOB, None)
    applied, lifted = (project(event) for event in account.collect_events())

    assert applied is not None and lifted is not None
    assert applied.blob_takedowns == [BlobTakedownRow(DID, BLOB, "case-2")]
    assert lifted.blob_takedowns == [BlobTakedownRow(DID, BLOB, None)]
    assert applied.render_frame is None and lifted.render_frame is None


def test_a_batch_keeps_the_last_takedown_change_of_each_subject() -> None:
    take = ViewChanges(record_takedowns=[RecordTakedownRow(DID, POST, RKEY, "case-3")])
    deleted = ViewChanges(record_takedowns=[RecordTakedownRow(DID, POST, RKEY, None)])

    ended = ViewBatch.of([take, deleted], [1, 2])
    taken_again = ViewBatch.of([deleted, take], [1, 2])

    assert ended.record_takedowns == {(DID, POST, RKEY): None}
    assert taken_again.record_takedowns == {(DID, POST, RKEY): "case-3"}
    assert not ended.seq_events and not taken_again.seq_events
