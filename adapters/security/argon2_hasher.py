"""`PasswordHasher` over argon2id (argon2-cffi), with parameters chosen by the operator."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import Argon2Error, InvalidHashError


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """argon2id cost parameters; `memory_cost` is in KiB."""

    time_cost: int
    memory_cost: int
    parallelism: int
    hash_len: int = 32
    salt_len: int = 16


OWASP = Argon2Params(time_cost=2, memory_cost=19 * 1024, parallelism=1)
"""OWASP's minimum for argon2id (m=19 MiB, t=2, p=1): memory-hard, yet tens of ms a login."""

FAST_FOR_TESTS = Argon2Params(time_cost=1, memory_cost=8, parallelism=1)
"""The smallest argon2 accepts: real hashes, for tests that exercise the adapter itself."""


class Argon2Hasher:
    """argon2id hashes in the PHC string format, so parameters travel with each hash."""

    def __init__(self, params: Argon2Params = OWASP) -> None:
        self.params = params
        self._ph = _Argon2(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=params.hash_len,
            salt_len=params.salt_len,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        """A salted argon2id hash of `password`."""
        return self._ph.hash(_utf8(password))

    def verify(self, hash: str, password: str) -> bool:
        """Whether `password` matches; a corrupt or foreign hash is a mismatch, not an error."""
        try:
            return self._ph.verify(hash, _utf8(password))
        except (Argon2Error, InvalidHashError, ValueError):
            return False

    def needs_rehash(self, hash: str) -> bool:
        """Whether `hash` used other parameters than this hasher's (so login upgrades it)."""
        try:
            return self._ph.check_needs_rehash(hash)
        except (InvalidHashError, ValueError):
            return True


def _utf8(password: str) -> bytes:
    # JSON lets clients send lone surrogates; hash them rather than crash on them.
    return password.encode("utf-8", "surrogatepass")
