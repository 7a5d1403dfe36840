"""Unsigned LEB128 varints as multiformats uses them: minimal, at most 9 bytes (63 bits).

CAR files frame the header and every block with one, so encoding is cached and decoding
rejects the non-minimal and oversized forms that would let two byte strings mean the same
archive.
"""

from __future__ import annotations

import functools
from typing import Final

MAX_BYTES: Final = 9
MAX_VALUE: Final = (1 << 63) - 1


class InvalidVarint(ValueError):
    """Bytes are not a minimal unsigned varint of at most 9 bytes."""


class TruncatedVarint(InvalidVarint):
    """The input ends inside a varint."""


@functools.lru_cache(maxsize=1 << 14)
def encode(value: int) -> bytes:
    """The minimal varint bytes of `value` (0 <= value < 2**63).

    Cached: a CAR writer asks for the same few hundred block lengths over and over, and a
    cache hit (~50 ns) is three times cheaper than building the bytes.
    """
    if value < 0 or value > MAX_VALUE:
        raise ValueError(f"varint out of range: {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode(buf: bytes | bytearray | memoryview, pos: int = 0) -> tuple[int, int]:
    """Read a varint at `pos`; return (value, position after it).

    Raises `TruncatedVarint` if `buf` ends first, `InvalidVarint` if it is non-minimal or
    longer than 9 bytes.
    """
    end = len(buf)
    if pos < end:
        byte = buf[pos]
        if byte < 0x80:  # the common case: a single byte
            return byte, pos + 1
    value = 0
    shift = 0
    for index in range(pos, pos + MAX_BYTES):
        if index >= end:
            raise TruncatedVarint("input ends inside a varint")
        byte = buf[index]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            if byte == 0 and index > pos:
                raise InvalidVarint("non-minimal varint")
            return value, index + 1
        shift += 7
    raise InvalidVarint(f"varint longer than {MAX_BYTES} bytes")
