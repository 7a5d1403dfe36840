"""The verified-token cache: a token checked once answers from memory, and still expires.

Only the checks that do not depend on the time are remembered; every verification of a
cached token re-checks `exp` and `nbf` against the clock, and asks for the same `typ`.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.security import jwt_hs256
from adapters.security.jwt_hs256 import HS256Signer
from application.auth_errors import ExpiredToken, InvalidToken
from tests.fakes.credentials import FakeClock
from tests.unit.test_jwt_hs256 import NOW, SECRET, claims, sign


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def signer(clock: FakeClock) -> HS256Signer:
    return HS256Signer(SECRET, clock=clock)


def test_cached_token_expires_when_the_clock_passes_exp(
    signer: HS256Signer, clock: FakeClock
) -> None:
    token = signer.issue(claims(), "at+jwt")
    assert signer.verify(token, "at+jwt")["sub"] == "did:plc:alice"
    clock.advance(60 + 6)  # exp + leeway
    with pytest.raises(ExpiredToken):
        signer.verify(token, "at+jwt")
    assert signer.verify(token, "at+jwt", allow_expired=True)["exp"] == NOW + 60


def test_cached_token_is_refused_as_another_type(signer: HS256Signer) -> None:
    token = signer.issue(claims(), "at+jwt")
    signer.verify(token, "at+jwt")
    with pytest.raises(InvalidToken, match="Wrong token type"):
        signer.verify(token, "refresh+jwt")
    assert signer.verify(token, "at+jwt")["sub"] == "did:plc:alice"


def test_cached_token_rechecks_nbf_when_the_clock_goes_back(
    signer: HS256Signer, clock: FakeClock
) -> None:
    token = signer.issue(claims(nbf=NOW), "at+jwt")
    signer.verify(token, "at+jwt")
    clock.now = NOW - 60
    with pytest.raises(InvalidToken, match="not yet valid"):
        signer.verify(token, "at+jwt")


def test_changing_returned_claims_does_not_change_the_next_answer(signer: HS256Signer) -> None:
    token = signer.issue(claims(scope="com.atproto.access"), "at+jwt")
    first = signer.verify(token, "at+jwt")
    first["scope"] = "com.atproto.refresh"
    first["sub"] = "did:plc:mallory"
    assert signer.verify(token, "at+jwt") == claims(scope="com.atproto.access")


def test_refused_tokens_are_not_remembered(signer: HS256Signer) -> None:
    forged = sign({"alg": "HS256", "typ": "at+jwt"}, claims(), secret=b"x" * 32)
    for _ in range(2):
        with pytest.raises(InvalidToken):
            signer.verify(forged, "at+jwt")
    assert forged not in signer._verified


def test_first_verification_of_an_expired_token_is_expired_and_stays_so(
    signer: HS256Signer, clock: FakeClock
) -> None:
    token = signer.issue(claims(), "at+jwt")
    clock.advance(3600)
    for _ in range(2):
        with pytest.raises(ExpiredToken):
            signer.verify(token, "at+jwt")


def test_cache_holds_at_most_its_size_and_forgets_the_oldest(
    signer: HS256Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jwt_hs256, "VERIFIED_CACHE_SIZE", 3)
    tokens = [signer.issue(claims(n=n), "at+jwt") for n in range(5)]
    for token in tokens:
        signer.verify(token, "at+jwt")
    assert list(signer._verified) == tokens[2:]
    assert [signer.verify(token, "at+jwt")["n"] for token in tokens] == list(range(5))


@given(
    st.integers(min_value=-100, max_value=100),
    st.integers(min_value=-100, max_value=100),
    st.one_of(st.none(), st.integers(min_value=-100, max_value=100)),
    st.booleans(),
)
def test_cached_and_fresh_signers_give_the_same_answer(
    later: int, exp_offset: int, nbf_offset: int | None, allow_expired: bool
) -> None:
    """Verify once at NOW (filling the cache), then at NOW + later: as a fresh signer would."""
    extra: dict[str, Any] = {} if nbf_offset is None else {"nbf": NOW + nbf_offset}
    clock = FakeClock(NOW)
    cached = HS256Signer(SECRET, clock=clock)
    token = cached.issue({"sub": "did:plc:alice", "exp": NOW + exp_offset, **extra}, "at+jwt")
    with contextlib.suppress(InvalidToken):  # a future nbf: refused, yet remembered
        cached.verify(token, "at+jwt", allow_expired=True)
    clock.advance(later)
    fresh = HS256Signer(SECRET, clock=clock)
    assert _outcome(cached, token, allow_expired) == _outcome(fresh, token, allow_expired)


def _outcome(signer: HS256Signer, token: str, allow_expired: bool) -> object:
    try:
        return signer.verify(token, "at+jwt", allow_expired=allow_expired)
    except (InvalidToken, ExpiredToken) as exc:
        return (type(exc), str(exc))
