"""did:plc operations: strict parsing, signing round trips, DIDs and DID documents."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.crypto.k256 import K256Keypair
from domain.crypto.keys import Keypair
from domain.crypto.p256 import P256Keypair
from domain.data import dag_cbor
from domain.plc.audit_log import validate_audit_log_json
from domain.plc.builder import build_genesis, build_tombstone, build_update
from domain.plc.constraints import check_submission
from domain.plc.did import did_for_genesis, is_plc_did
from domain.plc.document import PlcData, data_from_operation, did_document
from domain.plc.errors import (
    InvalidOperation,
    InvalidSignature,
    MalformedSignature,
    OperationTooLarge,
    PlcError,
)
from domain.plc.operation import (
    MAX_OP_BYTES,
    LegacyCreate,
    PlcOperation,
    PlcTombstone,
    Service,
    parse_operation,
)
from domain.plc.signing import decode_sig, encode_sig, sign_operation, verify_operation
from tests.conftest import VECTORS

KEYPAIRS: dict[str, Callable[[], Keypair]] = {
    "k256": K256Keypair.generate,
    "p256": P256Keypair.generate,
}
CURVE_ORDER = {
    "k256": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
    "p256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
}
BSKYAPP = VECTORS / "did-plc-audit-log" / "valid" / "log_bskyapp.json"


def _genesis(curve: str) -> tuple[Keypair, Keypair, PlcOperation, str]:
    server = KEYPAIRS[curve]()
    signing = KEYPAIRS[curve]()
    genesis = build_genesis(
        signing_key=signing.did(),
        handle="alice.example.com",
        pds_endpoint="https://pds.example.com",
        server_rotation_key=server,
    )
    return server, signing, genesis.operation, genesis.did


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
def test_genesis_round_trips_through_json_and_verifies(curve: str) -> None:
    server, _, op, did = _genesis(curve)
    assert is_plc_did(did) and did == did_for_genesis(op)
    assert op.rotation_keys == (server.did(),)
    assert verify_operation(op, op.rotation_keys) == 0
    value = json.loads(json.dumps(op.to_value()))
    assert list(value) == [
        "type",
        "rotationKeys",
        "verificationMethods",
        "alsoKnownAs",
        "services",
        "prev",
        "sig",
    ]
    parsed = parse_operation(value)
    assert parsed == op
    assert parsed.cid() == op.cid()
    assert "sig" not in op.to_unsigned_value()


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
def test_signature_encoding_is_unpadded_base64url_of_64_bytes(curve: str) -> None:
    _, _, op, _ = _genesis(curve)
    assert op.sig is not None
    assert len(op.sig) == 86 and "=" not in op.sig
    assert len(decode_sig(op.sig)) == 64


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
def test_high_s_twin_of_a_valid_signature_is_rejected(curve: str) -> None:
    _, _, op, _ = _genesis(curve)
    assert op.sig is not None
    raw = decode_sig(op.sig)
    high_s = CURVE_ORDER[curve] - int.from_bytes(raw[32:], "big")
    twin = op.with_sig(encode_sig(raw[:32] + high_s.to_bytes(32, "big")))
    with pytest.raises(InvalidSignature):
        verify_operation(twin, op.rotation_keys)


@pytest.mark.parametrize("curve", sorted(KEYPAIRS))
@pytest.mark.parametrize(
    "change",
    [
        {"alsoKnownAs": ["at://mallory.example.com"]},
        {"services": {}},
        {"verificationMethods": {}},
        {"rotationKeys": []},
    ],
    ids=["alsoKnownAs", "services", "verificationMethods", "rotationKeys"],
)
def test_tampered_field_fails_verification(curve: str, change: dict[str, Any]) -> None:
    server, _, op, _ = _genesis(curve)
    tampered = parse_operation({**op.to_value(), **change})
    with pytest.raises(InvalidSignature):
        verify_operation(tampered, (server.did(),))


def test_signature_by_another_curve_key_fails() -> None:
    _, _, op, _ = _genesis("k256")
    with pytest.raises(InvalidSignature):
        verify_operation(op, (P256Keypair.generate().did(), K256Keypair.generate().did()))


def test_unusable_rotation_key_is_a_signature_failure() -> None:
    _, _, op, _ = _genesis("k256")
    for junk in (
        "did:key:zjunk",
        "did:web:example.com",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    ):
        with pytest.raises(InvalidSignature):
            verify_operation(op, (junk,))


@pytest.mark.parametrize(
    "sig",
    [
        "",
        "A" * 85 + "=",
        "A" * 86 + "\n",
        "A" * 85 + "B",  # non-zero trailing bits
        "A" * 87,  # impossible length for 64 bytes
        "+" + "A" * 85,
        "A" * 84,  # 63 bytes
    ],
)
def test_non_canonical_signature_strings_are_malformed(sig: str) -> None:
    with pytest.raises(MalformedSignature):
        decode_sig(sig)


def test_tombstone_is_signed_by_a_rotation_key() -> None:
    server, _, op, _ = _genesis("p256")
    tombstone = build_tombstone(op, server)
    assert tombstone.prev == str(op.cid())
    assert tombstone.to_unsigned_value() == {"type": "plc_tombstone", "prev": str(op.cid())}
    assert verify_operation(tombstone, op.rotation_keys) == 0
    assert parse_operation(tombstone.to_value()) == tombstone
    assert data_from_operation("did:plc:x", tombstone) is None


def test_update_changes_only_what_is_asked() -> None:
    server, _, op, _ = _genesis("k256")
    new_signing = K256Keypair.generate()
    update = build_update(
        op, server, handle="bob.example.com", signing_key=new_signing.did(), pds_endpoint="new.pds"
    )
    assert update.prev == str(op.cid())
    assert update.also_known_as == ("at://bob.example.com",)
    assert update.verification_methods == {"atproto": new_signing.did()}
    assert update.services == {
        "atproto_pds": Service("AtprotoPersonalDataServer", "https://new.pds")
    }
    assert update.rotation_keys == op.rotation_keys
    assert verify_operation(update, op.rotation_keys) == 0


def test_genesis_with_recovery_key_ranks_it_first() -> None:
    server, recovery, signing = (
        P256Keypair.generate(),
        K256Keypair.generate(),
        K256Keypair.generate(),
    )
    genesis = build_genesis(
        signing_key=signing.did(),
        handle="at://alice.test",
        pds_endpoint="https://pds.test",
        server_rotation_key=server,
        recovery_key=recovery.did(),
    )
    assert genesis.operation.rotation_keys == (recovery.did(), server.did())
    assert genesis.operation.also_known_as == ("at://alice.test",)
    assert verify_operation(genesis.operation, genesis.operation.rotation_keys) == 1


def test_did_document_shape() -> None:
    k256, p256 = K256Keypair.generate(), P256Keypair.generate()
    data = PlcData(
        did="did:plc:7iza6de2dwap2sbkpav7c6c6",
        rotation_keys=(p256.did(),),
        verification_methods={"atproto": k256.did()},
        also_known_as=("at://alice.test",),
        services={"atproto_pds": Service("AtprotoPersonalDataServer", "https://example.test")},
    )
    assert did_document(data) == {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
            "https://w3id.org/security/suites/secp256k1-2019/v1",
        ],
        "id": "did:plc:7iza6de2dwap2sbkpav7c6c6",
        "alsoKnownAs": ["at://alice.test"],
        "verificationMethod": [
            {
                "id": "did:plc:7iza6de2dwap2sbkpav7c6c6#atproto",
                "type": "Multikey",
                "controller": "did:plc:7iza6de2dwap2sbkpav7c6c6",
                "publicKeyMultibase": k256.did().removeprefix("did:key:"),
            }
        ],
        "service": [
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": "https://example.test",
            }
        ],
    }
    assert data.to_value() == {
        "did": "did:plc:7iza6de2dwap2sbkpav7c6c6",
        "verificationMethods": {"atproto": k256.did()},
        "rotationKeys": [p256.did()],
        "alsoKnownAs": ["at://alice.test"],
        "services": {
            "atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": "https://example.test"}
        },
    }


def test_did_document_context_follows_key_types() -> None:
    base = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    p256 = P256Keypair.generate().did()
    data = PlcData("did:plc:x", (), {"atproto": p256, "other": "did:key:z6Mkfoo"}, (), {})
    doc = did_document(data)
    assert doc["@context"] == [*base, "https://w3id.org/security/suites/ecdsa-2019/v1"]
    assert doc["verificationMethod"][1]["publicKeyMultibase"] == "z6Mkfoo"
    assert did_document(PlcData("did:plc:x", (), {}, (), {}))["@context"] == base


def test_document_of_a_real_log() -> None:
    state = validate_audit_log_json(json.loads(BSKYAPP.read_text()))
    data = state.data()
    assert data is not None
    doc = did_document(data)
    assert doc["id"] == "did:plc:z72i7hdynmk6r22z27h6tvur"
    assert doc["alsoKnownAs"] == ["at://bsky.app"]
    assert doc["service"][0]["serviceEndpoint"] == data.pds_endpoint


# -- strict parsing ---------------------------------------------------------------------------


def _valid_value() -> dict[str, Any]:
    value: dict[str, Any] = json.loads(BSKYAPP.read_text())[1]["operation"]
    return value


@pytest.mark.parametrize(
    "mutate",
    [
        lambda v: v.pop("prev"),
        lambda v: v.update(extra=1),
        lambda v: v.update(sig=None),
        lambda v: v.update(rotationKeys="did:key:z"),
        lambda v: v.update(rotationKeys=[1]),
        lambda v: v.update(alsoKnownAs=[None]),
        lambda v: v.update(verificationMethods=[]),
        lambda v: v.update(verificationMethods={"atproto": 5}),
        lambda v: v.update(services={"atproto_pds": {"type": "x"}}),
        lambda v: v.update(services={"atproto_pds": {"type": "x", "endpoint": "y", "z": "w"}}),
        lambda v: v.update(prev="not-a-cid"),
        lambda v: v.update(prev="bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"),
        lambda v: v.update(type="plc_whatever"),
    ],
)
def test_malformed_operations_are_invalid(mutate: Any) -> None:
    value = _valid_value()
    mutate(value)
    with pytest.raises(InvalidOperation):
        parse_operation(value)


def test_tombstone_and_legacy_shapes_are_exact() -> None:
    prev = _valid_value()["prev"]
    with pytest.raises(InvalidOperation):
        parse_operation({"type": "plc_tombstone", "prev": None, "sig": "x"})
    with pytest.raises(InvalidOperation):
        parse_operation({"type": "plc_tombstone", "prev": prev, "sig": "x", "handle": "h"})
    legacy = {
        "type": "create",
        "signingKey": "did:key:za",
        "recoveryKey": "did:key:zb",
        "handle": "h.test",
        "service": "https://pds.test",
        "prev": prev,
        "sig": "x",
    }
    with pytest.raises(InvalidOperation):
        parse_operation(legacy)
    assert isinstance(parse_operation({**legacy, "prev": None}), LegacyCreate)
    assert isinstance(
        parse_operation({"type": "plc_tombstone", "prev": prev, "sig": "x"}), PlcTombstone
    )


def test_operation_bytes_are_the_strict_dag_cbor_of_the_json_value() -> None:
    for path in sorted((VECTORS / "did-plc-audit-log").glob("*/*.json")):
        for item in json.loads(path.read_text()):
            op = parse_operation(item["operation"])
            assert op.signed_bytes() == dag_cbor.encode(item["operation"])
            assert dag_cbor.decode(op.signed_bytes()) == item["operation"]
            unsigned = {k: v for k, v in item["operation"].items() if k != "sig"}
            assert op.unsigned_bytes() == dag_cbor.encode(unsigned)


def test_constructors_refuse_non_string_fields() -> None:
    with pytest.raises(InvalidOperation):
        PlcOperation((1,), {}, (), {}, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidOperation):
        PlcTombstone(None)  # type: ignore[arg-type]


def test_oversized_operation_is_rejected() -> None:
    value = _valid_value()
    value["alsoKnownAs"] = [f"at://{i:04d}.{'x' * 240}.test" for i in range(31)]
    with pytest.raises(OperationTooLarge):
        parse_operation(value)


def test_submission_limit_is_tighter_than_the_spec_limit() -> None:
    server, _, op, _ = _genesis("k256")
    big = PlcOperation(
        rotation_keys=op.rotation_keys,
        verification_methods=op.verification_methods,
        also_known_as=tuple(f"at://{i}.{'x' * 250}" for i in range(10)),
        services={f"s{i}": Service("T" * 256, "https://e.test/" + "y" * 400) for i in range(4)},
        prev=None,
    )
    signed = sign_operation(big, server)
    assert 4000 < len(signed.signed_bytes()) <= MAX_OP_BYTES
    assert parse_operation(signed.to_value()) == signed
    with pytest.raises(OperationTooLarge):
        check_submission(signed)


@pytest.mark.parametrize(
    "change",
    [
        {"rotation_keys": ()},
        {"rotation_keys": "dup"},
        {"rotation_keys": "six"},
        {"rotation_keys": ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",)},
        {"verification_methods": {"atproto": "did:web:example.com"}},
        {"also_known_as": ("at://a.test", "at://a.test")},
        {"services": {"x" * 33: Service("t", "https://e.test")}},
    ],
)
def test_submission_constraints(change: dict[str, Any]) -> None:
    keys = tuple(K256Keypair.generate().did() for _ in range(6))
    if change.get("rotation_keys") == "dup":
        change["rotation_keys"] = (keys[0], keys[0])
    elif change.get("rotation_keys") == "six":
        change["rotation_keys"] = keys
    fields: dict[str, Any] = {
        "rotation_keys": keys[:1],
        "verification_methods": {},
        "also_known_as": (),
        "services": {},
        "prev": None,
        **change,
    }
    with pytest.raises(InvalidOperation):
        check_submission(PlcOperation(**fields).with_sig("x"))


def test_new_legacy_creates_are_not_accepted() -> None:
    legacy = LegacyCreate("did:key:za", "did:key:zb", "h.test", "https://pds.test", "x")
    with pytest.raises(InvalidOperation):
        check_submission(legacy)


# -- hostile input ----------------------------------------------------------------------------

# Lone surrogates included: JSON can carry them, and they cannot be encoded as DAG-CBOR.
_text = st.text(st.characters(exclude_categories=()) | st.sampled_from("\ud800a=_-"))
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_text.filter(lambda t: len(t) <= 12), children, max_size=6)
    ),
    max_leaves=20,
)
_field_names = st.sampled_from(
    ["type", "rotationKeys", "verificationMethods", "alsoKnownAs", "services", "prev", "sig"]
)


@st.composite
def _near_operations(draw: st.DrawFn) -> dict[str, Any]:
    """A valid operation with one field replaced, removed or added: deep parser paths."""
    value = _valid_value()
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        value[draw(_field_names)] = draw(_json)
    elif action == "remove":
        value.pop(draw(_field_names))
    else:
        value[draw(_text)] = draw(_json)
    return value


@given(st.one_of(_json, _near_operations()))
def test_arbitrary_json_gives_a_typed_error_or_an_operation(value: Any) -> None:
    try:
        op = parse_operation(value)
    except PlcError:
        return
    assert parse_operation(op.to_value()) == op
    assert op.signed_bytes() == dag_cbor.encode(op.to_value())


@given(
    st.lists(st.one_of(_json, st.fixed_dictionaries({"operation": _near_operations()})), max_size=3)
)
def test_arbitrary_json_audit_log_gives_a_typed_error(value: Any) -> None:
    with pytest.raises(PlcError):
        validate_audit_log_json(value)
