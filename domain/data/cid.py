"""Content identifiers, kept as their binary form.

Parsing and formatting through `multiformats` costs ~160 µs per CID, so quire keeps CIDs
as bytes: parsing the blessed atproto form (CIDv1, base32, sha2-256) goes through `base64`,
formatting through `_base32` below. `multiformats` is used only for the rare foreign string
forms (CIDv0, other bases).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final

from domain.data.errors import InvalidCid

DAG_CBOR: Final = 0x71
RAW: Final = 0x55
SHA2_256: Final = 0x12

_DAG_CBOR_PREFIX: Final = bytes((0x01, DAG_CBOR, SHA2_256, 0x20))
_RAW_PREFIX: Final = bytes((0x01, RAW, SHA2_256, 0x20))
_BASE32: Final = "abcdefghijklmnopqrstuvwxyz234567"
_BASE32_PAIRS: Final = tuple(a + b for a in _BASE32 for b in _BASE32)


def _base32(data: bytes) -> str:
    """RFC 4648 base32, lower case, unpadded: multibase `b` without its prefix.

    One big integer read ten bits at a time through a table of character pairs: about twice
    as fast as `base64.b32encode`, which is pure Python up to 3.12 and pads, then strips.
    """
    chars = -(-len(data) * 8 // 5)
    bits = int.from_bytes(data, "big") << (chars * 5 - len(data) * 8)
    out = []
    if chars % 2:
        out.append(_BASE32[bits & 31])
        bits >>= 5
    for _ in range(chars // 2):
        out.append(_BASE32_PAIRS[bits & 1023])
        bits >>= 10
    out.reverse()
    return "".join(out)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Read an unsigned LEB128 varint (minimal, at most 9 bytes) at `pos`."""
    value = 0
    shift = 0
    start = pos
    while True:
        if pos >= len(buf) or pos - start >= 9:
            raise InvalidCid("truncated or oversized varint in CID")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and pos - start > 1:
                raise InvalidCid("non-minimal varint in CID")
            return value, pos
        shift += 7


class CID:
    """An immutable CID identified by its binary bytes (hashable, ordered by bytes)."""

    __slots__ = ("_str", "raw")

    raw: bytes

    def __init__(self, raw: bytes) -> None:
        """Wrap already-validated binary CID bytes; use `CID.decode` for untrusted input."""
        self.raw = raw
        self._str: str | None = None

    # -- constructors -------------------------------------------------------------------
    @staticmethod
    def for_dag_cbor(data: bytes) -> CID:
        """The CIDv1 of DAG-CBOR block bytes (the hot path: one sha256, no parsing)."""
        return CID(_DAG_CBOR_PREFIX + hashlib.sha256(data).digest())

    @staticmethod
    def for_raw(data: bytes) -> CID:
        """The CIDv1 (raw codec) of blob bytes."""
        return CID(_RAW_PREFIX + hashlib.sha256(data).digest())

    @staticmethod
    def decode(raw: bytes) -> CID:
        """Validate binary CID bytes (CIDv1 with a well-formed multihash, or a CIDv0)."""
        raw = bytes(raw)
        if len(raw) == 36 and (raw.startswith(_DAG_CBOR_PREFIX) or raw.startswith(_RAW_PREFIX)):
            return CID(raw)
        if len(raw) == 34 and raw[0] == SHA2_256 and raw[1] == 0x20:
            return CID(raw)  # CIDv0: a bare sha2-256 multihash
        version, pos = _read_varint(raw, 0)
        if version != 1:
            raise InvalidCid(f"unsupported CID version {version}")
        _, pos = _read_varint(raw, pos)
        _, pos = _read_varint(raw, pos)
        length, pos = _read_varint(raw, pos)
        if len(raw) - pos != length:
            raise InvalidCid("multihash digest length does not match")
        return CID(raw)

    @staticmethod
    def parse(text: str) -> CID:
        """Parse a CID string; the blessed base32 form avoids multiformats entirely."""
        if not isinstance(text, str) or not text:
            raise InvalidCid("CID string must be a non-empty string")
        if text[0] == "b" and text.isascii():
            body = text[1:].upper()
            try:
                raw = base64.b32decode(body + "=" * (-len(body) % 8))
            except ValueError as exc:
                raise InvalidCid(f"invalid base32 CID: {text[:80]!r}") from exc
            cid = CID.decode(raw)
            if str(cid) != text:
                raise InvalidCid(f"non-canonical CID string: {text[:80]!r}")
            return cid
        return _parse_foreign(text)

    # -- properties ---------------------------------------------------------------------
    @property
    def version(self) -> int:
        """0 for a bare multihash, otherwise 1."""
        return 0 if self.raw[0] == SHA2_256 and len(self.raw) == 34 else 1

    @property
    def codec(self) -> int:
        """The multicodec of the content (dag-cbor 0x71, raw 0x55, ...)."""
        if self.version == 0:
            return 0x70
        return _read_varint(self.raw, 1)[0]

    @property
    def digest(self) -> bytes:
        """The hash digest bytes."""
        if self.version == 0:
            return self.raw[2:]
        _, pos = _read_varint(self.raw, 1)
        _, pos = _read_varint(self.raw, pos)
        _, pos = _read_varint(self.raw, pos)
        return self.raw[pos:]

    @property
    def is_blessed(self) -> bool:
        """True for the forms atproto repositories use: CIDv1, sha2-256, dag-cbor or raw."""
        return len(self.raw) == 36 and (
            self.raw.startswith(_DAG_CBOR_PREFIX) or self.raw.startswith(_RAW_PREFIX)
        )

    def matches(self, data: bytes) -> bool:
        """Does `data` hash to this CID? (blessed sha2-256 forms only)."""
        return self.is_blessed and hashlib.sha256(data).digest() == self.raw[4:]

    # -- dunder -------------------------------------------------------------------------
    def __str__(self) -> str:
        text = self._str
        if text is None:
            text = _format_v0(self.raw) if self.version == 0 else "b" + _base32(self.raw)
            self._str = text
        return text

    def __repr__(self) -> str:
        return f"CID({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CID) and other.raw == self.raw

    def __lt__(self, other: CID) -> bool:
        return self.raw < other.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __reduce__(self) -> tuple[type[CID], tuple[bytes]]:
        return (CID, (self.raw,))


def _parse_foreign(text: str) -> CID:
    """Parse a non-base32 CID string (CIDv0 or another multibase) through multiformats."""
    try:
        from multiformats import CID as MfCID

        parsed = MfCID.decode(text)
    except Exception as exc:  # multiformats raises many unrelated types
        raise InvalidCid(f"invalid CID string: {text[:80]!r}") from exc
    raw = bytes(parsed.digest) if parsed.version == 0 else bytes(parsed)
    return CID.decode(raw)


def _format_v0(raw: bytes) -> str:
    from multiformats import CID as MfCID

    return str(MfCID.decode(raw))
