"""An ordered in-memory map of blocks, the unit in which commits carry new data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from domain.data import dag_cbor
from domain.data.cid import CID
from domain.repo.block_reader import BlockReader, MissingBlock


class BlockMap:
    """CID -> bytes in insertion order; also a `BlockReader`, optionally over a fallback."""

    __slots__ = ("_blocks", "_fallback")

    def __init__(
        self,
        blocks: Iterable[tuple[CID, bytes]] = (),
        fallback: BlockReader | None = None,
    ) -> None:
        self._blocks: dict[CID, bytes] = dict(blocks)
        self._fallback = fallback

    def add(self, value: dag_cbor.Value) -> CID:
        """Encode a value as DAG-CBOR, store it, return its CID."""
        data = dag_cbor.encode(value)
        cid = CID.for_dag_cbor(data)
        self._blocks[cid] = data
        return cid

    def set(self, cid: CID, data: bytes) -> None:
        """Store already-encoded bytes under their CID."""
        self._blocks[cid] = data

    def get_block(self, cid: CID) -> bytes | None:
        data = self._blocks.get(cid)
        if data is None and self._fallback is not None:
            return self._fallback.get_block(cid)
        return data

    def require(self, cid: CID) -> bytes:
        """Bytes of `cid` or `MissingBlock`."""
        data = self.get_block(cid)
        if data is None:
            raise MissingBlock(cid)
        return data

    def update(self, other: BlockMap | Iterable[tuple[CID, bytes]]) -> None:
        """Add every block of `other`."""
        items = other.items() if isinstance(other, BlockMap) else other
        self._blocks.update(items)

    def discard(self, cid: CID) -> None:
        """Remove a block if present."""
        self._blocks.pop(cid, None)

    def items(self) -> Iterator[tuple[CID, bytes]]:
        """(cid, bytes) pairs in insertion order (own blocks only, not the fallback)."""
        return iter(self._blocks.items())

    def cids(self) -> list[CID]:
        """Own CIDs in insertion order."""
        return list(self._blocks)

    def byte_size(self) -> int:
        """Total bytes of own blocks."""
        return sum(len(data) for data in self._blocks.values())

    def __contains__(self, cid: object) -> bool:
        return cid in self._blocks

    def __len__(self) -> int:
        return len(self._blocks)

    def __iter__(self) -> Iterator[CID]:
        return iter(self._blocks)
