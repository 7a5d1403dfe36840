"""atproto keys and signatures (k256 and p256), per the atproto cryptography spec."""

from domain.crypto.did_key import (
    PublicKey,
    format_did_key,
    format_multikey,
    parse_did_key,
    parse_legacy_multibase,
    parse_multikey,
    parse_verification_method,
)
from domain.crypto.errors import CryptoError, InvalidKey, InvalidSignature, UnsupportedKeyType
from domain.crypto.k256 import K256Keypair, verify_k256
from domain.crypto.key_type import JWT_ALG, KeyType, jwt_alg, key_type_for_jwt_alg
from domain.crypto.keys import (
    Keypair,
    check_signature,
    generate_keypair,
    keypair_from_private,
    verify_public_key,
    verify_signature,
)
from domain.crypto.p256 import P256Keypair, verify_p256

__all__ = [
    "JWT_ALG",
    "CryptoError",
    "InvalidKey",
    "InvalidSignature",
    "K256Keypair",
    "KeyType",
    "Keypair",
    "P256Keypair",
    "PublicKey",
    "UnsupportedKeyType",
    "check_signature",
    "format_did_key",
    "format_multikey",
    "generate_keypair",
    "jwt_alg",
    "key_type_for_jwt_alg",
    "keypair_from_private",
    "parse_did_key",
    "parse_legacy_multibase",
    "parse_multikey",
    "parse_verification_method",
    "verify_k256",
    "verify_p256",
    "verify_public_key",
    "verify_signature",
]
