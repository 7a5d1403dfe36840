"""`RepoExporter` with a CAR cache: a full export is kept once streamed and then served from
the cache byte for byte; a new head is exported fresh; diffs and proofs never touch it."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from application.repo_export import RepoExporter
from application.views import RepoHeadRow
from domain.data import dag_cbor
from domain.data.cid import CID
from domain.data.tid import TidClock
from domain.repo.car import load_car
from domain.repo.errors import RepoNotFound
from domain.repo.mst import Mst
from tests.fakes.car_cache import InMemoryCarCache

DID = "did:plc:" + "e" * 24


class FakeRepo:
    """Views and blocks of one repo whose head can move."""

    def __init__(self) -> None:
        self.blocks: dict[CID, bytes] = {}
        self.head: RepoHeadRow | None = None
        self.block_reads = 0
        self.records: list[tuple[str, CID]] = []
        self.clock = TidClock(clock_id=1)

    def write(self, count: int) -> None:
        """Add `count` records and make a new commit over them."""
        for _ in range(count):
            n = len(self.records)
            data = dag_cbor.encode({"$type": "com.example.note", "n": n})
            cid = CID.for_dag_cbor(data)
            self.blocks[cid] = data
            self.records.append((f"com.example.note/{n:013d}", cid))
        tree = Mst.build(self, self.records)
        self.blocks.update(tree.flush().items())
        rev = self.clock.next()
        commit = dag_cbor.encode({"did": DID, "rev": rev, "data": tree.root, "version": 3})
        self.blocks[CID.for_dag_cbor(commit)] = commit
        self.head = RepoHeadRow(DID, CID.for_dag_cbor(commit), rev, tree.root)

    def get_head(self, did: str) -> RepoHeadRow | None:
        return self.head if did == DID else None

    def get_block(self, cid: CID) -> bytes | None:
        self.block_reads += 1
        return self.blocks.get(cid)

    def get_blocks(self, cids: Iterable[CID]) -> dict[CID, bytes]:
        self.block_reads += 1
        return {cid: self.blocks[cid] for cid in cids if cid in self.blocks}


@pytest.fixture
def repo() -> FakeRepo:
    repo = FakeRepo()
    repo.write(300)
    return repo


def _export(exporter: RepoExporter, since: str | None = None) -> bytes:
    return b"".join(exporter.export(DID, since))


def test_a_cached_export_has_the_same_bytes_as_the_walk(repo: FakeRepo) -> None:
    cache = InMemoryCarCache()
    exporter = RepoExporter(repo, repo, cache=cache)  # type: ignore[arg-type]
    walked = _export(RepoExporter(repo, repo))  # type: ignore[arg-type]

    first = _export(exporter)
    reads = repo.block_reads
    second = _export(exporter)

    assert first == second == walked
    assert cache.hits == 1
    assert repo.block_reads == reads  # the second came from the cache alone
    roots, blocks = load_car(second)
    assert repo.head is not None and roots == (repo.head.commit,)
    assert len(blocks) > 300


def test_a_new_head_is_exported_fresh_and_replaces_the_entry(repo: FakeRepo) -> None:
    cache = InMemoryCarCache()
    exporter = RepoExporter(repo, repo, cache=cache)  # type: ignore[arg-type]
    before = _export(exporter)
    repo.write(1)

    after = _export(exporter)

    assert repo.head is not None
    assert after != before
    assert after == _export(RepoExporter(repo, repo))  # type: ignore[arg-type]
    assert load_car(after)[0] == (repo.head.commit,)
    assert list(cache.entries) == [(DID, repo.head.commit)]


def test_an_export_since_a_rev_does_not_use_the_cache(repo: FakeRepo) -> None:
    cache = InMemoryCarCache()
    exporter = RepoExporter(repo, repo, cache=cache)  # type: ignore[arg-type]
    _export(exporter, since="2222222222222")
    assert cache.entries == {}


def test_an_unknown_repo_is_not_found_before_the_cache_is_asked(repo: FakeRepo) -> None:
    exporter = RepoExporter(repo, repo, cache=InMemoryCarCache())  # type: ignore[arg-type]
    with pytest.raises(RepoNotFound):
        exporter.export("did:plc:" + "f" * 24)
