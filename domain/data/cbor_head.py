"""The CBOR item head (major type and argument) in its shortest form, as DAG-CBOR requires.

Shared by every encoder that writes CBOR by hand: data-model values, MST nodes, firehose frames
and the event transcoder.
"""

from __future__ import annotations


def cbor_head(major: int, n: int) -> bytes:
    """The head of an item of `major` type with argument `n` (0 <= n < 2**64)."""
    if n < 24:
        return bytes((major << 5 | n,))
    if n < 0x100:
        return bytes((major << 5 | 24, n))
    if n < 0x10000:
        return bytes((major << 5 | 25,)) + n.to_bytes(2, "big")
    if n < 0x100000000:
        return bytes((major << 5 | 26,)) + n.to_bytes(4, "big")
    if n < 0x10000000000000000:
        return bytes((major << 5 | 27,)) + n.to_bytes(8, "big")
    raise ValueError("CBOR argument too large")
