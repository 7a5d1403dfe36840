"""A fake `CarCache`: finished CARs in a dict, written through like the disk one."""

from __future__ import annotations

from collections.abc import Iterator

from domain.data.cid import CID


class InMemoryCarCache:
    """Entries by `(did, commit)`, kept only once their stream has been read to the end."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, CID], bytes] = {}
        self.hits = 0

    def read(self, did: str, rev: str, commit: CID) -> Iterator[bytes] | None:
        data = self.entries.get((did, commit))
        if data is None:
            return None
        self.hits += 1
        return iter([data[i : i + 1000] for i in range(0, len(data), 1000)])

    def write_through(
        self, did: str, rev: str, commit: CID, chunks: Iterator[bytes]
    ) -> Iterator[bytes]:
        kept = bytearray()
        for chunk in chunks:
            kept += chunk
            yield chunk
        self.entries = {key: v for key, v in self.entries.items() if key[0] != did}
        self.entries[(did, commit)] = bytes(kept)
