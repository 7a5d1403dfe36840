"""NIST P-256 (p256, JWT ES256) keys and strict signatures, via `cryptography` (OpenSSL).

OpenSSL signs in DER with either S; atproto wants compact low-S, so signatures are
converted and normalized. Nonces are RFC 6979 deterministic where OpenSSL supports it,
so a key signs given bytes identically every time, as k256 does.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar, Final

from cryptography.exceptions import InvalidSignature as _BadSignature
from cryptography.hazmat.backends.openssl import backend as _openssl
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.crypto import points
from domain.crypto._scalar import PRIVATE_KEY_LENGTH, check_private_key
from domain.crypto.compact import join_compact, split_compact
from domain.crypto.did_key import PublicKey
from domain.crypto.ec_keypair import EcKeypair
from domain.crypto.errors import InvalidKey
from domain.crypto.key_type import KeyType

P256_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

_CURVE: Final = ec.SECP256R1()
_VERIFY: Final = ec.ECDSA(hashes.SHA256())
_SIGN: Final = (
    ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    if _openssl.ecdsa_deterministic_supported()
    else _VERIFY
)


class P256Keypair(EcKeypair):
    """A P-256 signing key. `repr` never shows the private key."""

    __slots__ = ("_key",)
    KEY_TYPE: ClassVar[KeyType] = "p256"
    JWT_ALG: ClassVar[str] = "ES256"
    ORDER: ClassVar[int] = P256_ORDER

    def __init__(self, private_key: bytes) -> None:
        scalar = check_private_key(private_key, P256_ORDER, "p256")
        self._key = ec.derive_private_key(scalar, _CURVE)
        compressed = self._key.public_key().public_bytes(
            Encoding.X962, PublicFormat.CompressedPoint
        )
        self._public = PublicKey("p256", compressed)

    def private_key_bytes(self) -> bytes:
        """32-byte big-endian private key, for a key store to persist."""
        return self._key.private_numbers().private_value.to_bytes(PRIVATE_KEY_LENGTH, "big")

    def sign(self, msg: bytes) -> bytes:
        """sha-256 of `msg`, signed: compact 64-byte `r||s`, S normalized low."""
        r, s = decode_dss_signature(self._key.sign(msg, _SIGN))
        return join_compact(r, s, P256_ORDER)


@lru_cache(maxsize=16384)
def _load_public_key(pub: bytes) -> ec.EllipticCurvePublicKey:
    """Parse (and curve-check) a key once; decompressing a P-256 point is not free."""
    points.check_encoding(pub)
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, pub)
    except ValueError as exc:
        raise InvalidKey("not a point on P-256") from exc


def verify_p256(pub: bytes, msg: bytes, sig: bytes) -> bool:
    """Does `sig` sign sha-256(`msg`) under `pub` (33 or 65 bytes)?

    Strict: only 64-byte low-S `r||s` with 0 < r, s < n can be True; DER and high-S twins
    (which OpenSSL alone would accept) are False. A malformed signature is False; a
    malformed key raises `InvalidKey`.
    """
    key = _load_public_key(bytes(pub))
    rs = split_compact(sig, P256_ORDER)
    if rs is None:
        return False
    try:
        key.verify(encode_dss_signature(*rs), msg, _VERIFY)
    except _BadSignature:
        return False
    return True
