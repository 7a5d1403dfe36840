"""Signing and strict verification on both curves: canonical output, nothing else accepted."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from domain.crypto import (
    CryptoError,
    InvalidKey,
    InvalidSignature,
    K256Keypair,
    Keypair,
    P256Keypair,
    check_signature,
    verify_k256,
    verify_p256,
    verify_signature,
)
from domain.crypto.compact import is_low_s
from domain.crypto.k256 import K256_ORDER
from domain.crypto.p256 import P256_ORDER

ORDER = {"k256": K256_ORDER, "p256": P256_ORDER}
VERIFY: dict[str, Callable[[bytes, bytes, bytes], bool]] = {
    "k256": verify_k256,
    "p256": verify_p256,
}
# Fixed keys keep hypothesis examples cheap and reproducible.
KEYPAIRS: dict[str, Keypair] = {
    "k256": K256Keypair(bytes.fromhex("11" * 32)),
    "p256": P256Keypair(bytes.fromhex("22" * 32)),
}
CURVES = sorted(KEYPAIRS)


def _rs(sig: bytes) -> tuple[int, int]:
    return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")


def _compact(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@pytest.mark.parametrize("curve", CURVES)
@given(msg=st.binary(max_size=512))
def test_a_signature_verifies_under_its_own_did_key(curve: str, msg: bytes) -> None:
    keypair = KEYPAIRS[curve]
    sig = keypair.sign(msg)
    assert verify_signature(keypair.did(), msg, sig)
    assert VERIFY[curve](keypair.public_key_compressed, msg, sig)
    assert VERIFY[curve](keypair.public_key.uncompressed(), msg, sig)


@pytest.mark.parametrize("curve", CURVES)
@given(msg=st.binary(max_size=512))
def test_produced_signatures_are_64_bytes_and_low_s(curve: str, msg: bytes) -> None:
    sig = KEYPAIRS[curve].sign(msg)
    assert len(sig) == 64
    assert is_low_s(sig, ORDER[curve])


@pytest.mark.parametrize("curve", CURVES)
def test_fresh_keys_also_sign_low_s_every_time(curve: str) -> None:
    keypair = K256Keypair.generate() if curve == "k256" else P256Keypair.generate()
    for i in range(200):
        assert is_low_s(keypair.sign(i.to_bytes(4, "big")), ORDER[curve])


@pytest.mark.parametrize("curve", CURVES)
def test_signing_is_deterministic(curve: str) -> None:
    keypair = KEYPAIRS[curve]
    assert keypair.sign(b"same bytes") == keypair.sign(b"same bytes")


@pytest.mark.parametrize("curve", CURVES)
@given(msg=st.binary(max_size=128), bit=st.integers(0, 511))
def test_any_flipped_signature_bit_fails(curve: str, msg: bytes, bit: int) -> None:
    keypair = KEYPAIRS[curve]
    sig = bytearray(keypair.sign(msg))
    sig[bit // 8] ^= 1 << (bit % 8)
    assert not verify_signature(keypair.did(), msg, bytes(sig))


@pytest.mark.parametrize("curve", CURVES)
def test_a_different_message_fails(curve: str) -> None:
    keypair = KEYPAIRS[curve]
    assert not verify_signature(keypair.did(), b"other", keypair.sign(b"message"))


@pytest.mark.parametrize("curve", CURVES)
def test_another_keys_signature_fails(curve: str) -> None:
    other = K256Keypair.generate() if curve == "k256" else P256Keypair.generate()
    assert not verify_signature(KEYPAIRS[curve].did(), b"m", other.sign(b"m"))


@pytest.mark.parametrize("curve", CURVES)
def test_the_high_s_twin_of_a_valid_signature_fails(curve: str) -> None:
    keypair = KEYPAIRS[curve]
    r, s = _rs(keypair.sign(b"m"))
    assert not verify_signature(keypair.did(), b"m", _compact(r, ORDER[curve] - s))


@pytest.mark.parametrize("curve", CURVES)
def test_the_der_form_of_a_valid_signature_fails(curve: str) -> None:
    keypair = KEYPAIRS[curve]
    der = encode_dss_signature(*_rs(keypair.sign(b"m")))
    assert not verify_signature(keypair.did(), b"m", der)


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda r, s, n: (0, s), id="r-zero"),
        pytest.param(lambda r, s, n: (r, 0), id="s-zero"),
        pytest.param(lambda r, s, n: (2**256 - 1, s), id="r-all-ones"),
        pytest.param(lambda r, s, n: (n, s), id="r-equals-order"),
    ],
)
def test_out_of_range_r_or_s_fails(
    curve: str, mangle: Callable[[int, int, int], tuple[int, int]]
) -> None:
    keypair = KEYPAIRS[curve]
    r, s = mangle(*_rs(keypair.sign(b"m")), ORDER[curve])
    assert not verify_signature(keypair.did(), b"m", _compact(r, s))


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize("length", [0, 63, 65, 70, 72])
def test_signatures_of_the_wrong_length_fail(curve: str, length: int) -> None:
    keypair = KEYPAIRS[curve]
    sig = (keypair.sign(b"m") * 2)[:length]
    assert not verify_signature(keypair.did(), b"m", sig)


@pytest.mark.parametrize("curve", CURVES)
@given(sig=st.binary(max_size=80), msg=st.binary(max_size=64))
def test_arbitrary_signature_bytes_are_simply_false(curve: str, sig: bytes, msg: bytes) -> None:
    assert not verify_signature(KEYPAIRS[curve].did(), msg, sig)


@pytest.mark.parametrize("curve", CURVES)
@given(
    pub=st.one_of(
        st.binary(max_size=70),
        st.builds(
            lambda p, b: p + b,
            st.sampled_from([b"\x02", b"\x03"]),
            st.binary(min_size=32, max_size=32),
        ),
        st.builds(lambda b: b"\x04" + b, st.binary(min_size=64, max_size=64)),
    ),
    sig=st.binary(max_size=72),
)
def test_verify_on_garbage_is_false_or_a_crypto_error(curve: str, pub: bytes, sig: bytes) -> None:
    with contextlib.suppress(CryptoError):
        assert VERIFY[curve](pub, b"m", sig) is False


@pytest.mark.parametrize("curve", CURVES)
def test_an_off_curve_key_raises_invalid_key(curve: str) -> None:
    off_curve = b"\x04" + b"\x01" * 64
    with pytest.raises(InvalidKey):
        VERIFY[curve](off_curve, b"m", KEYPAIRS[curve].sign(b"m"))


def test_hybrid_encoded_k256_keys_are_refused() -> None:
    """libsecp256k1 parses the obsolete 06/07 form; a third spelling of a key is not wanted."""
    uncompressed = KEYPAIRS["k256"].public_key.uncompressed()
    hybrid = bytes([6 + (uncompressed[-1] & 1)]) + uncompressed[1:]
    with pytest.raises(InvalidKey):
        verify_k256(hybrid, b"m", KEYPAIRS["k256"].sign(b"m"))


@pytest.mark.parametrize("curve", CURVES)
def test_check_signature_raises_on_a_bad_signature(curve: str) -> None:
    keypair = KEYPAIRS[curve]
    check_signature(keypair.did(), b"m", keypair.sign(b"m"))
    with pytest.raises(InvalidSignature):
        check_signature(keypair.did(), b"m", keypair.sign(b"n"))
