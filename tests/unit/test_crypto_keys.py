"""Key encodings (base58btc, multicodec, did:key, Multikey) and keypair construction."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.crypto import (
    JWT_ALG,
    InvalidKey,
    K256Keypair,
    Keypair,
    P256Keypair,
    UnsupportedKeyType,
    format_did_key,
    format_multikey,
    generate_keypair,
    jwt_alg,
    key_type_for_jwt_alg,
    keypair_from_private,
    parse_did_key,
    parse_legacy_multibase,
    parse_multikey,
    parse_verification_method,
)
from domain.crypto.errors import CryptoError
from domain.crypto.k256 import K256_ORDER
from domain.crypto.multibase import (
    K256_PREFIX,
    P256_PREFIX,
    b58decode,
    b58encode,
    decode_varint,
    encode_varint,
    multibase_encode,
)
from domain.crypto.p256 import P256_ORDER

K256 = K256Keypair(bytes.fromhex("11" * 32))
P256 = P256Keypair(bytes.fromhex("22" * 32))
KEYPAIRS: dict[str, Keypair] = {"k256": K256, "p256": P256}

# -- base58btc and varints ------------------------------------------------------------------


@given(st.binary(max_size=80))
def test_base58_agrees_with_multiformats_and_round_trips(data: bytes) -> None:
    from multiformats import multibase

    text = b58encode(data)
    assert "z" + text == multibase.encode(data, "base58btc")
    assert b58decode(text) == data


@pytest.mark.parametrize(
    ("data", "text"),
    [(b"", ""), (b"\0", "1"), (b"\0\0\x01", "112"), (b"hello world", "StV1DL6CwTryKyV")],
)
def test_base58_known_values_keep_leading_zeros(data: bytes, text: str) -> None:
    assert b58encode(data) == text
    assert b58decode(text) == data


@pytest.mark.parametrize("bad", ["0", "O", "I", "l", "abc+", "zé"])
def test_base58_rejects_characters_outside_the_bitcoin_alphabet(bad: str) -> None:
    with pytest.raises(InvalidKey):
        b58decode(bad)


def test_multicodec_prefixes_are_the_spec_varints() -> None:
    assert bytes([0xE7, 0x01]) == K256_PREFIX
    assert bytes([0x80, 0x24]) == P256_PREFIX


@given(st.integers(0, 2**63 - 1))
def test_varints_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded + b"\xff") == (value, len(encoded))


@pytest.mark.parametrize("data", [b"\xe7\x81\x00", b"\x80\x00", b"\x80", b""])
def test_non_minimal_or_truncated_varints_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidKey):
        decode_varint(data)


# -- did:key and Multikey ---------------------------------------------------------------------


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
def test_did_key_round_trips_and_carries_the_curve_prefix(curve: str) -> None:
    keypair = KEYPAIRS[curve]
    did = keypair.did()
    assert did.startswith("did:key:zQ3s" if curve == "k256" else "did:key:zDna")
    key = parse_did_key(did)
    assert key.key_type == curve and key.compressed == keypair.public_key_compressed
    assert format_did_key(curve, key.compressed) == did
    assert parse_multikey(key.multikey()) == key


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
def test_formatting_an_uncompressed_key_compresses_it(curve: str) -> None:
    key = KEYPAIRS[curve].public_key
    uncompressed = key.uncompressed()
    assert len(uncompressed) == 65 and uncompressed[0] == 4
    assert format_did_key(curve, uncompressed) == key.did()
    assert format_multikey(curve, uncompressed) == key.multikey()


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
def test_uncompressed_points_inside_a_did_key_are_refused(curve: str) -> None:
    """One key, one did:key: rotation keys are compared as strings."""
    key = KEYPAIRS[curve].public_key
    prefix = K256_PREFIX if curve == "k256" else P256_PREFIX
    with pytest.raises(InvalidKey):
        parse_did_key("did:key:" + multibase_encode(prefix + key.uncompressed()))


@pytest.mark.parametrize(
    "text",
    [
        "did:web:example.com",
        "did:key:",
        "did:key:z",
        "did:key:Q3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc",  # no multibase prefix
        "did:key:mQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc",  # not base58btc
        "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc0",  # bad character
        "did:key:z" + "2" * 300,
    ],
)
def test_malformed_did_keys_raise_invalid_key(text: str) -> None:
    with pytest.raises(InvalidKey):
        parse_did_key(text)


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
@pytest.mark.parametrize("length", [0, 32, 34])
def test_did_keys_whose_point_is_not_33_bytes_are_refused(curve: str, length: int) -> None:
    key = KEYPAIRS[curve].public_key
    prefix = K256_PREFIX if curve == "k256" else P256_PREFIX
    with pytest.raises(InvalidKey):
        parse_did_key("did:key:" + multibase_encode(prefix + (key.compressed * 2)[:length]))


def test_ed25519_did_keys_are_unsupported() -> None:
    ed25519 = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    with pytest.raises(UnsupportedKeyType):
        parse_did_key(ed25519)


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
def test_an_x_coordinate_off_the_curve_is_refused(curve: str) -> None:
    prefix = K256_PREFIX if curve == "k256" else P256_PREFIX
    for x in range(1, 50):  # about half of all x have no point; find one that does not
        candidate = "did:key:" + multibase_encode(prefix + b"\x02" + x.to_bytes(32, "big"))
        try:
            parse_did_key(candidate)
        except InvalidKey:
            return
    pytest.fail("expected some small x to be off the curve")


@given(st.text(max_size=80))
def test_parse_did_key_raises_only_crypto_errors(text: str) -> None:
    with contextlib.suppress(CryptoError):
        parse_did_key("did:key:" + text)


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
def test_legacy_uncompressed_document_keys_parse(curve: str) -> None:
    key = KEYPAIRS[curve].public_key
    suite = (
        "EcdsaSecp256k1VerificationKey2019"
        if curve == "k256"
        else ("EcdsaSecp256r1VerificationKey2019")
    )
    assert parse_legacy_multibase(suite, multibase_encode(key.uncompressed())) == key
    assert parse_verification_method("Multikey", key.multikey()) == key


def test_unknown_verification_method_types_are_unsupported() -> None:
    with pytest.raises(UnsupportedKeyType):
        parse_verification_method("Ed25519VerificationKey2020", "z6Mk")


# -- keypairs ------------------------------------------------------------------------------------


def test_jwt_alg_names() -> None:
    assert jwt_alg("k256") == "ES256K" == K256.jwt_alg == K256.public_key.jwt_alg
    assert jwt_alg("p256") == "ES256" == P256.jwt_alg == P256.public_key.jwt_alg
    assert {key_type_for_jwt_alg(alg) for alg in JWT_ALG.values()} == {"k256", "p256"}
    with pytest.raises(UnsupportedKeyType):
        key_type_for_jwt_alg("ES384")


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
def test_private_key_bytes_round_trip_through_keypair_from_private(curve: str) -> None:
    keypair = KEYPAIRS[curve]
    raw = keypair.private_key_bytes()
    assert len(raw) == 32
    loaded = keypair_from_private(curve, raw)
    assert loaded.key_type == curve and loaded.did() == keypair.did()


def test_unknown_key_types_are_unsupported() -> None:
    with pytest.raises(UnsupportedKeyType):
        keypair_from_private("ed25519", b"\x01" * 32)


@pytest.mark.parametrize(("curve", "order"), [("k256", K256_ORDER), ("p256", P256_ORDER)])
@pytest.mark.parametrize("raw", ["zero", "order", "short", "long"])
def test_out_of_range_private_keys_are_refused(curve: str, order: int, raw: str) -> None:
    value = {
        "zero": bytes(32),
        "order": order.to_bytes(32, "big"),
        "short": b"\x01" * 31,
        "long": b"\x01" * 33,
    }[raw]
    with pytest.raises(InvalidKey):
        keypair_from_private(curve, value)


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
def test_generation_takes_injected_randomness_and_skips_invalid_draws(curve: str) -> None:
    draws = iter([bytes(32), b"\xff" * 32, b"\x07" * 32])
    keypair = generate_keypair(curve, lambda n: next(draws))
    assert keypair.private_key_bytes() == b"\x07" * 32


def test_a_random_source_that_never_yields_a_valid_key_raises() -> None:
    with pytest.raises(CryptoError):
        K256Keypair.generate(lambda n: bytes(n))


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
def test_repr_shows_the_did_not_the_private_key(curve: str) -> None:
    keypair = KEYPAIRS[curve]
    text = repr(keypair)
    assert keypair.did() in text
    assert keypair.private_key_bytes().hex() not in text
