"""Private scalars: the shared rules for 32-byte secp256k1 / P-256 private keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from domain.crypto.errors import CryptoError, InvalidKey

PRIVATE_KEY_LENGTH: Final = 32
_MAX_DRAWS: Final = 64  # a fair source fails one draw with probability < 2**-32


def check_private_key(raw: bytes, order: int, curve: str) -> int:
    """The scalar of a 32-byte big-endian private key, which must lie in [1, order)."""
    if len(raw) != PRIVATE_KEY_LENGTH:
        raise InvalidKey(f"{curve} private key must be 32 bytes, got {len(raw)}")
    value = int.from_bytes(raw, "big")
    if not 0 < value < order:
        raise InvalidKey(f"{curve} private key is out of range")
    return value


def draw_private_key(random_bytes: Callable[[int], bytes], order: int) -> bytes:
    """32 bytes from `random_bytes` that form a valid scalar (rejection sampling, no bias).

    Taking the source as a parameter lets tests inject a deterministic one; a source stuck
    on invalid output raises rather than spinning forever.
    """
    for _ in range(_MAX_DRAWS):
        raw = random_bytes(PRIVATE_KEY_LENGTH)
        if len(raw) == PRIVATE_KEY_LENGTH and 0 < int.from_bytes(raw, "big") < order:
            return raw
    raise CryptoError("random source produced no valid private key")
