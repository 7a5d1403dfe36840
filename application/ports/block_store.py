"""Read access to the content-addressed block store (the MST reads nodes through it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from domain.data.cid import CID


class BlockStore(Protocol):
    """Blocks by CID; writes happen only through recorded events."""

    def get_block(self, cid: CID) -> bytes | None:
        """The bytes of `cid`, or None."""
        ...

    def get_blocks(self, cids: Iterable[CID]) -> dict[CID, bytes]:
        """Every block of `cids` that exists (missing ones are simply absent)."""
        ...
