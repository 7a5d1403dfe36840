"""`BlobStore` on the local filesystem: `<root>/<2 hex of the digest>/<cid>`.

Writes stream into a temp file under `<root>/tmp` (same filesystem, so the rename is atomic),
hashing as they go; the file is fsynced and `os.replace`d onto its CID path, then the directory
is fsynced. A reader therefore sees either no file or the complete one, and two concurrent
uploads of the same bytes both succeed, the second rename replacing an identical file.

File names are only ever CID strings this code formats itself (base32, `[a-z2-7]`), so no
client input reaches a path. The shard is taken from the digest because every raw CID string
starts with the same `bafkrei` prefix.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from adapters.file_chunks import FileChunks
from application.ports.blob_store import BlobInfo, BlobTooLarge
from domain.data.cid import CID, RAW

CHUNK_SIZE = 64 * 1024
STALE_TEMP_SECONDS = 24 * 3600
_TEMP_PREFIX = ".upload-"
_ASIDE_PREFIX = ".gc-"


class DiskBlobStore:
    """Blobs as files under `root` (typically `<data>/blobs`)."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self.remove_stale_temp_files(STALE_TEMP_SECONDS)

    def put_stream(self, chunks: Iterable[bytes], max_size: int) -> BlobInfo:
        """Stream to a temp file while hashing; rename onto the CID path only when complete."""
        digest = hashlib.sha256()
        size = 0
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self._tmp)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_size:
                        raise BlobTooLarge(max_size)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                if self._fsync:
                    os.fsync(out.fileno())
            cid = _raw_cid(digest.digest())
            target = self._path(cid)
            target.parent.mkdir(exist_ok=True)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise
        if self._fsync:
            _fsync_dir(target.parent)
        return BlobInfo(cid, size)

    def open(self, cid: CID) -> Iterator[bytes] | None:
        """The file's bytes in chunks; opened now, so a later delete cannot cut a read short."""
        path = self._path_or_none(cid)
        if path is None:
            return None
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return None
        return FileChunks(handle, CHUNK_SIZE)

    def size(self, cid: CID) -> int | None:
        """The file's size, or None."""
        path = self._path_or_none(cid)
        if path is None:
            return None
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return None

    def exists(self, cid: CID) -> bool:
        """Whether the file exists."""
        path = self._path_or_none(cid)
        return path is not None and path.is_file()

    def delete(self, cid: CID, *, modified_before: float | None = None) -> bool:
        """Remove the file; with `modified_before`, keep it if it was (re)written since.

        The file is first renamed aside, so the age check looks at exactly the file that will
        be removed: if an upload renamed fresh bytes into place just before, that file is
        what moved aside, it is found young, and it is put back.
        """
        path = self._path_or_none(cid)
        if path is None:
            return False
        if modified_before is None:
            try:
                path.unlink()
            except FileNotFoundError:
                return False
            return True
        aside = path.with_name(f"{_ASIDE_PREFIX}{os.getpid()}-{time.monotonic_ns()}-{path.name}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return False
        if aside.stat().st_mtime >= modified_before:
            os.replace(aside, path)  # identical bytes by construction, so replacing is safe
            return False
        aside.unlink()
        return True

    def remove_stale_temp_files(self, max_age_seconds: float) -> int:
        """Delete temp files an interrupted process left behind; return how many."""
        cutoff = time.time() - max_age_seconds
        removed = 0
        for entry in self._tmp.iterdir():
            if not entry.name.startswith(_TEMP_PREFIX):
                continue
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
        return removed

    def _path(self, cid: CID) -> Path:
        path = self._path_or_none(cid)
        if path is None:
            raise ValueError(f"not a raw sha-256 blob CID: {cid}")
        return path

    def _path_or_none(self, cid: CID) -> Path | None:
        """The CID's file path; None for CIDs no upload can have (never a path from input)."""
        if not cid.is_blessed or cid.codec != RAW:
            return None
        return self.root / cid.digest[:1].hex() / str(cid)


def _raw_cid(sha256_digest: bytes) -> CID:
    """The CIDv1 (raw codec, sha2-256) of a digest computed while streaming."""
    return CID(bytes((0x01, RAW, 0x12, 0x20)) + sha256_digest)


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX: the directory entry lives in the directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
