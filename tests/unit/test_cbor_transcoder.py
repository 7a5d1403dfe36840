"""The event transcoder: the fast canonical encoder writes exactly what cbor2 writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import cbor2
from hypothesis import given, settings
from hypothesis import strategies as st

from application.cbor_transcoder import _ENCODERS, CborTranscoder, fast_canonical
from domain.data.cid import CID


def reference(value: Any) -> bytes:
    return cbor2.dumps(value, canonical=True, encoders=_ENCODERS)


cids = st.binary(min_size=32, max_size=32).map(lambda digest: CID(b"\x01\x71\x12\x20" + digest))
times = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
model_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text(max_size=40)
    | st.binary(max_size=300)
    | cids
    | times
)
model_values = st.recursive(
    model_leaves,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=30,
)
"""What events hold: data-model values and timestamps; the fast path must take them all."""

values = st.recursive(
    model_leaves | st.integers(min_value=-(2**70), max_value=2**70),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=30,
)
"""Anything cbor2 encodes: tuples and ints past 64 bits go to cbor2, with the same bytes."""


@settings(max_examples=400)
@given(model_values)
def test_fast_encoding_is_byte_identical_to_cbor2_canonical(value: Any) -> None:
    encoded = fast_canonical(value)
    assert encoded is not None
    assert encoded == reference(value)


@settings(max_examples=200)
@given(values)
def test_whatever_path_encodes_a_value_the_bytes_are_cbor2s(value: Any) -> None:
    assert CborTranscoder().encode(value) == reference(value)


@given(st.dictionaries(st.text(max_size=12), values, max_size=8))
def test_transcoder_round_trips_event_states(state: dict[str, Any]) -> None:
    transcoder = CborTranscoder()
    data = transcoder.encode(state)
    assert data == reference(state)
    assert transcoder.decode(data) == _decoded(state)


def _decoded(value: Any) -> Any:
    """What decoding gives back: tuples come back as lists."""
    if isinstance(value, tuple | list):
        return [_decoded(item) for item in value]
    if isinstance(value, dict):
        return {key: _decoded(item) for key, item in value.items()}
    return value


def test_values_it_does_not_know_go_to_cbor2_whole() -> None:
    for value in (
        {"a": 1.5},
        {"big": 2**64},
        {"small": -(2**64) - 1},
        {"past63": 2**63},
        {"tuple": (1, 2)},
        {1: "int key"},
        {"set": frozenset()},
        {"lone": "\ud800"},
    ):
        assert fast_canonical(value) is None
    assert CborTranscoder().encode({"a": 1.5, "b": CID.for_raw(b"x")}) == reference(
        {"a": 1.5, "b": CID.for_raw(b"x")}
    )


def test_timestamps_need_a_timezone_and_keep_microseconds() -> None:
    naive = datetime(2024, 1, 1, 12, 0, 0, 123456)
    try:
        CborTranscoder().encode({"t": naive})
    except ValueError:
        pass
    else:
        raise AssertionError("a naive timestamp was encoded")
    east = datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=5)))
    data = CborTranscoder().encode({"t": east})
    assert data == reference({"t": east})
    assert CborTranscoder().decode(data)["t"] == east
