"""Strict DAG-CBOR: canonical form, rejected encodings, and decoder fuzzing."""

from __future__ import annotations

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.data import dag_cbor
from domain.data.cid import CID
from domain.data.errors import DecodeError, EncodeError

cids = st.binary(min_size=1, max_size=64).map(CID.for_dag_cbor) | st.binary(max_size=64).map(
    CID.for_raw
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text(max_size=40)
    | st.binary(max_size=40)
    | cids
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=40,
)


@given(values)
def test_decode_of_encode_is_identity(value: object) -> None:
    assert dag_cbor.decode(dag_cbor.encode(value)) == value


def _cbor2_link(encoder: cbor2.CBOREncoder, cid: CID) -> None:
    encoder.encode(cbor2.CBORTag(42, b"\x00" + cid.raw))


@settings(max_examples=300)
@given(values)
def test_the_direct_writer_matches_cbor2_canonical_byte_for_byte(value: object) -> None:
    expected = cbor2.dumps(value, canonical=True, encoders={CID: _cbor2_link})
    assert dag_cbor.encode(value) == expected
    assert dag_cbor.encode_ordered(value) == expected


@pytest.mark.parametrize(
    "value", ["\ud800", {"text": "a\udfffb"}, {"\ud800": 1}, [{"k": ["\udc00"]}]]
)
def test_lone_surrogates_from_json_are_an_encode_error(value: object) -> None:
    with pytest.raises(EncodeError, match="lone surrogate"):
        dag_cbor.encode(value)


def test_nesting_past_the_limit_is_an_encode_error() -> None:
    value: object = 1
    for _ in range(dag_cbor.MAX_DEPTH + 2):
        value = [value]
    with pytest.raises(EncodeError, match="nesting deeper"):
        dag_cbor.encode(value)


@given(st.dictionaries(st.text(max_size=8), st.integers(-(2**63), 2**63 - 1), max_size=8))
def test_map_key_order_does_not_change_the_bytes(mapping: dict[str, int]) -> None:
    reordered = dict(reversed(list(mapping.items())))
    assert dag_cbor.encode(mapping) == dag_cbor.encode(reordered)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        value = dag_cbor.decode(data)
    except DecodeError:
        return
    assert dag_cbor.encode(value) == data


@given(values, st.data())
def test_mutated_encoding_decodes_canonically_or_fails(value: object, data: st.DataObject) -> None:
    encoded = bytearray(dag_cbor.encode(value))
    index = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    encoded[index] ^= data.draw(st.integers(min_value=1, max_value=255))
    try:
        decoded = dag_cbor.decode(bytes(encoded))
    except DecodeError:
        return
    assert dag_cbor.encode(decoded) == bytes(encoded)


def test_keys_sort_length_first_then_bytewise() -> None:
    assert dag_cbor.encode({"bb": 1, "a": 2, "ab": 3}) == bytes.fromhex(
        "a3616102626162036262620" + "1"
    )


@pytest.mark.parametrize(
    ("hex_bytes", "reason"),
    [
        ("1801", "non-minimal integer"),
        ("f93c00", "half float"),
        ("fb3ff0000000000000", "double float"),
        ("a2616101616102", "duplicate key"),
        ("a2616201616101", "unsorted keys"),
        ("a2626161016162" + "02", "shorter key after longer"),
        ("a10102", "integer key"),
        ("5f41614162ff", "indefinite bytes"),
        ("9f01ff", "indefinite array"),
        ("c11a514b67b0", "tag 1 datetime"),
        ("c249010000000000000000", "bignum tag"),
        ("d82a4400017112", "CID without digest"),
        ("d82a4501017112ff", "CID without 0x00 prefix"),
        ("0102", "trailing bytes"),
        ("f7", "undefined"),
        ("1b8000000000000000", "unsigned beyond int64"),
        ("", "empty input"),
        ("7801" + "61", "non-minimal string length"),
        ("62ffff", "invalid utf-8"),
    ],
)
def test_non_canonical_or_foreign_encodings_are_rejected(hex_bytes: str, reason: str) -> None:
    with pytest.raises(DecodeError):
        dag_cbor.decode(bytes.fromhex(hex_bytes))


@pytest.mark.parametrize("value", [1.5, {1: 2}, (1, 2), 2**63, -(2**63) - 1, {"a": {1.0}}])
def test_values_outside_the_data_model_cannot_be_encoded(value: object) -> None:
    with pytest.raises(EncodeError):
        dag_cbor.encode(value)


def test_cid_link_round_trips_as_tag_42() -> None:
    cid = CID.for_dag_cbor(b"hello")
    encoded = dag_cbor.encode({"link": cid})
    assert b"\xd8\x2a\x58\x25\x00" + cid.raw in encoded
    assert dag_cbor.decode(encoded) == {"link": cid}


def test_deep_nesting_is_a_decode_error_not_a_crash() -> None:
    with pytest.raises(DecodeError):
        dag_cbor.decode(b"\x81" * 5000 + b"\x01")
