"""Streaming an open file in fixed-size chunks, for the disk blob store and the CAR cache."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO


class FileChunks:
    """An iterator over an open file that closes it at its end, on `close()` or on GC."""

    def __init__(self, handle: IO[bytes], chunk_size: int) -> None:
        self._handle = handle
        self._chunk_size = chunk_size

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._handle.closed:
            raise StopIteration
        chunk = self._handle.read(self._chunk_size)
        if not chunk:
            self._handle.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        """Release the file early (for consumers that stop before the end)."""
        self._handle.close()

    def __del__(self) -> None:
        self._handle.close()
