"""`CarCache` on the local filesystem: `<root>/<hash of the DID>/<rev>.<commit cid>.car`.

An entry is written through while its export streams: into a temp file under `<root>/tmp`
(same filesystem, so the rename is atomic), fsynced, and renamed onto its name only after the
last chunk. A stream abandoned before its end (the client went away) deletes its temp file, so
a reader sees either no entry or a complete one; temp files a crash left behind are removed
at start. A read opens the file before it streams, so an eviction meanwhile cannot cut it
short (POSIX keeps an unlinked file until it is closed).

What is kept: per DID only the entry with the highest rev (a newer commit supersedes the
others, and an older export finishing late is dropped), and in all at most `max_bytes`, the
least recently used out first. The index of entries and sizes is in memory, read from the
directory at start; a process should have a directory of its own (several processes over
one Postgres each keep a local cache: entries never go stale, so none needs telling about
another's writes).

No client input reaches a path: the directory is a hash of the DID, the file name a rev
checked against the TID syntax and a CID string this code formats itself. A failing disk
(full, read-only) only stops caching; the export still streams.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from adapters.file_chunks import FileChunks
from domain.data.cid import CID
from domain.syntax.tid import is_valid_tid

READ_CHUNK = 256 * 1024
STALE_TEMP_SECONDS = 3600
_SUFFIX = ".car"
_TEMP_PREFIX = ".export-"

log = logging.getLogger(__name__)


class DiskCarCache:
    """Full-repo CARs as files under `root` (typically `<data>/car-cache`)."""

    def __init__(self, root: Path, max_bytes: int, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._lock = threading.Lock()
        self._sizes: OrderedDict[Path, int] = OrderedDict()  # least recently used first
        self._newest: dict[Path, Path] = {}  # DID directory -> its one entry
        self._total = 0
        self._load()

    # -- the port -------------------------------------------------------------------------
    def read(self, did: str, rev: str, commit: CID) -> Iterator[bytes] | None:
        """The entry's bytes in `READ_CHUNK` pieces, or None if it is not cached."""
        path = self._path(did, rev, commit)
        if path is None:
            return None
        try:
            handle = open(path, "rb", buffering=0)  # noqa: SIM115 (closed by FileChunks)
        except FileNotFoundError:
            return None
        with self._lock:
            if path in self._sizes:
                self._sizes.move_to_end(path)
        with contextlib.suppress(OSError):
            os.utime(handle.fileno())  # the LRU order survives a restart
        return FileChunks(handle, READ_CHUNK)

    def write_through(
        self, did: str, rev: str, commit: CID, chunks: Iterator[bytes]
    ) -> Iterator[bytes]:
        """`chunks` unchanged; the entry for `commit` lands once the last one has been read."""
        path = self._path(did, rev, commit)
        if path is None or self.max_bytes <= 0:
            return chunks
        return self._tee(path, chunks)

    # -- what is kept ---------------------------------------------------------------------
    @property
    def total_bytes(self) -> int:
        """The size of every entry this process knows of."""
        return self._total

    def entries(self) -> list[Path]:
        """Every entry, least recently used first."""
        with self._lock:
            return list(self._sizes)

    def _tee(self, path: Path, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """Yield `chunks` while copying them to a temp file; land it after the last one."""
        temp = _Temp.create(self._tmp)
        try:
            for chunk in chunks:
                if temp is not None and not temp.write(chunk, self.max_bytes):
                    temp.discard()
                    temp = None
                yield chunk
        except BaseException:  # GeneratorExit included: an abandoned stream keeps nothing
            if temp is not None:
                temp.discard()
            raise
        if temp is not None and temp.finish(self._fsync):
            self._land(temp.path, path, temp.size)

    def _land(self, temp: Path, path: Path, size: int) -> None:
        """Rename a finished temp file onto `path` if it is its DID's newest entry."""
        directory = path.parent
        with self._lock:
            current = self._newest.get(directory)
            if current is not None and current.name >= path.name:
                _unlink(temp)  # the same entry, or an older commit's export finishing late
                return
            try:
                directory.mkdir(exist_ok=True)
                os.replace(temp, path)
            except OSError as exc:
                log.warning("CAR cache: could not keep %s: %s", path.name, exc)
                _unlink(temp)
                return
            if current is not None:
                self._forget(current)
            self._sizes[path] = size
            self._newest[directory] = path
            self._total += size
            while self._total > self.max_bytes and self._sizes:
                self._forget(next(iter(self._sizes)))

    def _forget(self, path: Path) -> None:
        """Drop an entry from the index and the disk (its DID directory too, once empty)."""
        self._total -= self._sizes.pop(path, 0)
        if self._newest.get(path.parent) == path:
            del self._newest[path.parent]
        _unlink(path)
        with contextlib.suppress(OSError):
            path.parent.rmdir()

    def _load(self) -> None:
        """Index the entries on disk (oldest first), keep each DID's newest, trim to size."""
        cutoff = time.time() - STALE_TEMP_SECONDS
        for entry in self._tmp.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()
        found: list[tuple[float, Path, int]] = []
        for directory in self.root.iterdir():
            if directory == self._tmp or not directory.is_dir():
                continue
            files = sorted(p for p in directory.iterdir() if p.name.endswith(_SUFFIX))
            for stale in files[:-1]:
                _unlink(stale)
            if files:
                stat = files[-1].stat()
                found.append((stat.st_mtime, files[-1], stat.st_size))
        with self._lock:
            for _, path, size in sorted(found):
                self._sizes[path] = size
                self._newest[path.parent] = path
                self._total += size
            while self._total > self.max_bytes and self._sizes:
                self._forget(next(iter(self._sizes)))

    def _path(self, did: str, rev: str, commit: CID) -> Path | None:
        """Where the entry lives; None for a rev that could not be a file name."""
        if not is_valid_tid(rev):
            return None
        directory = hashlib.sha256(did.encode()).hexdigest()[:32]
        return self.root / directory / f"{rev}.{commit}{_SUFFIX}"


class _Temp:
    """A temp file being filled; any disk error discards it instead of failing the export."""

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        self.path, self.handle, self.size = path, handle, 0

    @classmethod
    def create(cls, directory: Path) -> _Temp | None:
        try:
            fd, name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_SUFFIX, dir=directory)
        except OSError as exc:
            log.warning("CAR cache: no temp file: %s", exc)
            return None
        return cls(Path(name), os.fdopen(fd, "wb"))

    def write(self, chunk: bytes, max_bytes: int) -> bool:
        """Append `chunk`; False if the entry would exceed `max_bytes` or the write failed."""
        self.size += len(chunk)
        if self.size > max_bytes:
            return False
        try:
            self.handle.write(chunk)
        except OSError as exc:
            log.warning("CAR cache: write failed: %s", exc)
            return False
        return True

    def finish(self, fsync: bool) -> bool:
        """Flush (and fsync) and close; False if that failed (the file is then discarded)."""
        try:
            self.handle.flush()
            if fsync:
                os.fsync(self.handle.fileno())
            self.handle.close()
        except OSError as exc:
            log.warning("CAR cache: flush failed: %s", exc)
            self.discard()
            return False
        return True

    def discard(self) -> None:
        """Close and delete the temp file."""
        with contextlib.suppress(OSError):
            self.handle.close()
        _unlink(self.path)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
