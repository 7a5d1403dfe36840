"""CAR v1 archives: the export, import and sync-diff format of atproto repositories.

A CAR is `varint(len(header)) header` then, per block, `varint(len(cid) + len(data)) cid
data`; the header is the DAG-CBOR map `{version: 1, roots: [cid, ...]}`. The writer streams
chunks of about 64 KiB so an HTTP response never holds a whole repository. The reader
streams too, and treats the archive as hostile: every block's bytes must hash to its CID,
sizes are bounded before anything is buffered, and every failure is an `InvalidCar`. Block
order, duplicates and unrelated blocks are allowed, as the repository spec requires.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Final

from domain.data import dag_cbor
from domain.data.cid import CID, DAG_CBOR, RAW, SHA2_256
from domain.data.errors import DecodeError
from domain.repo import varint
from domain.repo.block_map import BlockMap
from domain.repo.errors import InvalidCar, UnsupportedCidHash

CHUNK_SIZE: Final = 64 * 1024
MAX_BLOCK_SIZE: Final = 2 * 1024 * 1024
MAX_HEADER_SIZE: Final = 64 * 1024
_MAX_CID_SIZE: Final = 128  # generous: a sha2-256 CIDv1 is 36 bytes

_DAG_CBOR_PREFIX: Final = bytes((0x01, DAG_CBOR, SHA2_256, 0x20))
_RAW_PREFIX: Final = bytes((0x01, RAW, SHA2_256, 0x20))

Chunks = Iterable[bytes | bytearray | memoryview]
"""Input of the reader: the whole archive at once, or its pieces as they arrive."""


# -- writing ------------------------------------------------------------------------------


def encode_header(roots: Iterable[CID]) -> bytes:
    """The varint-prefixed header; no roots is allowed (an empty diff has no commit)."""
    header = dag_cbor.encode({"roots": list(roots), "version": 1})
    return varint.encode(len(header)) + header


def write_car(
    root: CID | None,
    blocks: Iterable[tuple[CID, bytes]],
    *,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """Stream a CAR of `blocks` (written as given: no check, no dedup) in ~`chunk_size` chunks.

    Blocks are trusted: they come from our own store, where they were verified on the way in.
    """
    parts: list[bytes] = [encode_header(() if root is None else (root,))]
    size = len(parts[0])
    append = parts.append
    prefix = varint.encode
    for cid, data in blocks:
        raw = cid.raw
        section = len(raw) + len(data)
        length = prefix(section)
        append(length)
        append(raw)
        append(data)
        size += len(length) + section
        if size >= chunk_size:
            yield b"".join(parts)
            parts.clear()
            size = 0
    if parts:
        yield b"".join(parts)


def car_bytes(root: CID | None, blocks: Iterable[tuple[CID, bytes]]) -> bytes:
    """The whole CAR as one bytes object (for tests, small diffs and firehose frames)."""
    return b"".join(write_car(root, blocks, chunk_size=1 << 62))


# -- reading ------------------------------------------------------------------------------


class _Source:
    """A read buffer over one bytes object or a stream of chunks, joined only when needed."""

    __slots__ = ("buf", "chunks", "consumed", "pos")

    def __init__(self, data: bytes | bytearray | memoryview | Chunks) -> None:
        self.pos = 0
        self.consumed = 0  # bytes dropped from the front of `buf` so far
        self.chunks: Iterator[bytes | bytearray | memoryview] | None
        if isinstance(data, bytes | bytearray | memoryview):
            self.buf = bytes(data)
            self.chunks = None
        else:
            self.buf = b""
            self.chunks = iter(data)

    def fill(self, want: int) -> bool:
        """Buffer at least `want` unread bytes if the input has them; False at end of input.

        Joins the pending pieces once, so a block spread over many chunks costs linear time.
        """
        have = len(self.buf) - self.pos
        if have >= want:
            return True
        if self.chunks is None:
            return False
        parts: list[bytes | bytearray | memoryview] = [self.buf[self.pos :]] if have else []
        for chunk in self.chunks:
            if chunk:
                parts.append(chunk)
                have += len(chunk)
                if have >= want:
                    break
        else:
            self.chunks = None
        self.consumed += self.pos
        self.buf = b"".join(parts)
        self.pos = 0
        return have >= want

    @property
    def offset(self) -> int:
        """Bytes of input read so far."""
        return self.consumed + self.pos

    def read_varint(self) -> int | None:
        """The next varint, or None at a clean end of input."""
        self.fill(varint.MAX_BYTES)
        if self.pos >= len(self.buf):
            return None
        try:
            value, self.pos = varint.decode(self.buf, self.pos)
        except varint.InvalidVarint as exc:
            raise InvalidCar(f"bad length prefix at byte {self.offset}: {exc}") from exc
        return value


class CarReader:
    """A CAR being read: `roots` from the header, then its blocks, verified, in one pass.

    Iterating yields `(cid, bytes)` in file order, duplicates included; the stream can be
    iterated once. Every block's bytes are checked against its CID before it is yielded.
    """

    __slots__ = ("_blocks", "roots")

    def __init__(self, roots: tuple[CID, ...], blocks: Iterator[tuple[CID, bytes]]) -> None:
        self.roots = roots
        self._blocks = blocks

    @property
    def root(self) -> CID:
        """The first root: for repository exports and diffs, the commit."""
        if not self.roots:
            raise InvalidCar("CAR has no root")
        return self.roots[0]

    def __iter__(self) -> Iterator[tuple[CID, bytes]]:
        return self._blocks


def read_car(
    data: bytes | bytearray | memoryview | Chunks,
    *,
    max_block_size: int = MAX_BLOCK_SIZE,
    max_total_size: int | None = None,
    max_header_size: int = MAX_HEADER_SIZE,
) -> CarReader:
    """Read the header of a CAR now and its blocks lazily; raise `InvalidCar` on bad input.

    `max_block_size` bounds one block's data and `max_total_size` the whole archive; both
    are checked before the bytes are buffered, so a hostile length prefix costs nothing.
    """
    source = _Source(data)
    roots = _read_header(source, max_header_size)
    return CarReader(roots, _read_blocks(source, max_block_size, max_total_size))


def load_car(
    data: bytes | bytearray | memoryview | Chunks,
    *,
    max_block_size: int = MAX_BLOCK_SIZE,
    max_total_size: int | None = None,
) -> tuple[tuple[CID, ...], BlockMap]:
    """Read a whole CAR into memory: (roots, verified blocks, deduplicated)."""
    reader = read_car(data, max_block_size=max_block_size, max_total_size=max_total_size)
    return reader.roots, BlockMap(reader)


def _single_root_header(root: CID) -> bytes:
    """`encode_header((root,))`, written directly for the usual 36-byte CID (hot path)."""
    if len(root.raw) != 36:
        return encode_header((root,))
    body = b"\xa2eroots\x81\xd8\x2a\x58\x25\x00" + root.raw + b"gversion\x01"
    return bytes((len(body),)) + body


def read_slice(data: bytes, root: CID) -> list[tuple[CID, bytes]]:
    """The verified blocks of a CAR whose only root must be `root` (a commit slice).

    The header is compared with the one `root` must have instead of being decoded, which
    is the hot path when projecting recorded commits; blocks are still hash-checked.
    """
    prefix = _single_root_header(root)
    if not data.startswith(prefix):
        roots = read_car(data).roots
        raise InvalidCar(f"CAR slice is rooted at {roots}, not {root}")
    source = _Source(data)
    source.pos = len(prefix)
    return list(_read_blocks(source, MAX_BLOCK_SIZE, None))


def split_slice(data: bytes, root: CID) -> list[tuple[bytes, bytes]]:
    """(CID bytes, block bytes) of a commit slice this process recorded, without re-hashing.

    For the projection only: a recorded event's slice was built from hash-checked blocks, a
    replay that read damaged bytes writes a block view whose digest differs from the live
    one, and `quire audit` re-checks every block against its CID. The framing is still
    checked, so damaged lengths raise `InvalidCar`. Sections that are not a 36-byte sha256
    CID fall back to the verifying reader.
    """
    prefix = _single_root_header(root)
    if not data.startswith(prefix):
        return [(cid.raw, block) for cid, block in read_slice(data, root)]
    out: list[tuple[bytes, bytes]] = []
    append = out.append
    dag_prefix = _DAG_CBOR_PREFIX
    pos = len(prefix)
    size = len(data)
    while pos < size:
        length = data[pos]
        start = pos + 1
        if length >= 0x80 and start < size and 0 < data[start] < 0x80:
            length = (length & 0x7F) | (data[start] << 7)
            start += 1
        elif length >= 0x80:
            try:
                length, start = varint.decode(data, pos)
            except varint.InvalidVarint as exc:
                raise InvalidCar(f"bad length prefix at byte {pos}: {exc}") from exc
        end = start + length
        if end > size or length < 36 or not data.startswith(dag_prefix, start):
            return [(cid.raw, block) for cid, block in read_slice(data, root)]
        append((data[start : start + 36], data[start + 36 : end]))
        pos = end
    return out


def _read_header(source: _Source, max_header_size: int) -> tuple[CID, ...]:
    length = source.read_varint()
    if length is None:
        raise InvalidCar("empty input: no CAR header")
    if length == 0 or length > max_header_size:
        raise InvalidCar(f"CAR header length {length} outside 1..{max_header_size}")
    if not source.fill(length):
        raise InvalidCar("input ends inside the CAR header")
    start = source.pos
    source.pos += length
    try:
        header = dag_cbor.decode(source.buf[start : source.pos])
    except DecodeError as exc:
        raise InvalidCar(f"CAR header is not DAG-CBOR: {exc}") from exc
    if type(header) is not dict:
        raise InvalidCar("CAR header is not a map")
    version = header.get("version")
    if type(version) is not int or version != 1:
        raise InvalidCar(f"unsupported CAR version {version!r}")
    roots = header.get("roots")
    if type(roots) is not list or not all(type(root) is CID for root in roots):
        raise InvalidCar("CAR header roots must be a list of CIDs")
    return tuple(roots)


def _read_blocks(
    source: _Source, max_block_size: int, max_total_size: int | None
) -> Iterator[tuple[CID, bytes]]:
    """Yield verified blocks; the inner loop runs over the buffered bytes with locals only.

    Sections with a one- or two-byte length and a blessed CID (nearly all of a repository)
    take the inner loop; anything else, or a section that crosses the end of the buffer,
    goes through the general path once and the inner loop resumes.
    """
    max_section = max_block_size + _MAX_CID_SIZE
    limit = (1 << 62) if max_total_size is None else max_total_size
    sha256 = hashlib.sha256
    dag_prefix = _DAG_CBOR_PREFIX
    raw_prefix = _RAW_PREFIX
    while True:
        buf = source.buf
        pos = source.pos
        size = len(buf)
        budget = limit - source.consumed
        while pos < size:
            start = pos + 1
            length = buf[pos]
            if length >= 0x80:
                if start >= size:
                    break
                high = buf[start]
                if high >= 0x80 or high == 0:
                    break
                length = (length & 0x7F) | (high << 7)
                start += 1
            end = start + length
            if end > size or end > budget or length - 36 > max_block_size:
                break
            if length < 36 or not (
                buf.startswith(dag_prefix, start) or buf.startswith(raw_prefix, start)
            ):
                break
            cid_raw = buf[start : start + 36]
            block = buf[start + 36 : end]
            if not cid_raw.endswith(sha256(block).digest()):
                raise InvalidCar(f"block bytes do not match CID {CID(cid_raw)}")
            pos = end
            yield CID(cid_raw), block
        source.pos = pos
        # The general path: long or malformed prefixes, limits, refills, other CIDs.
        prefixed = source.read_varint()
        if prefixed is None:
            return
        length = prefixed
        if length > max_section:
            raise InvalidCar(f"CAR section of {length} bytes exceeds the block size limit")
        if source.offset + length > limit:
            raise InvalidCar(f"CAR exceeds the size limit of {limit} bytes")
        if not source.fill(length):
            raise InvalidCar("input ends inside a CAR block")
        start = source.pos
        source.pos = start + length
        yield _slow_block(source.buf[start : source.pos], max_block_size)


def _slow_block(section: bytes, max_block_size: int) -> tuple[CID, bytes]:
    """Parse and verify a section whose CID is not a blessed one (or whose data is empty)."""
    try:
        if section[:2] == b"\x12\x20":  # CIDv0: a bare sha2-256 multihash
            cid_len = 34
            hash_code, digest_len = SHA2_256, 32
        else:
            version, pos = varint.decode(section, 0)
            if version != 1:
                raise InvalidCar(f"unsupported CID version {version} in CAR block")
            _, pos = varint.decode(section, pos)  # codec: any, as long as we can hash-check
            hash_code, pos = varint.decode(section, pos)
            digest_len, pos = varint.decode(section, pos)
            cid_len = pos + digest_len
    except varint.InvalidVarint as exc:
        raise InvalidCar(f"malformed CID in CAR block: {exc}") from exc
    if cid_len > len(section):
        raise InvalidCar("CID runs past the end of its CAR section")
    if hash_code != SHA2_256 or digest_len != 32:
        raise UnsupportedCidHash(f"CAR block hash 0x{hash_code:x} is not sha2-256")
    data = section[cid_len:]
    if len(data) > max_block_size:
        raise InvalidCar(f"CAR block of {len(data)} bytes exceeds the block size limit")
    digest = section[cid_len - 32 : cid_len]
    if hashlib.sha256(data).digest() != digest:
        raise InvalidCar("block bytes do not match their CID")
    return CID(section[:cid_len]), data
