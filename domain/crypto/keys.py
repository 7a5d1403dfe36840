"""Curve-agnostic entry points: the `Keypair` protocol and did:key signature verification."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

from domain.crypto.did_key import PublicKey, parse_did_key
from domain.crypto.errors import InvalidSignature
from domain.crypto.k256 import K256Keypair, verify_k256
from domain.crypto.key_type import JWT_ALG, KeyType, check_key_type, jwt_alg
from domain.crypto.p256 import P256Keypair, verify_p256

__all__ = [
    "JWT_ALG",
    "Keypair",
    "check_signature",
    "generate_keypair",
    "jwt_alg",
    "keypair_from_private",
    "verify_public_key",
    "verify_signature",
]


class Keypair(Protocol):
    """What signers need of a key: `K256Keypair` and `P256Keypair` both fit."""

    @property
    def key_type(self) -> KeyType:
        """ "k256" or "p256"."""
        ...

    @property
    def jwt_alg(self) -> str:
        """ES256K or ES256."""
        ...

    @property
    def public_key(self) -> PublicKey:
        """The public half."""
        ...

    @property
    def public_key_compressed(self) -> bytes:
        """33-byte SEC1 compressed public key."""
        ...

    def sign(self, msg: bytes) -> bytes:
        """sha-256 `msg` and return the compact 64-byte low-S ECDSA signature."""
        ...

    def did(self) -> str:
        """did:key of the public key."""
        ...

    def private_key_bytes(self) -> bytes:
        """32-byte big-endian private key."""
        ...


def keypair_from_private(key_type: str, raw: bytes) -> Keypair:
    """Load a stored 32-byte private key of the named type ("k256" or "p256")."""
    if check_key_type(key_type) == "k256":
        return K256Keypair(raw)
    return P256Keypair(raw)


def generate_keypair(
    key_type: str = "k256", random_bytes: Callable[[int], bytes] = secrets.token_bytes
) -> Keypair:
    """A fresh keypair; k256 is the atproto default."""
    if check_key_type(key_type) == "k256":
        return K256Keypair.generate(random_bytes)
    return P256Keypair.generate(random_bytes)


def verify_public_key(key: PublicKey, msg: bytes, sig: bytes) -> bool:
    """Strictly verify `sig` over `msg` under an already-parsed key."""
    if key.key_type == "k256":
        return verify_k256(key.compressed, msg, sig)
    return verify_p256(key.compressed, msg, sig)


# Commit and PLC verification see the same few did:keys over and over; parsing one means
# base58 plus a point decompression, so keep the parsed form.
_parse_cached = lru_cache(maxsize=16384)(parse_did_key)


def verify_signature(did_key: str, msg: bytes, sig: bytes) -> bool:
    """Does `sig` (64-byte low-S `r||s`) sign sha-256(`msg`) under `did_key`?

    A malformed or non-canonical signature is False. A did:key that cannot be parsed
    raises a `CryptoError` (a `ValueError`): a bad key is a caller's problem, not a forgery.
    """
    return verify_public_key(_parse_cached(did_key), msg, sig)


def check_signature(did_key: str, msg: bytes, sig: bytes) -> None:
    """Raise `InvalidSignature` unless `verify_signature` holds, for raise-style callers."""
    if not verify_signature(did_key, msg, sig):
        raise InvalidSignature(f"signature does not verify under {did_key[:80]}")
