"""Service tokens: what getServiceAuth signs, read back and verified, for both curves."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.crypto.k256 import K256Keypair
from domain.crypto.p256 import P256Keypair
from domain.crypto.service_jwt import (
    MalformedServiceJwt,
    ServiceClaims,
    read_service_jwt,
    sign_service_jwt,
    verify_service_jwt,
)

K256 = K256Keypair.from_private_key(bytes(range(1, 33)))
P256 = P256Keypair.from_private_key(bytes(range(2, 34)))
CLAIMS = ServiceClaims(
    iss="did:plc:ewvi7nxzyoun6zhxrhs64oiz",
    aud="did:web:video.bsky.app",
    iat=1_700_000_000,
    exp=1_700_000_060,
    jti="0123456789abcdef0123456789abcdef",
    lxm="com.atproto.repo.uploadBlob",
)


@pytest.mark.parametrize(("keypair", "alg"), [(K256, "ES256K"), (P256, "ES256")])
def test_a_token_reads_back_and_verifies_under_its_key(keypair: K256Keypair, alg: str) -> None:
    token = sign_service_jwt(keypair, CLAIMS)
    header, payload = read_service_jwt(token)
    assert header == {"typ": "JWT", "alg": alg}
    assert payload == {
        "iat": CLAIMS.iat, "iss": CLAIMS.iss, "aud": CLAIMS.aud, "exp": CLAIMS.exp,
        "lxm": CLAIMS.lxm, "jti": CLAIMS.jti,
    }  # fmt: skip
    assert "=" not in token
    assert verify_service_jwt(token, keypair.did())


def test_a_method_less_token_has_no_lxm_claim() -> None:
    claims = ServiceClaims(CLAIMS.iss, CLAIMS.aud, CLAIMS.iat, CLAIMS.exp, CLAIMS.jti)
    assert "lxm" not in read_service_jwt(sign_service_jwt(K256, claims))[1]


def _segment(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_another_key_or_an_altered_payload_does_not_verify() -> None:
    token = sign_service_jwt(K256, CLAIMS)
    assert not verify_service_jwt(token, K256Keypair.generate().did())
    header, _, sig = token.split(".")
    forged = f"{header}.{_segment({**CLAIMS.to_json(), 'aud': 'did:web:evil.example'})}.{sig}"
    assert not verify_service_jwt(forged, K256.did())


_DEEP = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "!!.??.xx", f"{_segment({})}.bm90IGpzb24.c2ln", "e30.W10.c2ln",
     f"e30.{_DEEP[:8000]}.c2ln", "e30." + "A" * 9000 + ".c2ln"],
)  # fmt: skip
def test_malformed_tokens_are_refused_not_crashed_on(token: str) -> None:
    assert not verify_service_jwt(token, K256.did())
    with pytest.raises(MalformedServiceJwt):
        read_service_jwt(token)


@given(
    aud=st.text(min_size=1, max_size=40),
    lxm=st.none() | st.text(min_size=1, max_size=40),
    exp=st.integers(min_value=0, max_value=2**53),
)
def test_any_claims_round_trip_and_verify(aud: str, lxm: str | None, exp: int) -> None:
    claims = ServiceClaims(CLAIMS.iss, aud, CLAIMS.iat, exp, CLAIMS.jti, lxm)
    token = sign_service_jwt(K256, claims)
    assert read_service_jwt(token)[1] == claims.to_json()
    assert verify_service_jwt(token, K256.did())


_B64URL = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


@given(st.one_of(st.text(max_size=300), st.lists(_B64URL, min_size=0, max_size=5).map(".".join)))
def test_any_string_is_read_or_refused_never_crashed_on(token: str) -> None:
    """Fuzz: arbitrary text and base64url-looking segments alike."""
    try:
        header, payload = read_service_jwt(token)
    except MalformedServiceJwt:
        pass
    else:
        assert type(header) is dict and type(payload) is dict
    assert verify_service_jwt(token, K256.did()) in (True, False)
