"""Commit slices: the verifying reader and the projection's unverified splitter agree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.data.cid import CID
from domain.repo.car import car_bytes, read_slice, split_slice
from domain.repo.errors import InvalidCar

blocks = st.lists(st.binary(max_size=400), min_size=1, max_size=12)


@given(blocks)
def test_split_slice_yields_the_same_blocks_as_read_slice(datas: list[bytes]) -> None:
    pairs = [(CID.for_dag_cbor(data), data) for data in datas]
    root = pairs[0][0]
    car = car_bytes(root, pairs)
    assert split_slice(car, root) == [(cid.raw, data) for cid, data in read_slice(car, root)]


def test_split_slice_falls_back_to_verifying_for_other_cids() -> None:
    raw = CID.for_raw(b"blob bytes")
    root = CID.for_dag_cbor(b"\xa0")
    car = car_bytes(root, [(root, b"\xa0"), (raw, b"blob bytes")])
    assert split_slice(car, root) == [(root.raw, b"\xa0"), (raw.raw, b"blob bytes")]


@pytest.mark.parametrize("cut", [1, 5, 37])
def test_a_truncated_slice_raises_invalid_car(cut: int) -> None:
    root = CID.for_dag_cbor(b"\xa0")
    car = car_bytes(root, [(root, b"\xa0"), (CID.for_dag_cbor(b"x" * 200), b"x" * 200)])
    with pytest.raises(InvalidCar):
        split_slice(car[:-cut], root)


def test_a_slice_rooted_elsewhere_raises_invalid_car() -> None:
    root, other = CID.for_dag_cbor(b"\xa0"), CID.for_dag_cbor(b"\x80")
    with pytest.raises(InvalidCar):
        split_slice(car_bytes(other, [(other, b"\x80")]), root)
