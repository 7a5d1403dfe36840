"""The one signature encoding atproto accepts: 64 bytes `r||s`, big-endian, with low S.

ECDSA signatures are malleable: `(r, n - s)` verifies whenever `(r, s)` does, and DER gives
the same pair a second byte form. Content-addressed data (commits, PLC operations) hashes
the signature, so accepting either twin would mint a second valid object from a published
one. Signers therefore emit low-S compact form and verifiers refuse everything else.
"""

from __future__ import annotations

from typing import Final

COMPACT_LENGTH: Final = 64
_HALF: Final = 32


def split_compact(sig: bytes, order: int) -> tuple[int, int] | None:
    """(r, s) of a strict compact signature, or None if it is not one.

    Not one: any length but 64 (so DER never passes), r or s zero or >= the curve order,
    or s above order/2 (high-S).
    """
    if len(sig) != COMPACT_LENGTH:
        return None
    r = int.from_bytes(sig[:_HALF], "big")
    s = int.from_bytes(sig[_HALF:], "big")
    if not 0 < r < order or not 0 < s <= order >> 1:
        return None
    return r, s


def join_compact(r: int, s: int, order: int) -> bytes:
    """Compact `r||s`, replacing a high S by `order - s` (same validity, canonical form)."""
    if s > order >> 1:
        s = order - s
    return r.to_bytes(_HALF, "big") + s.to_bytes(_HALF, "big")


def is_low_s(sig: bytes, order: int) -> bool:
    """Is the S half of a 64-byte signature at most order/2?"""
    return len(sig) == COMPACT_LENGTH and int.from_bytes(sig[_HALF:], "big") <= order >> 1
