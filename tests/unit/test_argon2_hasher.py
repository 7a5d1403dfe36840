"""argon2id hasher: real hashes, mismatches are False, parameter changes trigger a rehash."""

from __future__ import annotations

import pytest

from adapters.security.argon2_hasher import FAST_FOR_TESTS, OWASP, Argon2Hasher, Argon2Params
from application.ports.credentials import PasswordHasher


@pytest.fixture
def hasher() -> PasswordHasher:
    return Argon2Hasher(FAST_FOR_TESTS)


def test_hash_is_salted_argon2id_that_verifies(hasher: PasswordHasher) -> None:
    one, two = hasher.hash("hunter2"), hasher.hash("hunter2")
    assert one.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert one != two
    assert hasher.verify(one, "hunter2") and hasher.verify(two, "hunter2")


def test_wrong_password_is_false(hasher: PasswordHasher) -> None:
    assert not hasher.verify(hasher.hash("hunter2"), "hunter3")


@pytest.mark.parametrize(
    "stored", ["", "plain", "$argon2id$v=19$m=8,t=1,p=1$AAAA$BBBB", "$2b$12$x"]
)
def test_corrupt_or_foreign_hash_is_false_not_an_error(hasher: PasswordHasher, stored: str) -> None:
    assert not hasher.verify(stored, "hunter2")
    assert hasher.needs_rehash(stored)


def test_lone_surrogates_hash_rather_than_crash(hasher: PasswordHasher) -> None:
    assert hasher.verify(hasher.hash("a\ud800b"), "a\ud800b")
    assert not hasher.verify(hasher.hash("a\ud800b"), "a\ud801b")


def test_stronger_parameters_ask_for_a_rehash_and_still_verify_old_hashes() -> None:
    weak = Argon2Hasher(FAST_FOR_TESTS).hash("hunter2")
    stronger = Argon2Hasher(Argon2Params(time_cost=2, memory_cost=16, parallelism=1))
    assert stronger.needs_rehash(weak)
    assert stronger.verify(weak, "hunter2")
    assert not stronger.needs_rehash(stronger.hash("hunter2"))


def test_default_parameters_are_owasps_argon2id_minimum() -> None:
    assert (OWASP.time_cost, OWASP.memory_cost, OWASP.parallelism) == (2, 19 * 1024, 1)
    assert Argon2Hasher().params == OWASP
