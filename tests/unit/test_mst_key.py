"""MST keys: interop heights and prefixes (tests/vectors), and the allowed key syntax."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.repo.mst_key import (
    InvalidMstKey,
    common_prefix_len,
    is_valid_key,
    key_bytes,
    key_height,
)
from tests.conftest import INTEROP

MST = INTEROP / "mst"
HEIGHTS: list[dict[str, Any]] = json.loads((MST / "key_heights.json").read_text())
PREFIXES: list[dict[str, Any]] = json.loads((MST / "common_prefix.json").read_text())
EXAMPLE_KEYS = (MST / "example_keys.txt").read_text().split()


@pytest.mark.parametrize("case", HEIGHTS, ids=[c["key"] or "<empty>" for c in HEIGHTS])
def test_key_height_matches_interop_vector(case: dict[str, Any]) -> None:
    assert key_height(case["key"].encode()) == case["height"]


@pytest.mark.parametrize("case", PREFIXES, ids=[f"{c['left']!r}-{c['right']!r}" for c in PREFIXES])
def test_common_prefix_len_matches_interop_vector(case: dict[str, Any]) -> None:
    assert common_prefix_len(case["left"].encode(), case["right"].encode()) == case["len"]


@pytest.mark.parametrize("key", EXAMPLE_KEYS)
def test_example_key_height_is_the_digit_in_its_name(key: str) -> None:
    assert key_height(key.encode()) == int(key.split("/")[0][1:])


VALID = [
    "coll/3jui7kd54zh2y",
    "coll/self",
    "coll/example.com",
    "com.example/rkey",
    "coll/~1.2-3_",
    "coll/dHJ1ZQ",
    "coll/pre:fix",
    "coll/_",
    "A0/374913",
    "coll/" + "a" * 1019,
]
INVALID = [
    "",
    "asdf",
    "nested/collection/asdf",
    "coll/",
    "/rkey",
    "coll/jalapeñoA",
    "coll/coöperative",
    "coll/abc💩",
    "coll/key$",
    "coll/key%",
    "coll/key(",
    "coll/key)",
    "coll/key+",
    "coll/key=",
    "coll/@handle",
    "coll/any space",
    "coll/#extra",
    "coll/number[3]",
    "coll/dHJ1ZQ==",
    'coll/"quote"',
    "coll/.",
    "coll/..",
    "../rkey",
    "coll/key\n",
    "coll/" + "a" * 1020,
]


@pytest.mark.parametrize("key", VALID)
def test_valid_keys_are_accepted(key: str) -> None:
    assert key_bytes(key) == key.encode()
    assert is_valid_key(key.encode())


@pytest.mark.parametrize("key", INVALID, ids=[repr(k[:30]) for k in INVALID])
def test_invalid_keys_are_rejected(key: str) -> None:
    with pytest.raises(InvalidMstKey):
        key_bytes(key)


def test_key_bytes_rejects_non_text_non_bytes() -> None:
    with pytest.raises(InvalidMstKey):
        key_bytes(42)  # type: ignore[arg-type]
