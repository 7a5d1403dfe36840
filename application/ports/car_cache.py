"""A cache of finished full-repository CARs, keyed by the commit they are rooted at.

A full export is a function of its commit CID alone (the commit names the MST root, which
names every node and record), so an entry can never be stale: a write makes a new commit and
therefore a new key. The cache only has to decide what to keep.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from domain.data.cid import CID


class CarCache(Protocol):
    """Full-repo CARs by `(did, commit)`; `rev` orders the entries of one DID."""

    def read(self, did: str, rev: str, commit: CID) -> Iterator[bytes] | None:
        """The cached CAR of `did` at `commit` in large chunks, or None if it is not cached.

        The entry is opened before returning, so a later eviction cannot cut the read short.
        """
        ...

    def write_through(
        self, did: str, rev: str, commit: CID, chunks: Iterator[bytes]
    ) -> Iterator[bytes]:
        """`chunks` unchanged, kept as the entry for `commit` once the last one has been read.

        A stream abandoned before its end (a client that disconnects) leaves no entry.
        """
        ...
