"""HS256 JWTs: round trip, and every malformed or forged token is `InvalidToken`, nothing else."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.security.jwt_hs256 import HS256Signer
from application.auth_errors import ExpiredToken, InvalidToken
from tests.fakes.credentials import FakeClock

SECRET = b"k" * 32
NOW = 1_700_000_000


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(header: Any, claims: Any, secret: bytes = SECRET, raw: bool = False) -> str:
    """A token built by hand, so tests can sign headers the signer itself never writes."""
    h = header if raw else b64(json.dumps(header).encode())
    p = claims if raw else b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64(mac)}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def signer(clock: FakeClock) -> HS256Signer:
    return HS256Signer(SECRET, clock=clock)


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "did:plc:alice", "exp": NOW + 60, **extra}


def test_issued_token_verifies_to_its_claims(signer: HS256Signer) -> None:
    token = signer.issue(claims(scope="com.atproto.access", nested={"a": [1, "é"]}), "at+jwt")
    assert signer.verify(token, "at+jwt") == claims(
        scope="com.atproto.access", nested={"a": [1, "é"]}
    )


def test_issued_header_is_exactly_alg_and_typ(signer: HS256Signer) -> None:
    header = json.loads(base64.urlsafe_b64decode(signer.issue(claims(), "at+jwt").split(".")[0]))
    assert header == {"alg": "HS256", "typ": "at+jwt"}


def test_token_by_an_independent_hs256_implementation_verifies(signer: HS256Signer) -> None:
    token = sign({"typ": "at+jwt", "alg": "HS256"}, claims(x=1))
    assert signer.verify(token, "at+jwt")["x"] == 1


def test_tampered_payload_is_invalid(signer: HS256Signer) -> None:
    header, _, sig = signer.issue(claims(), "at+jwt").split(".")
    forged = b64(json.dumps(claims(sub="did:plc:mallory")).encode())
    with pytest.raises(InvalidToken):
        signer.verify(f"{header}.{forged}.{sig}", "at+jwt")


def test_tampered_signature_is_invalid(signer: HS256Signer) -> None:
    token = signer.issue(claims(), "at+jwt")
    head, _, sig = token.rpartition(".")
    flipped = bytearray(base64.urlsafe_b64decode(sig + "="))
    flipped[0] ^= 1
    with pytest.raises(InvalidToken):
        signer.verify(f"{head}.{b64(bytes(flipped))}", "at+jwt")


def test_other_secret_is_invalid(signer: HS256Signer) -> None:
    with pytest.raises(InvalidToken):
        signer.verify(sign({"alg": "HS256", "typ": "at+jwt"}, claims(), b"o" * 32), "at+jwt")


def test_wrong_typ_is_invalid(signer: HS256Signer) -> None:
    with pytest.raises(InvalidToken, match="type"):
        signer.verify(signer.issue(claims(), "refresh+jwt"), "at+jwt")


def test_missing_typ_is_invalid(signer: HS256Signer) -> None:
    with pytest.raises(InvalidToken):
        signer.verify(sign({"alg": "HS256"}, claims()), "at+jwt")


@pytest.mark.parametrize("alg", ["none", "None", "HS512", "RS256", "ES256K", "hs256", None])
def test_any_alg_but_hs256_is_invalid_even_when_hmac_signed(signer: HS256Signer, alg: Any) -> None:
    with pytest.raises(InvalidToken):
        signer.verify(sign({"alg": alg, "typ": "at+jwt"}, claims()), "at+jwt")


def test_unsigned_alg_none_token_is_invalid(signer: HS256Signer) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
    payload = b64(json.dumps(claims()).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        with pytest.raises(InvalidToken):
            signer.verify(token, "at+jwt")


def test_crit_header_is_invalid(signer: HS256Signer) -> None:
    with pytest.raises(InvalidToken):
        signer.verify(sign({"alg": "HS256", "typ": "at+jwt", "crit": ["x"]}, claims()), "at+jwt")


def test_expired_token_is_expired_not_invalid(signer: HS256Signer, clock: FakeClock) -> None:
    token = signer.issue(claims(), "at+jwt")
    clock.advance(60 + 5)
    with pytest.raises(ExpiredToken):
        signer.verify(token, "at+jwt")


def test_expiry_has_a_few_seconds_of_leeway(signer: HS256Signer, clock: FakeClock) -> None:
    token = signer.issue(claims(), "at+jwt")
    clock.advance(60 + 4)
    signer.verify(token, "at+jwt")


def test_expired_token_passes_when_expiry_is_waived(signer: HS256Signer, clock: FakeClock) -> None:
    token = signer.issue(claims(), "refresh+jwt")
    clock.advance(10**6)
    assert signer.verify(token, "refresh+jwt", allow_expired=True)["sub"] == "did:plc:alice"


def test_expired_forgery_is_invalid_not_expired(signer: HS256Signer) -> None:
    token = sign({"alg": "HS256", "typ": "at+jwt"}, claims(exp=1), b"o" * 32)
    with pytest.raises(InvalidToken):
        signer.verify(token, "at+jwt")


@pytest.mark.parametrize("exp", [None, "1800000000", 1.8e9, True, [1]])
def test_exp_must_be_an_integer(signer: HS256Signer, exp: Any) -> None:
    body = claims(exp=exp) if exp is not None else {"sub": "did:plc:alice"}
    with pytest.raises(InvalidToken):
        signer.verify(sign({"alg": "HS256", "typ": "at+jwt"}, body), "at+jwt")


def test_future_nbf_is_invalid(signer: HS256Signer) -> None:
    with pytest.raises(InvalidToken, match="not yet"):
        signer.verify(signer.issue(claims(nbf=NOW + 600), "at+jwt"), "at+jwt")


@pytest.mark.parametrize("payload", ["[1,2]", '"text"', "null", "1", "{", "{}x"])
def test_payload_must_be_one_json_object(signer: HS256Signer, payload: str) -> None:
    token = sign(b64(b'{"alg":"HS256","typ":"at+jwt"}'), b64(payload.encode()), raw=True)
    with pytest.raises(InvalidToken):
        signer.verify(token, "at+jwt")


def test_padded_or_non_canonical_base64_is_invalid(signer: HS256Signer) -> None:
    token = signer.issue(claims(), "at+jwt")
    head, _, sig = token.rpartition(".")
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # 32 bytes -> 43 chars: the last char carries 2 unused bits; setting one is another spelling.
    alt = sig[:-1] + last[last.index(sig[-1]) ^ 1]
    for bad in (f"{token}=", f"{head}.{alt}", f"{head}.{sig[:-1]}+"):
        with pytest.raises(InvalidToken):
            signer.verify(bad, "at+jwt")


def test_overlong_token_is_invalid_without_work(signer: HS256Signer) -> None:
    with pytest.raises(InvalidToken):
        signer.verify(signer.issue(claims(pad="x" * 10_000), "at+jwt"), "at+jwt")


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        HS256Signer(b"short")


@given(st.text())
def test_arbitrary_strings_are_invalid_tokens(token: str) -> None:
    signer = HS256Signer(SECRET, clock=FakeClock(NOW))
    with pytest.raises(InvalidToken):
        signer.verify(token, "at+jwt")


_b64_segment = st.binary(max_size=64).map(b64)
_any_segment = st.one_of(_b64_segment, st.text(max_size=40))


@given(st.lists(_any_segment, min_size=0, max_size=5).map(".".join))
def test_arbitrary_dotted_segments_are_invalid_tokens(token: str) -> None:
    signer = HS256Signer(SECRET, clock=FakeClock(NOW))
    with pytest.raises(InvalidToken):
        signer.verify(token, "at+jwt")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(header=_json_values, payload=_json_values)
def test_correctly_signed_garbage_is_invalid_or_accepted_never_a_crash(
    header: Any, payload: Any
) -> None:
    """Even with the right key, odd JSON must only ever yield claims or an auth error."""
    signer = HS256Signer(SECRET, clock=FakeClock(NOW))
    token = sign(header, payload)
    try:
        result = signer.verify(token, "at+jwt")
    except (InvalidToken, ExpiredToken):
        return
    assert isinstance(result, dict)


@given(
    st.dictionaries(
        st.text(max_size=8).filter(lambda k: k not in ("exp", "nbf")), _json_values, max_size=4
    )
)
def test_any_json_claims_round_trip(extra: dict[str, Any]) -> None:
    signer = HS256Signer(SECRET, clock=FakeClock(NOW))
    body = {**extra, "exp": NOW + 60}
    decoded = signer.verify(signer.issue(body, "at+jwt"), "at+jwt")
    assert json.dumps(decoded, sort_keys=True) == json.dumps(body, sort_keys=True)
