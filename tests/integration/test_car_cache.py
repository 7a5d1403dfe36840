"""`DiskCarCache` on a real directory: write-through, atomic landing, what is kept."""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from adapters.storage.disk_car_cache import READ_CHUNK, DiskCarCache
from domain.data.cid import CID
from domain.data.tid import TidClock
from entrypoints.bootstrap import car_cache
from entrypoints.config import Settings

ALICE, BOB, CAROL, DAVE = (f"did:plc:{c * 24}" for c in "abcd")
CLOCK = TidClock(clock_id=7)


def _car(seed: int, size: int = 300_000) -> bytes:
    return (seed.to_bytes(4, "big") * (size // 4 + 1))[:size]


def _commit(data: bytes) -> CID:
    return CID.for_dag_cbor(data[:64])


def _chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _put(cache: DiskCarCache, did: str, data: bytes, rev: str | None = None) -> tuple[str, CID]:
    """Stream `data` through the cache to the end; (rev, commit) of the entry."""
    rev = rev or CLOCK.next()
    commit = _commit(data)
    assert b"".join(cache.write_through(did, rev, commit, _chunks(data))) == data
    return rev, commit


def _read(cache: DiskCarCache, did: str, rev: str, commit: CID) -> bytes | None:
    chunks = cache.read(did, rev, commit)
    return None if chunks is None else b"".join(chunks)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def cache(tmp_path: Path) -> DiskCarCache:
    return DiskCarCache(tmp_path / "car-cache", 10 * 1024 * 1024)


def test_a_streamed_export_is_read_back_byte_for_byte(cache: DiskCarCache) -> None:
    data = _car(1, 1_000_000)
    rev, commit = _put(cache, ALICE, data)

    chunks = list(cache.read(ALICE, rev, commit) or [])

    assert b"".join(chunks) == data
    assert max(len(chunk) for chunk in chunks) == READ_CHUNK
    assert cache.total_bytes == len(data)
    assert list((cache.root / "tmp").iterdir()) == []


def test_another_commit_is_a_miss(cache: DiskCarCache) -> None:
    rev, _ = _put(cache, ALICE, _car(1))
    assert cache.read(ALICE, rev, _commit(_car(2))) is None
    assert cache.read(BOB, CLOCK.next(), _commit(_car(1))) is None


def test_an_abandoned_stream_leaves_no_entry_and_no_temp_file(cache: DiskCarCache) -> None:
    data = _car(1)
    rev, commit = CLOCK.next(), _commit(data)
    stream = cache.write_through(ALICE, rev, commit, _chunks(data))
    assert isinstance(stream, Generator)
    next(stream)
    next(stream)
    stream.close()  # what the HTTP edge does when the client goes away

    assert cache.read(ALICE, rev, commit) is None
    assert _files(cache.root) == []
    assert cache.total_bytes == 0


def test_a_failing_export_leaves_no_entry(cache: DiskCarCache) -> None:
    def failing() -> Iterator[bytes]:
        yield b"x" * 1000
        raise LookupError("block missing")

    rev, commit = CLOCK.next(), _commit(b"failing")
    with pytest.raises(LookupError):
        b"".join(cache.write_through(ALICE, rev, commit, failing()))
    assert _files(cache.root) == []


def test_a_newer_commit_replaces_its_dids_older_entry(cache: DiskCarCache) -> None:
    old = _put(cache, ALICE, _car(1))
    other = _put(cache, BOB, _car(2))
    new = _put(cache, ALICE, _car(3))

    assert _read(cache, ALICE, *old) is None
    assert _read(cache, ALICE, *new) == _car(3)
    assert _read(cache, BOB, *other) == _car(2)
    assert len(_files(cache.root)) == 2
    assert cache.total_bytes == 2 * len(_car(1))


def test_an_older_export_finishing_late_is_dropped(cache: DiskCarCache) -> None:
    older_rev, newer_rev = CLOCK.next(), CLOCK.next()
    slow = cache.write_through(ALICE, older_rev, _commit(_car(1)), _chunks(_car(1)))
    next(slow)
    _put(cache, ALICE, _car(2), newer_rev)
    b"".join(slow)

    assert _read(cache, ALICE, older_rev, _commit(_car(1))) is None
    assert _read(cache, ALICE, newer_rev, _commit(_car(2))) == _car(2)
    assert len(_files(cache.root)) == 1


def test_the_size_bound_evicts_the_least_recently_used(tmp_path: Path) -> None:
    size = len(_car(1))
    cache = DiskCarCache(tmp_path, 3 * size)
    alice = _put(cache, ALICE, _car(1))
    bob = _put(cache, BOB, _car(2))
    carol = _put(cache, CAROL, _car(3))
    assert _read(cache, ALICE, *alice) == _car(1)  # alice is now the most recently used

    dave = _put(cache, DAVE, _car(4))

    assert _read(cache, BOB, *bob) is None
    assert [_read(cache, d, *k) is not None for d, k in ((ALICE, alice), (CAROL, carol))] == [
        True,
        True,
    ]
    assert _read(cache, DAVE, *dave) == _car(4)
    assert cache.total_bytes == 3 * size
    assert sum(p.stat().st_size for p in _files(tmp_path)) == 3 * size


def test_an_export_larger_than_the_budget_streams_but_is_not_kept(tmp_path: Path) -> None:
    cache = DiskCarCache(tmp_path, 100_000)
    rev, commit = _put(cache, ALICE, _car(1, 300_000))
    assert cache.read(ALICE, rev, commit) is None
    assert _files(tmp_path) == []


def test_a_zero_budget_keeps_nothing_and_the_server_wires_no_cache(tmp_path: Path) -> None:
    cache = DiskCarCache(tmp_path, 0)
    rev, commit = _put(cache, ALICE, _car(1))
    assert cache.read(ALICE, rev, commit) is None
    assert car_cache(Settings(data_dir=tmp_path / "data", car_cache_mb=0)) is None
    assert car_cache(Settings(data_dir=tmp_path / "data", car_cache_mb=1)) is not None


def test_a_read_in_progress_survives_eviction(cache: DiskCarCache) -> None:
    old = _put(cache, ALICE, _car(1))
    reading = cache.read(ALICE, *old)
    assert reading is not None
    first = next(reading)

    _put(cache, ALICE, _car(2))  # supersedes and deletes the file being read

    assert first + b"".join(reading) == _car(1)


def test_a_rev_that_is_not_a_tid_is_never_a_path(cache: DiskCarCache) -> None:
    commit = _commit(_car(1))
    _put(cache, ALICE, _car(1), rev="../../escape")
    assert cache.read(ALICE, "../../escape", commit) is None
    assert _files(cache.root) == []


def test_a_restart_indexes_the_entries_and_removes_stale_temp_files(tmp_path: Path) -> None:
    cache = DiskCarCache(tmp_path, 10 * 1024 * 1024)
    alice = _put(cache, ALICE, _car(1))
    bob = _put(cache, BOB, _car(2))
    stale = tmp_path / "tmp" / ".export-left-by-a-crash.car"
    stale.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    (alice_file,) = [p for p in _files(tmp_path) if p.name.startswith(alice[0])]
    os.utime(alice_file, (two_hours_ago, two_hours_ago))  # least recently used

    reopened = DiskCarCache(tmp_path, len(_car(1)))  # a smaller budget: the oldest goes

    assert not stale.exists()
    assert reopened.total_bytes == len(_car(1))
    assert _read(reopened, ALICE, *alice) is None
    assert _read(reopened, BOB, *bob) == _car(2)
