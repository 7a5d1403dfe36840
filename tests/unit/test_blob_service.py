"""Blob use cases against in-memory fakes: upload, serving rules, missing blobs, collection."""

from __future__ import annotations

import pytest

from application.blobs import BlobNotFound, BlobService
from application.ports.blob_store import BlobTooLarge
from domain.data.cid import CID
from domain.data.errors import InvalidCid
from tests.fakes.blobs import InMemoryBlobIndex, InMemoryBlobStore
from tests.fakes.credentials import FakeClock

ALICE = "did:plc:alice"
BOB = "did:plc:bob"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
POST = "app.bsky.feed.post/3kabc"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> InMemoryBlobStore:
    return InMemoryBlobStore(clock)


@pytest.fixture
def index() -> InMemoryBlobIndex:
    return InMemoryBlobIndex()


@pytest.fixture
def service(store: InMemoryBlobStore, index: InMemoryBlobIndex, clock: FakeClock) -> BlobService:
    return BlobService(store, index, clock)


def upload(service: BlobService, did: str, data: bytes, mime: str | None = "image/png") -> CID:
    ref = service.upload(did, [data[:5], data[5:]], mime)
    cid: CID = ref["ref"]
    return cid


def read(service: BlobService, did: str, cid: CID) -> bytes:
    return b"".join(service.get(did, cid).chunks)


# Upload


def test_upload_returns_a_blob_ref_with_the_raw_cid_size_and_type(service: BlobService) -> None:
    ref = service.upload(ALICE, [PNG[:3], PNG[3:]], "image/png")
    assert ref == {"$type": "blob", "ref": CID.for_raw(PNG), "mimeType": "image/png", "size": 72}


def test_upload_stores_the_sniffed_type_over_a_wrong_declared_one(
    service: BlobService, index: InMemoryBlobIndex
) -> None:
    ref = service.upload(ALICE, [PNG], "image/jpeg")
    assert ref["mimeType"] == "image/png"
    upload_row = index.get(ALICE, CID.for_raw(PNG))
    assert upload_row is not None and upload_row.mime_type == "image/png"


def test_upload_keeps_a_specific_declared_type_for_unrecognised_bytes(
    service: BlobService,
) -> None:
    assert service.upload(ALICE, [b"# notes"], "text/markdown")["mimeType"] == "text/markdown"


def test_upload_guesses_text_when_the_declared_type_says_nothing(service: BlobService) -> None:
    assert service.upload(ALICE, [b'{"a": 1}'], "*/*")["mimeType"] == "application/json"
    assert service.upload(ALICE, [b"hi"], "application/octet-stream")["mimeType"] == "text/plain"
    assert service.upload(ALICE, [b"\x00\x01"], None)["mimeType"] == "application/octet-stream"


def test_magic_spanning_several_small_chunks_is_still_sniffed(service: BlobService) -> None:
    chunks = [PNG[i : i + 1] for i in range(len(PNG))]
    assert service.upload(ALICE, chunks, None)["mimeType"] == "image/png"


def test_an_upload_over_the_limit_is_refused_and_recorded_nowhere(
    service: BlobService, store: InMemoryBlobStore, index: InMemoryBlobIndex
) -> None:
    with pytest.raises(BlobTooLarge) as raised:
        service.upload(ALICE, [b"x" * 6, b"x" * 6], "text/plain", max_size=10)
    assert raised.value.status == 413 and raised.value.error == "PayloadTooLarge"
    assert store.blobs == {} and index.uploads == {}


def test_an_upload_of_exactly_the_limit_is_accepted(service: BlobService) -> None:
    assert service.upload(ALICE, [b"x" * 10], "text/plain", max_size=10)["size"] == 10


def test_a_re_upload_keeps_the_first_type_and_restarts_the_grace_period(
    service: BlobService, index: InMemoryBlobIndex, clock: FakeClock
) -> None:
    first = service.upload(ALICE, [b"# notes"], "text/markdown")
    clock.advance(3000)
    again = service.upload(ALICE, [b"# notes"], "text/x-other")
    assert again["mimeType"] == first["mimeType"] == "text/markdown"
    clock.advance(1000)
    assert service.collect_garbage(3600) == 0
    assert index.get(ALICE, first["ref"]) is not None


# getBlob


def test_a_referenced_upload_is_served_with_its_type_and_size(
    service: BlobService, index: InMemoryBlobIndex
) -> None:
    cid = upload(service, ALICE, PNG)
    index.reference(ALICE, cid, POST)
    content = service.get(ALICE, cid)
    assert (content.mime_type, content.size) == ("image/png", len(PNG))
    assert b"".join(content.chunks) == PNG


def test_an_upload_no_record_references_yet_is_not_served(service: BlobService) -> None:
    cid = upload(service, ALICE, PNG)
    with pytest.raises(BlobNotFound):
        service.get(ALICE, cid)


def test_a_blob_is_served_only_under_the_account_that_uploaded_it(
    service: BlobService, index: InMemoryBlobIndex
) -> None:
    cid = upload(service, ALICE, PNG)
    index.reference(ALICE, cid, POST)
    index.reference(BOB, cid, POST)
    with pytest.raises(BlobNotFound) as raised:
        service.get(BOB, cid)
    assert raised.value.error == "BlobNotFound" and raised.value.status == 400


