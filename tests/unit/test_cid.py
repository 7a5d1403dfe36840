"""CIDs: fast internal form, text boundary, strict binary validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.data.cid import CID, DAG_CBOR, RAW
from domain.data.errors import InvalidCid

EMPTY_MST = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"


def test_dag_cbor_cid_of_the_empty_mst_node() -> None:
    cid = CID.for_dag_cbor(bytes.fromhex("a2616580616cf6"))
    assert str(cid) == EMPTY_MST
    assert cid.codec == DAG_CBOR and cid.version == 1 and cid.is_blessed


def test_raw_cid_uses_the_raw_codec() -> None:
    cid = CID.for_raw(b"blob")
    assert cid.codec == RAW and str(cid).startswith("bafkrei")
    assert cid.matches(b"blob") and not cid.matches(b"blob!")


@given(st.binary(max_size=100))
def test_text_form_round_trips(data: bytes) -> None:
    cid = CID.for_dag_cbor(data)
    assert CID.parse(str(cid)) == cid
    assert hash(CID.parse(str(cid))) == hash(cid)


def test_matches_multiformats_at_the_boundary() -> None:
    from multiformats import CID as MfCID

    cid = CID.for_dag_cbor(b"x")
    assert bytes(MfCID.decode(str(cid))) == cid.raw


def test_cidv0_string_parses_through_the_foreign_path() -> None:
    cid = CID.parse("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n")
    assert cid.version == 0 and len(cid.digest) == 32


@pytest.mark.parametrize(
    "text",
    ["", ".", "bafyrei", "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpma", "b!!"],
)
def test_bad_strings_are_invalid_cids(text: str) -> None:
    with pytest.raises(InvalidCid):
        CID.parse(text)


@given(st.binary(max_size=50))
def test_arbitrary_binary_is_a_cid_or_invalid_cid(raw: bytes) -> None:
    try:
        cid = CID.decode(raw)
    except InvalidCid:
        return
    assert cid.raw == raw


def test_uppercase_multibase_is_the_same_cid() -> None:
    assert CID.parse(EMPTY_MST.upper()) == CID.parse(EMPTY_MST)
