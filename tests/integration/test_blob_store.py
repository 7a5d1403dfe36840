"""The disk `BlobStore` and the `BlobIndex` contract (fake, SQLite, Postgres).

Postgres runs in a fresh schema per test. Outside CI an unreachable server skips those cases;
under `CI=true` it fails them, so a broken database can never pass as green.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, insert
from sqlalchemy.engine import Engine

from adapters.blob.disk_blob_store import DiskBlobStore
from adapters.storage.blob_tables import blob_metadata
from adapters.storage.schema import metadata as view_metadata
from adapters.storage.schema import record_blobs
from adapters.storage.sql_blob_index import SqlBlobIndex
from application.blobs import BlobNotFound, BlobService
from application.ports.blob_index import BlobIndex, BlobUpload, MissingBlob
from application.ports.blob_store import BlobTooLarge
from domain.data.cid import CID
from tests.fakes.blobs import InMemoryBlobIndex
from tests.integration.stores import pg_engine

ALICE = "did:plc:alice"
BOB = "did:plc:bob"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
T0 = "2024-01-01T00:00:00.000Z"
T1 = "2024-01-01T01:00:00.000Z"
T2 = "2024-01-01T02:00:00.000Z"


def temp_files(root: Path) -> list[Path]:
    return list((root / "tmp").iterdir())


# Disk store


@pytest.fixture
def disk(tmp_path: Path) -> DiskBlobStore:
    return DiskBlobStore(tmp_path / "blobs")


def test_a_blob_round_trips_under_its_raw_cid(disk: DiskBlobStore) -> None:
    info = disk.put_stream([PNG[:100], PNG[100:]], 10_000)
    assert info.cid == CID.for_raw(PNG) and info.size == len(PNG)
    chunks = disk.open(info.cid)
    assert chunks is not None and b"".join(chunks) == PNG
    assert disk.size(info.cid) == len(PNG) and disk.exists(info.cid)


def test_files_are_sharded_by_digest_and_named_by_cid(disk: DiskBlobStore) -> None:
    cid = disk.put_stream([PNG], 10_000).cid
    path = disk.root / cid.digest[:1].hex() / str(cid)
    assert path.read_bytes() == PNG
    assert temp_files(disk.root) == []


def test_an_empty_blob_is_a_blob(disk: DiskBlobStore) -> None:
    info = disk.put_stream([], 10)
    assert info.size == 0 and info.cid == CID.for_raw(b"")
    assert b"".join(disk.open(info.cid) or [b"missing"]) == b""


def test_a_blob_is_invisible_until_it_is_completely_written(disk: DiskBlobStore) -> None:
    cid = CID.for_raw(PNG)
    seen: list[bool] = []

    def chunks() -> Iterator[bytes]:
        yield PNG[:10]
        seen.append(disk.exists(cid) or disk.open(cid) is not None)
        yield PNG[10:]

    disk.put_stream(chunks(), 10_000)
    assert seen == [False] and disk.exists(cid)


def test_exceeding_the_limit_raises_and_leaves_no_file_behind(disk: DiskBlobStore) -> None:
    with pytest.raises(BlobTooLarge):
        disk.put_stream([b"a" * 600, b"b" * 600], 1000)
    assert temp_files(disk.root) == []
    assert [p for p in disk.root.rglob("*") if p.is_file()] == []


def test_a_stream_that_fails_midway_leaves_no_temp_file(disk: DiskBlobStore) -> None:
    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        disk.put_stream(broken(), 1000)
    assert temp_files(disk.root) == []


def test_concurrent_uploads_of_the_same_bytes_all_succeed_with_one_file(
    disk: DiskBlobStore,
) -> None:
    barrier = threading.Barrier(8)
    results: list[CID] = []
    errors: list[BaseException] = []

    def put() -> None:
        try:
            barrier.wait()
            results.append(
                disk.put_stream([PNG[i : i + 64] for i in range(0, len(PNG), 64)], 10_000).cid
            )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and set(results) == {CID.for_raw(PNG)}
    assert b"".join(disk.open(CID.for_raw(PNG)) or []) == PNG
    assert temp_files(disk.root) == []


def test_a_reader_that_opened_the_blob_finishes_even_if_it_is_deleted(
    disk: DiskBlobStore,
) -> None:
    big = os.urandom(300_000)
    cid = disk.put_stream([big], 1_000_000).cid
    chunks = disk.open(cid)
    assert chunks is not None
    first = next(chunks)
    assert disk.delete(cid)
    assert first + b"".join(chunks) == big
    assert disk.open(cid) is None and disk.size(cid) is None and not disk.exists(cid)


def test_delete_with_a_cutoff_keeps_bytes_written_since(disk: DiskBlobStore) -> None:
    cid = disk.put_stream([PNG], 10_000).cid
    assert not disk.delete(cid, modified_before=time.time() - 60)
    assert disk.exists(cid)
    path = disk.root / cid.digest[:1].hex() / str(cid)
    old = time.time() - 7200
    os.utime(path, (old, old))
    assert disk.delete(cid, modified_before=time.time() - 60)
    assert not disk.exists(cid)
    assert list(path.parent.iterdir()) == []


def test_deleting_an_absent_blob_reports_false(disk: DiskBlobStore) -> None:
    assert not disk.delete(CID.for_raw(b"nothing"))
    assert not disk.delete(CID.for_raw(b"nothing"), modified_before=time.time())


def test_cids_no_upload_can_have_are_never_found(disk: DiskBlobStore) -> None:
    dag_cbor = CID.for_dag_cbor(b"\xa0")
    assert disk.open(dag_cbor) is None and not disk.exists(dag_cbor)
    assert disk.size(dag_cbor) is None and not disk.delete(dag_cbor)


def test_stale_temp_files_from_a_crash_are_removed_on_start(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    DiskBlobStore(root)
    stale, fresh = root / "tmp" / ".upload-stale", root / "tmp" / ".upload-fresh"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    old = time.time() - 3 * 86400
    os.utime(stale, (old, old))
    DiskBlobStore(root)
    assert not stale.exists() and fresh.exists()


# SQL engines


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'blobs.sqlite'}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    with pg_engine() as engine:
        yield engine


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    value: Engine = request.getfixturevalue(f"{request.param}_engine")
    view_metadata.create_all(value, tables=[record_blobs])
    return value


# Index contract


@dataclass
class IndexUnderTest:
    """An index plus the hooks that stand in for commits writing the record_blobs view."""

    index: BlobIndex
    reference: Callable[[str, CID, str], None]
    unreference: Callable[[str, str], None]


def sql_index(engine: Engine) -> IndexUnderTest:
    def reference(did: str, cid: CID, path: str) -> None:
        with engine.begin() as conn:
            conn.execute(insert(record_blobs).values(did=did, cid=cid.raw, record_path=path))

    def unreference(did: str, path: str) -> None:
        with engine.begin() as conn:
            conn.execute(
                delete(record_blobs).where(
                    record_blobs.c.did == did, record_blobs.c.record_path == path
                )
            )

    return IndexUnderTest(SqlBlobIndex(engine), reference, unreference)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def under_test(request: pytest.FixtureRequest) -> IndexUnderTest:
    if request.param == "memory":
        fake = InMemoryBlobIndex()
        return IndexUnderTest(fake, fake.reference, fake.unreference)
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    view_metadata.create_all(engine, tables=[record_blobs])
    return sql_index(engine)


def cid_of(n: int) -> CID:
    return CID.for_raw(n.to_bytes(4, "big"))


def row(did: str, cid: CID, at: str = T0, mime: str = "image/png", size: int = 10) -> BlobUpload:
    return BlobUpload(did, cid, mime, size, at)


def test_an_upload_is_recorded_per_account(under_test: IndexUnderTest) -> None:
    index, cid = under_test.index, cid_of(1)
    assert index.record_upload(row(ALICE, cid)) == row(ALICE, cid)
    assert index.get(ALICE, cid) == row(ALICE, cid)
    assert index.get(BOB, cid) is None
    assert index.has_uploads(cid) and not index.has_uploads(cid_of(2))


def test_a_re_upload_refreshes_the_time_but_keeps_type_and_size(
    under_test: IndexUnderTest,
) -> None:
    index, cid = under_test.index, cid_of(1)
    index.record_upload(row(ALICE, cid, T0, "text/markdown", 7))
    stored = index.record_upload(row(ALICE, cid, T1, "text/plain", 7))
    assert stored == row(ALICE, cid, T1, "text/markdown", 7)
    assert index.get(ALICE, cid) == stored


def test_references_are_per_account(under_test: IndexUnderTest) -> None:
    cid = cid_of(1)
    under_test.reference(ALICE, cid, "app.bsky.feed.post/a")
    assert under_test.index.referenced(ALICE, cid)
    assert not under_test.index.referenced(BOB, cid)
    under_test.unreference(ALICE, "app.bsky.feed.post/a")
    assert not under_test.index.referenced(ALICE, cid)


def test_collection_candidates_are_old_unreferenced_uploads_oldest_first(
    under_test: IndexUnderTest,
) -> None:
    index = under_test.index
    index.record_upload(row(ALICE, cid_of(1), T1))
    index.record_upload(row(BOB, cid_of(2), T0))
    index.record_upload(row(ALICE, cid_of(3), T0))
    index.record_upload(row(ALICE, cid_of(4), T2))
    under_test.reference(ALICE, cid_of(3), "app.bsky.feed.post/a")
    under_test.reference(ALICE, cid_of(2), "app.bsky.feed.post/b")  # Alice's, not Bob's
    assert index.unreferenced_before(T2, 10) == [(BOB, cid_of(2)), (ALICE, cid_of(1))]
    assert index.unreferenced_before(T2, 1) == [(BOB, cid_of(2))]


def test_the_guarded_delete_spares_referenced_or_refreshed_uploads(
    under_test: IndexUnderTest,
) -> None:
    index = under_test.index
    index.record_upload(row(ALICE, cid_of(1), T0))
    index.record_upload(row(ALICE, cid_of(2), T0))
    index.record_upload(row(ALICE, cid_of(3), T0))
    under_test.reference(ALICE, cid_of(1), "app.bsky.feed.post/a")
    index.record_upload(row(ALICE, cid_of(2), T2))
    assert not index.delete_unreferenced(ALICE, cid_of(1), T1)
    assert not index.delete_unreferenced(ALICE, cid_of(2), T1)
    assert index.delete_unreferenced(ALICE, cid_of(3), T1)
    assert not index.delete_unreferenced(ALICE, cid_of(3), T1)
    assert index.get(ALICE, cid_of(3)) is None and index.get(ALICE, cid_of(1)) is not None


def test_delete_removes_one_accounts_upload(under_test: IndexUnderTest) -> None:
    index, cid = under_test.index, cid_of(1)
    index.record_upload(row(ALICE, cid))
    index.record_upload(row(BOB, cid))
    assert index.delete(ALICE, cid) and not index.delete(ALICE, cid)
    assert index.get(BOB, cid) is not None and index.has_uploads(cid)


def test_missing_lists_referenced_cids_the_account_never_uploaded(
    under_test: IndexUnderTest,
) -> None:
    index = under_test.index
    cids = sorted(cid_of(n) for n in range(4))
    under_test.reference(ALICE, cids[0], "app.bsky.feed.post/b")
    under_test.reference(ALICE, cids[0], "app.bsky.feed.post/a")
    under_test.reference(ALICE, cids[1], "app.bsky.feed.post/c")
    under_test.reference(ALICE, cids[2], "app.bsky.feed.post/d")
    under_test.reference(BOB, cids[3], "app.bsky.feed.post/e")
    index.record_upload(row(ALICE, cids[1]))
    index.record_upload(row(BOB, cids[2]))
    assert index.missing(ALICE, None, 10) == [
        MissingBlob(cids[0], "app.bsky.feed.post/a"),
        MissingBlob(cids[2], "app.bsky.feed.post/d"),
    ]
    assert index.missing(ALICE, cids[0], 10) == [MissingBlob(cids[2], "app.bsky.feed.post/d")]
    assert index.missing(ALICE, None, 1) == [MissingBlob(cids[0], "app.bsky.feed.post/a")]


# SQL specifics


def test_the_upload_table_lives_in_its_own_metadata_and_is_created_idempotently(
    engine: Engine,
) -> None:
    assert not set(blob_metadata.tables) & set(view_metadata.tables)
    SqlBlobIndex(engine).record_upload(row(ALICE, cid_of(1)))
    assert SqlBlobIndex(engine).get(ALICE, cid_of(1)) == row(ALICE, cid_of(1))


def test_sizes_beyond_32_bits_survive(engine: Engine) -> None:
    index = SqlBlobIndex(engine)
    index.record_upload(row(ALICE, cid_of(1), size=5 * 2**32))
    found = index.get(ALICE, cid_of(1))
    assert found is not None and found.size == 5 * 2**32


def test_blobs_end_to_end_on_disk_and_sql(engine: Engine, tmp_path: Path) -> None:
    under = sql_index(engine)
    disk = DiskBlobStore(tmp_path / "blobs")
    service = BlobService(disk, under.index, time.time)
    ref = service.upload(ALICE, [PNG[:7], PNG[7:]], "image/jpeg")
    assert ref["mimeType"] == "image/png"
    cid: CID = ref["ref"]
    with pytest.raises(BlobNotFound):
        service.get(ALICE, cid)
    under.reference(ALICE, cid, "app.bsky.feed.post/a")
    assert b"".join(service.get(ALICE, cid).chunks) == PNG
    assert service.collect_garbage(0) == 0
    under.unreference(ALICE, "app.bsky.feed.post/a")
    path = disk.root / cid.digest[:1].hex() / str(cid)
    old = time.time() - 7200
    os.utime(path, (old, old))
    time.sleep(0.002)  # created_at has millisecond resolution
    assert service.collect_garbage(0) == 1
    assert not disk.exists(cid) and under.index.get(ALICE, cid) is None