def test_an_unknown_cid_is_not_found(service: BlobService) -> None:
    with pytest.raises(BlobNotFound):
        service.get(ALICE, CID.for_raw(b"never uploaded"))


def test_an_indexed_blob_whose_bytes_are_gone_is_not_found(
    service: BlobService, store: InMemoryBlobStore, index: InMemoryBlobIndex
) -> None:
    cid = upload(service, ALICE, PNG)
    index.reference(ALICE, cid, POST)
    store.delete(cid)
    with pytest.raises(BlobNotFound):
        service.get(ALICE, cid)


# listMissingBlobs


def test_missing_blobs_are_referenced_ones_the_account_never_uploaded(
    service: BlobService, index: InMemoryBlobIndex
) -> None:
    uploaded = upload(service, ALICE, PNG)
    missing = CID.for_raw(b"lost in migration")
    index.reference(ALICE, uploaded, POST)
    index.reference(ALICE, missing, "app.bsky.feed.post/3kdef")
    upload(service, BOB, b"lost in migration")  # Bob's upload is not Alice's
    page = service.list_missing(ALICE, 10)
    assert page.blobs == [(str(missing), f"at://{ALICE}/app.bsky.feed.post/3kdef")]
    assert page.cursor is None


def test_missing_blobs_page_in_cid_order_with_a_cursor_while_pages_are_full(
    service: BlobService, index: InMemoryBlobIndex
) -> None:
    cids = sorted(CID.for_raw(bytes([n])) for n in range(5))
    for n, cid in enumerate(cids):
        index.reference(ALICE, cid, f"app.bsky.feed.post/{n}")
    first = service.list_missing(ALICE, 2)
    second = service.list_missing(ALICE, 2, first.cursor)
    third = service.list_missing(ALICE, 2, second.cursor)
    listed = [cid for page in (first, second, third) for cid, _ in page.blobs]
    assert listed == [str(cid) for cid in cids]
    assert first.cursor == str(cids[1]) and third.cursor is None


def test_a_malformed_cursor_is_a_data_model_error(service: BlobService) -> None:
    with pytest.raises(InvalidCid):
        service.list_missing(ALICE, 10, "not-a-cid")


# Garbage collection


def test_unreferenced_uploads_are_collected_after_the_grace_period(
    service: BlobService, store: InMemoryBlobStore, index: InMemoryBlobIndex, clock: FakeClock
) -> None:
    cid = upload(service, ALICE, PNG)
    clock.advance(3599)
    assert service.collect_garbage(3600) == 0
    clock.advance(2)
    assert service.collect_garbage(3600) == 1
    assert index.get(ALICE, cid) is None and not store.exists(cid)


def test_the_default_grace_period_is_an_hour(service: BlobService, clock: FakeClock) -> None:
    upload(service, ALICE, PNG)
    clock.advance(3500)
    assert service.collect_garbage() == 0
    clock.advance(200)
    assert service.collect_garbage() == 1


def test_a_referenced_blob_is_never_collected(
    service: BlobService, store: InMemoryBlobStore, index: InMemoryBlobIndex, clock: FakeClock
) -> None:
    cid = upload(service, ALICE, PNG)
    index.reference(ALICE, cid, POST)
    clock.advance(365 * 86400)
    assert service.collect_garbage(3600) == 0
    assert read(service, ALICE, cid) == PNG


def test_a_blob_is_collected_once_its_last_record_is_deleted(
    service: BlobService, store: InMemoryBlobStore, index: InMemoryBlobIndex, clock: FakeClock
) -> None:
    cid = upload(service, ALICE, PNG)
    index.reference(ALICE, cid, POST)
    clock.advance(7200)
    index.unreference(ALICE, POST)
    assert service.collect_garbage(3600) == 1
    assert not store.exists(cid)


def test_shared_bytes_stay_while_another_account_still_has_an_upload_of_them(
    service: BlobService, store: InMemoryBlobStore, index: InMemoryBlobIndex, clock: FakeClock
) -> None:
    cid = upload(service, ALICE, PNG)
    upload(service, BOB, PNG)
    index.reference(BOB, cid, POST)
    clock.advance(7200)
    assert service.collect_garbage(3600) == 1
    assert index.get(ALICE, cid) is None
    assert read(service, BOB, cid) == PNG


def test_bytes_re_stored_after_the_cutoff_are_kept_with_their_new_upload(
    store: InMemoryBlobStore, index: InMemoryBlobIndex, clock: FakeClock
) -> None:
    """A collector that lists Alice's old upload races Bob storing the same bytes anew."""
    service = BlobService(store, index, clock)
    cid = upload(service, ALICE, PNG)
    clock.advance(7200)
    store.put_stream([PNG], 1000)  # Bob's bytes land; his index row is not written yet
    assert service.collect_garbage(3600) == 1
    assert store.exists(cid)


def test_collection_works_through_more_than_one_batch(
    service: BlobService, store: InMemoryBlobStore, clock: FakeClock
) -> None:
    for n in range(1203):
        service.upload(ALICE, [n.to_bytes(2, "big")], None)
    clock.advance(7200)
    assert service.collect_garbage(3600) == 1203
    assert store.blobs == {}
