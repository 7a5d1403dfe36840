"""Repository export: streamed CAR files of a whole repo, a diff since a rev, a record proof.

A full export walks the MST through the block store in batches (`repo_walk`), so memory stays
flat however large the repository is. With a `CarCache`, a full export is served from the
cache when its commit is there, and otherwise kept in it as it streams: the bytes for one
commit never change (ADR 0009).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from application.ports.block_store import BlockStore
from application.ports.car_cache import CarCache
from application.ports.repo_views import RepoViews
from application.repo_walk import DEFAULT_WINDOW, walk_tree
from application.views import RepoHeadRow
from domain.data import dag_cbor
from domain.data.cid import CID
from domain.repo.block_reader import MissingBlock
from domain.repo.car import car_bytes, write_car
from domain.repo.errors import RepoNotFound


def _require(blocks: BlockStore, cid: CID) -> bytes:
    data = blocks.get_block(cid)
    if data is None:
        raise MissingBlock(cid)
    return data


class RepoExporter:
    """Builds `sync.getRepo` and `sync.getRecord` CARs from the views."""

    def __init__(
        self,
        views: RepoViews,
        blocks: BlockStore,
        events: Any = None,
        *,
        cache: CarCache | None = None,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        self.views = views
        self.blocks = blocks
        self.events = events  # callable(did, since) -> Iterator[(cid, bytes)] for diffs
        self.cache = cache
        self.window = window

    def export(self, did: str, since: str | None = None) -> Iterator[bytes]:
        """CAR chunks of `did`'s repo: commit, then MST nodes pre-order, records interleaved."""
        head = self.views.get_head(did)
        if head is None:
            raise RepoNotFound(f"Could not find repo for DID: {did}")
        if since is not None and self.events is not None:
            return write_car(head.commit, self.events(did, since))
        if since is None and self.cache is not None:
            cached = self.cache.read(did, head.rev, head.commit)
            if cached is not None:
                return cached
            return self.cache.write_through(did, head.rev, head.commit, self._full(head))
        return self._full(head)

    def _full(self, head: RepoHeadRow) -> Iterator[bytes]:
        return write_car(head.commit, self._walk(head.commit, head.data))

    def _walk(self, commit: CID, root: CID) -> Iterator[tuple[CID, bytes]]:
        yield commit, _require(self.blocks, commit)
        yield from walk_tree(self.blocks, root, self.window)

    def record_proof(self, did: str, collection: str, rkey: str) -> bytes:
        """A CAR proving (or disproving) one record: commit, the path of nodes, the record."""
        head = self.views.get_head(did)
        if head is None:
            raise RepoNotFound(f"Could not find repo for DID: {did}")
        key = f"{collection}/{rkey}".encode()
        blocks: list[tuple[CID, bytes]] = [(head.commit, _require(self.blocks, head.commit))]
        cid: CID | None = head.data
        while cid is not None:
            data = _require(self.blocks, cid)
            blocks.append((cid, data))
            cid = self._step(dag_cbor.decode(data), key, blocks)
        return car_bytes(head.commit, blocks)

    def _step(
        self, node: dict[str, Any], key: bytes, blocks: list[tuple[CID, bytes]]
    ) -> CID | None:
        """Where `key` lives below `node`: add its record if here, else return the subtree."""
        previous = b""
        subtree: CID | None = node["l"]
        for entry in node["e"]:
            entry_key = previous[: entry["p"]] + entry["k"]
            previous = entry_key
            if entry_key == key:
                record = self.blocks.get_block(entry["v"])
                if record is not None:
                    blocks.append((entry["v"], record))
                return None
            if entry_key > key:
                return subtree
            subtree = entry["t"]
        return subtree
