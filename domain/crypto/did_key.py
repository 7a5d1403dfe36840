"""did:key and Multikey text forms of atproto public keys (cryptography spec).

A Multikey is `z` + base58btc(multicodec varint + 33-byte compressed point); a did:key is
`did:key:` + Multikey. Parsing is strict so one key has one spelling: rotation keys are
compared as strings, so an uncompressed or non-minimal variant must not slip through.
The deprecated DID-document form (no multicodec, named by a `...VerificationKey2019`
suite) is read, never written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from domain.crypto import points
from domain.crypto.errors import InvalidKey, UnsupportedKeyType
from domain.crypto.key_type import JWT_ALG, KeyType, check_key_type
from domain.crypto.multibase import (
    K256_PREFIX,
    P256_PREFIX,
    P256_PUB,
    SECP256K1_PUB,
    decode_varint,
    multibase_decode,
    multibase_encode,
)

DID_KEY_PREFIX: Final = "did:key:"
MULTIKEY_TYPE: Final = "Multikey"
LEGACY_SUITES: Final[dict[str, KeyType]] = {
    "EcdsaSecp256k1VerificationKey2019": "k256",
    "EcdsaSecp256r1VerificationKey2019": "p256",
}
_PREFIX: Final[dict[KeyType, bytes]] = {"k256": K256_PREFIX, "p256": P256_PREFIX}
_CODEC: Final[dict[int, KeyType]] = {SECP256K1_PUB: "k256", P256_PUB: "p256"}
_MAX_TEXT: Final = 256  # far above any real key; bounds work on hostile input


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A validated public key: its curve and 33-byte compressed point."""

    key_type: KeyType
    compressed: bytes

    @property
    def jwt_alg(self) -> str:
        """ES256K or ES256."""
        return JWT_ALG[self.key_type]

    def uncompressed(self) -> bytes:
        """The 65-byte SEC1 form, for libraries or legacy documents that want it."""
        return points.decompress(self.key_type, self.compressed)

    def multikey(self) -> str:
        """The `publicKeyMultibase` of a `Multikey` verification method."""
        return multibase_encode(_PREFIX[self.key_type] + self.compressed)

    def did(self) -> str:
        """`did:key:` + Multikey."""
        return DID_KEY_PREFIX + self.multikey()


def format_multikey(key_type: str, pub: bytes) -> str:
    """Multikey text for a public key given compressed or uncompressed (stored compressed)."""
    kt = check_key_type(key_type)
    return PublicKey(kt, points.compress(kt, pub)).multikey()


def format_did_key(key_type: str, pub: bytes) -> str:
    """did:key text for a public key given compressed or uncompressed (stored compressed)."""
    return DID_KEY_PREFIX + format_multikey(key_type, pub)


def parse_multikey(text: str) -> PublicKey:
    """Parse a Multikey: k256 or p256 codec, 33-byte compressed point on the curve."""
    if len(text) > _MAX_TEXT:
        raise InvalidKey("multikey is too long")
    data = multibase_decode(text)
    codec, used = decode_varint(data)
    key_type = _CODEC.get(codec)
    if key_type is None:
        raise UnsupportedKeyType(f"unsupported multicodec 0x{codec:x} (want k256 or p256)")
    key = data[used:]
    if len(key) != points.COMPRESSED_LENGTH:
        raise InvalidKey(f"multikey must hold a 33-byte compressed point, got {len(key)} bytes")
    return PublicKey(key_type, points.compress(key_type, key))


def parse_did_key(text: str) -> PublicKey:
    """Parse `did:key:z...` (k256 or p256 only); anything else raises a `CryptoError`."""
    if not text.startswith(DID_KEY_PREFIX):
        raise InvalidKey(f"not a did:key: {text[:80]!r}")
    return parse_multikey(text[len(DID_KEY_PREFIX) :])


def parse_legacy_multibase(suite: str, text: str) -> PublicKey:
    """Parse the deprecated DID-document key: bare point bytes, curve named by `suite`.

    The spec describes these as uncompressed, but documents in the wild (and the interop
    fixtures) carry compressed points too, so both are read and normalized.
    """
    key_type = LEGACY_SUITES.get(suite)
    if key_type is None:
        raise UnsupportedKeyType(f"unsupported verification method type: {suite[:80]!r}")
    if len(text) > _MAX_TEXT:
        raise InvalidKey("publicKeyMultibase is too long")
    return PublicKey(key_type, points.compress(key_type, multibase_decode(text)))


def parse_verification_method(method_type: str, public_key_multibase: str) -> PublicKey:
    """Key of a DID-document verification method, `Multikey` or a legacy 2019 suite."""
    if method_type == MULTIKEY_TYPE:
        return parse_multikey(public_key_multibase)
    return parse_legacy_multibase(method_type, public_key_multibase)
