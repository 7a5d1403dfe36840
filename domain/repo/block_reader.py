"""The port through which repository code reads content-addressed blocks.

The MST never needs the whole repository in memory: it asks a `BlockReader` for the few
nodes a read or write touches. Storage adapters implement it over SQL; `BlockMap` implements
it in memory for commits in flight, CAR slices and tests.
"""

from __future__ import annotations

from typing import Protocol

from domain.data.cid import CID


class MissingBlock(LookupError):
    """A block the repository refers to is not available from the reader."""

    def __init__(self, cid: CID) -> None:
        super().__init__(f"missing block {cid}")
        self.cid = cid


class BlockReader(Protocol):
    """Read access to blocks by CID."""

    def get_block(self, cid: CID) -> bytes | None:
        """Return the bytes of `cid`, or None when this reader does not have it."""
        ...
