"""atproto interop vectors: signature strictness and did:key derivation, case by case."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from domain.crypto import (
    K256Keypair,
    P256Keypair,
    parse_did_key,
    parse_verification_method,
    verify_signature,
)
from domain.crypto.compact import join_compact
from domain.crypto.k256 import K256_ORDER
from domain.crypto.multibase import b58decode
from domain.crypto.p256 import P256_ORDER
from tests.conftest import INTEROP

CRYPTO = INTEROP / "crypto"
ORDER = {"ES256K": K256_ORDER, "ES256": P256_ORDER}
KEY_TYPE = {"ES256K": "k256", "ES256": "p256"}


def _load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((CRYPTO / name).read_text())
    return cases


def _b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


SIGNATURES = _load("signature-fixtures.json")
K256_KEYS = _load("w3c_didkey_K256.json")
P256_KEYS = _load("w3c_didkey_P256.json")


def _sig_id(case: dict[str, Any]) -> str:
    tags = "-".join(case["tags"]) or "valid"
    return f"{case['algorithm']}-{tags}"


@pytest.mark.parametrize("case", SIGNATURES, ids=_sig_id)
def test_signature_fixture_verifies_exactly_when_marked_valid(case: dict[str, Any]) -> None:
    msg, sig = _b64(case["messageBase64"]), _b64(case["signatureBase64"])
    assert verify_signature(case["publicKeyDid"], msg, sig) is case["validSignature"]


@pytest.mark.parametrize("case", [c for c in SIGNATURES if c["tags"]], ids=_sig_id)
def test_rejected_fixture_is_a_canonical_twin_of_a_valid_signature(case: dict[str, Any]) -> None:
    """High-S and DER cases fail for their encoding alone: canonicalised, they verify."""
    msg, sig = _b64(case["messageBase64"]), _b64(case["signatureBase64"])
    order = ORDER[case["algorithm"]]
    if "der-encoded" in case["tags"]:
        r, s = decode_dss_signature(sig)
    else:
        assert len(sig) == 64
        r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
        assert s > order // 2
    assert verify_signature(case["publicKeyDid"], msg, join_compact(r, s, order))


@pytest.mark.parametrize("case", SIGNATURES, ids=_sig_id)
def test_fixture_key_parses_to_its_curve_and_round_trips(case: dict[str, Any]) -> None:
    key = parse_did_key(case["publicKeyDid"])
    assert key.key_type == KEY_TYPE[case["algorithm"]]
    assert key.jwt_alg == case["algorithm"]
    assert key.did() == case["publicKeyDid"]


@pytest.mark.parametrize("case", SIGNATURES, ids=_sig_id)
def test_legacy_document_key_is_the_same_key_as_the_did_key(case: dict[str, Any]) -> None:
    legacy = parse_verification_method(case["didDocSuite"], case["publicKeyMultibase"])
    assert legacy == parse_did_key(case["publicKeyDid"])


@pytest.mark.parametrize("case", K256_KEYS, ids=lambda c: c["publicDidKey"][-8:])
def test_k256_private_key_derives_the_w3c_did_key(case: dict[str, Any]) -> None:
    keypair = K256Keypair.from_private_key(bytes.fromhex(case["privateKeyBytesHex"]))
    assert keypair.did() == case["publicDidKey"]
    assert parse_did_key(case["publicDidKey"]).did() == case["publicDidKey"]
    assert parse_did_key(case["publicDidKey"]).compressed == keypair.public_key_compressed


@pytest.mark.parametrize("case", P256_KEYS, ids=lambda c: c["publicDidKey"][-8:])
def test_p256_private_key_derives_the_w3c_did_key(case: dict[str, Any]) -> None:
    keypair = P256Keypair.from_private_key(b58decode(case["privateKeyBytesBase58"]))
    assert keypair.did() == case["publicDidKey"]
    assert parse_did_key(case["publicDidKey"]).did() == case["publicDidKey"]
    assert parse_did_key(case["publicDidKey"]).compressed == keypair.public_key_compressed
