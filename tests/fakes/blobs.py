"""Fakes for the blob ports: bytes in a dict, uploads and record references in dicts."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from application.ports.blob_index import BlobUpload, MissingBlob
from application.ports.blob_store import BlobInfo, BlobTooLarge
from domain.data.cid import CID


class InMemoryBlobStore:
    """`BlobStore` in a dict; `clock` stamps each write, like a file's mtime."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.blobs: dict[CID, tuple[bytes, float]] = {}
        self.deleted: list[CID] = []

    def put_stream(self, chunks: Iterable[bytes], max_size: int) -> BlobInfo:
        digest = hashlib.sha256()
        data = bytearray()
        for chunk in chunks:
            data += chunk
            if len(data) > max_size:
                raise BlobTooLarge(max_size)
            digest.update(chunk)
        cid = CID.for_raw(bytes(data))
        self.blobs[cid] = (bytes(data), self._clock())
        return BlobInfo(cid, len(data))

    def open(self, cid: CID) -> Iterator[bytes] | None:
        found = self.blobs.get(cid)
        if found is None:
            return None
        data = found[0]
        return iter([data[i : i + 3] for i in range(0, len(data), 3)])

    def size(self, cid: CID) -> int | None:
        found = self.blobs.get(cid)
        return None if found is None else len(found[0])

    def exists(self, cid: CID) -> bool:
        return cid in self.blobs

    def delete(self, cid: CID, *, modified_before: float | None = None) -> bool:
        found = self.blobs.get(cid)
        if found is None:
            return False
        if modified_before is not None and found[1] >= modified_before:
            return False
        del self.blobs[cid]
        self.deleted.append(cid)
        return True


class InMemoryBlobIndex:
    """`BlobIndex` in dicts; tests add record references with `reference`/`unreference`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.uploads: dict[tuple[str, CID], BlobUpload] = {}
        self.references: dict[tuple[str, CID], set[str]] = {}

    # What commits do to the record_blobs view.

    def reference(self, did: str, cid: CID, record_path: str) -> None:
        self.references.setdefault((did, cid), set()).add(record_path)

    def unreference(self, did: str, record_path: str) -> None:
        for key, paths in list(self.references.items()):
            if key[0] == did:
                paths.discard(record_path)
                if not paths:
                    del self.references[key]

    # The port.

    def record_upload(self, upload: BlobUpload) -> BlobUpload:
        with self._lock:
            key = (upload.did, upload.cid)
            existing = self.uploads.get(key)
            stored = upload if existing is None else replace(existing, created_at=upload.created_at)
            self.uploads[key] = stored
            return stored

    def get(self, did: str, cid: CID) -> BlobUpload | None:
        return self.uploads.get((did, cid))

    def referenced(self, did: str, cid: CID) -> bool:
        return (did, cid) in self.references

    def unreferenced_before(self, created_before: str, limit: int) -> list[tuple[str, CID]]:
        rows = sorted(
            (u for k, u in self.uploads.items() if k not in self.references),
            key=lambda u: (u.created_at, u.did, u.cid.raw),
        )
        return [(u.did, u.cid) for u in rows if u.created_at < created_before][:limit]

    def delete_unreferenced(self, did: str, cid: CID, created_before: str) -> bool:
        with self._lock:
            upload = self.uploads.get((did, cid))
            if upload is None or upload.created_at >= created_before:
                return False
            if (did, cid) in self.references:
                return False
            del self.uploads[(did, cid)]
            return True

    def delete(self, did: str, cid: CID) -> bool:
        with self._lock:
            return self.uploads.pop((did, cid), None) is not None

    def has_uploads(self, cid: CID) -> bool:
        return any(key[1] == cid for key in self.uploads)

    def missing(self, did: str, after: CID | None, limit: int) -> list[MissingBlob]:
        floor = after.raw if after else b""
        found = sorted(
            (cid, min(paths))
            for (owner, cid), paths in self.references.items()
            if owner == did and cid.raw > floor and (did, cid) not in self.uploads
        )
        return [MissingBlob(cid, path) for cid, path in found[:limit]]
