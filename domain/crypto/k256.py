"""secp256k1 (k256, JWT ES256K) keys and strict signatures, on libsecp256k1 via coincurve.

libsecp256k1 hashes with sha-256, uses RFC 6979 nonces and always emits low-S, so signing is
one C call; the compact `r||s` is the first 64 bytes of its recoverable form.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar, Final

import coincurve
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from domain.crypto import points
from domain.crypto._scalar import check_private_key
from domain.crypto.compact import COMPACT_LENGTH, split_compact
from domain.crypto.did_key import PublicKey
from domain.crypto.ec_keypair import EcKeypair
from domain.crypto.errors import InvalidKey
from domain.crypto.key_type import KeyType

K256_ORDER: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class K256Keypair(EcKeypair):
    """A secp256k1 signing key. `repr` never shows the private key."""

    __slots__ = ("_key",)
    KEY_TYPE: ClassVar[KeyType] = "k256"
    JWT_ALG: ClassVar[str] = "ES256K"
    ORDER: ClassVar[int] = K256_ORDER

    def __init__(self, private_key: bytes) -> None:
        check_private_key(private_key, K256_ORDER, "k256")
        self._key = coincurve.PrivateKey(private_key)
        self._public = PublicKey("k256", self._key.public_key.format(compressed=True))

    def private_key_bytes(self) -> bytes:
        """32-byte big-endian private key, for a key store to persist."""
        return bytes(self._key.secret)

    def sign(self, msg: bytes) -> bytes:
        """sha-256 of `msg`, signed: compact 64-byte `r||s`, low-S, deterministic."""
        return self._key.sign_recoverable(msg)[:COMPACT_LENGTH]


@lru_cache(maxsize=16384)
def _load_public_key(pub: bytes) -> coincurve.PublicKey:
    """Parse (and curve-check) a key once; commit verification sees few distinct keys."""
    points.check_encoding(pub)
    try:
        return coincurve.PublicKey(pub)
    except ValueError as exc:
        raise InvalidKey("not a point on secp256k1") from exc


def verify_k256(pub: bytes, msg: bytes, sig: bytes) -> bool:
    """Does `sig` sign sha-256(`msg`) under `pub` (33 or 65 bytes)?

    Strict: only 64-byte low-S `r||s` with 0 < r, s < n can be True; DER and high-S twins
    are False. A malformed signature is False; a malformed key raises `InvalidKey`.
    """
    key = _load_public_key(bytes(pub))
    rs = split_compact(sig, K256_ORDER)
    if rs is None:
        return False
    return bool(key.verify(encode_dss_signature(*rs), msg))
