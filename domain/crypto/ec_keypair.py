"""What the k256 and p256 keypairs share: the public half, its did:key, and how to make one.

Each curve module supplies the private-key operations (construction from the 32-byte
scalar, signing, export); everything derived from the public key lives here once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import ClassVar, Self

from domain.crypto._scalar import draw_private_key
from domain.crypto.did_key import PublicKey
from domain.crypto.key_type import KeyType


class EcKeypair:
    """Base of the curve keypairs. `repr` never shows the private key."""

    __slots__ = ("_public",)
    KEY_TYPE: ClassVar[KeyType]
    JWT_ALG: ClassVar[str]
    ORDER: ClassVar[int]

    _public: PublicKey

    def __init__(self, private_key: bytes) -> None:  # pragma: no cover - subclasses define it
        raise NotImplementedError

    @classmethod
    def generate(cls, random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> Self:
        """A fresh key from `random_bytes` (default: the OS CSPRNG via `secrets`)."""
        return cls(draw_private_key(random_bytes, cls.ORDER))

    @classmethod
    def from_private_key(cls, raw: bytes) -> Self:
        """Load a 32-byte big-endian private key."""
        return cls(raw)

    @property
    def key_type(self) -> KeyType:
        """The curve: "k256" or "p256"."""
        return self.KEY_TYPE

    @property
    def jwt_alg(self) -> str:
        """The JWT `alg` this key signs with: ES256K or ES256."""
        return self.JWT_ALG

    @property
    def public_key(self) -> PublicKey:
        """The public half, as parsed did:keys are represented."""
        return self._public

    @property
    def public_key_compressed(self) -> bytes:
        """33-byte SEC1 compressed public key."""
        return self._public.compressed

    def did(self) -> str:
        """did:key of the public key."""
        return self._public.did()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.did()})"
