"""A CID's text form is exactly what `multiformats` writes, for every CIDv1 we can format."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st
from multiformats import CID as MfCID

from domain.data.cid import CID, DAG_CBOR, RAW, _base32


@given(st.sampled_from([DAG_CBOR, RAW]), st.binary(min_size=32, max_size=32))
def test_blessed_cid_text_equals_multiformats(codec: int, digest: bytes) -> None:
    raw = bytes((0x01, codec, 0x12, 0x20)) + digest
    assert str(CID.decode(raw)) == MfCID.decode(raw).encode("base32")


@given(st.binary(max_size=200))
def test_cid_of_any_block_formats_as_multiformats_does(block: bytes) -> None:
    cid = CID.for_dag_cbor(block)
    assert str(cid) == MfCID.decode(cid.raw).encode("base32")
    assert CID.parse(str(cid)) == cid


@given(
    st.sampled_from([0x55, 0x70, 0x71, 0x0129, 0x0200]),
    st.sampled_from([(0x12, 32), (0x13, 64), (0x16, 32)]),
    st.data(),
)
def test_other_cidv1_forms_format_as_multiformats_does(
    codec: int, hash_fn: tuple[int, int], data: st.DataObject
) -> None:
    code, size = hash_fn
    digest = data.draw(st.binary(min_size=size, max_size=size))
    mf = MfCID("base32", 1, codec, (code, digest))
    assert str(CID.decode(bytes(mf))) == mf.encode("base32")


@given(st.binary(max_size=100))
def test_base32_is_rfc4648_lower_case_unpadded(data: bytes) -> None:
    assert _base32(data) == base64.b32encode(data).decode("ascii").lower().rstrip("=")
