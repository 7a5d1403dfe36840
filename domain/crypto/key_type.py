"""The two curves atproto uses, and their names in JWT `alg` headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from domain.crypto.errors import UnsupportedKeyType

KeyType = Literal["k256", "p256"]

K256: Final = "k256"
P256: Final = "p256"

JWT_ALG: Final[Mapping[KeyType, str]] = {"k256": "ES256K", "p256": "ES256"}
_BY_JWT_ALG: Final[Mapping[str, KeyType]] = {alg: kt for kt, alg in JWT_ALG.items()}


def check_key_type(value: str) -> KeyType:
    """Narrow a stored or received string to a `KeyType`, or raise `UnsupportedKeyType`."""
    if value == "k256":
        return "k256"
    if value == "p256":
        return "p256"
    raise UnsupportedKeyType(f"unsupported key type: {value[:40]!r} (want k256 or p256)")


def jwt_alg(key_type: str) -> str:
    """JWT `alg` for a key type: ES256K for k256, ES256 for p256."""
    return JWT_ALG[check_key_type(key_type)]


def key_type_for_jwt_alg(alg: str) -> KeyType:
    """Inverse of `jwt_alg`; anything but ES256K/ES256 is `UnsupportedKeyType`."""
    try:
        return _BY_JWT_ALG[alg]
    except KeyError:
        raise UnsupportedKeyType(f"unsupported JWT alg: {alg[:40]!r}") from None
