"""Public-key point encodings (SEC1): compressed 33 bytes, uncompressed 65 bytes.

atproto shares keys compressed; the deprecated DID-document form is uncompressed. Both are
checked to lie on the curve here, so every later use can trust the bytes.
"""

from __future__ import annotations

from typing import Final

import coincurve
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.crypto.errors import InvalidKey
from domain.crypto.key_type import KeyType

COMPRESSED_LENGTH: Final = 33
UNCOMPRESSED_LENGTH: Final = 65


def check_encoding(pub: bytes) -> None:
    """Only SEC1 compressed (02/03 + x) or uncompressed (04 + x + y) forms.

    libsecp256k1 would also take the obsolete "hybrid" 06/07 form; refusing it keeps one
    key from having a third spelling.
    """
    n = len(pub)
    if not (
        (n == COMPRESSED_LENGTH and pub[0] in (2, 3)) or (n == UNCOMPRESSED_LENGTH and pub[0] == 4)
    ):
        raise InvalidKey(f"not a SEC1 compressed or uncompressed public key ({n} bytes)")


def encode_point(key_type: KeyType, pub: bytes, *, compressed: bool = True) -> bytes:
    """Re-encode a public key of either form, validating that it is on the curve."""
    check_encoding(pub)
    if key_type == "k256":
        try:
            return coincurve.PublicKey(pub).format(compressed=compressed)
        except ValueError as exc:
            raise InvalidKey("not a point on secp256k1") from exc
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub)
    except ValueError as exc:
        raise InvalidKey("not a point on P-256") from exc
    form = PublicFormat.CompressedPoint if compressed else PublicFormat.UncompressedPoint
    return key.public_bytes(Encoding.X962, form)


def compress(key_type: KeyType, pub: bytes) -> bytes:
    """The 33-byte compressed form of a valid public key given in either form."""
    return encode_point(key_type, pub, compressed=True)


def decompress(key_type: KeyType, pub: bytes) -> bytes:
    """The 65-byte uncompressed form of a valid public key given in either form."""
    return encode_point(key_type, pub, compressed=False)
