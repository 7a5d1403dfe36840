"""`node_links` reads the same links as a full DAG-CBOR decode, including for nodes its fast
path does not account for (record links of another length), which it decodes instead."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.data import dag_cbor
from domain.data.cid import CID
from domain.repo import mst_links
from domain.repo.mst_links import Links, node_links
from domain.repo.mst_node import NODE_CID_PREFIX, encode_node

digests = st.binary(min_size=32, max_size=32)
node_links_ = digests.map(lambda d: NODE_CID_PREFIX + d)
cidv0 = digests.map(lambda d: b"\x12\x20" + d)  # a 34-byte CIDv0: not the fast path's shape


def _decoded(data: bytes) -> Links:
    node = dag_cbor.decode_trusted(data)
    assert isinstance(node, dict)

    def raw(link: object) -> bytes | None:
        return link.raw if isinstance(link, CID) else None

    entries = node["e"]
    assert isinstance(entries, list)
    values = [raw(e["v"]) for e in entries if isinstance(e, dict)]
    subtrees = [raw(e["t"]) for e in entries if isinstance(e, dict)]
    return raw(node["l"]), values, subtrees  # type: ignore[return-value]


@st.composite
def nodes(draw: st.DrawFn, values: st.SearchStrategy[bytes] = node_links_) -> bytes:
    """Canonical node bytes with 0..40 entries, random links, keys from the key alphabet."""
    count = draw(st.integers(min_value=0, max_value=40))
    suffixes = draw(
        st.lists(
            st.from_regex(r"[a-zA-Z0-9.:_~-]{1,20}", fullmatch=True),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    keys = sorted(f"com.example.note/{s}".encode() for s in suffixes)
    vals = draw(st.lists(values, min_size=len(keys), max_size=len(keys)))
    subs = draw(st.lists(st.none() | node_links_, min_size=len(keys) + 1, max_size=len(keys) + 1))
    return encode_node(keys, vals, subs)


@given(data=nodes())
def test_links_equal_the_decoded_nodes_links(data: bytes) -> None:
    assert node_links(data) == _decoded(data)


@given(data=nodes(values=node_links_ | cidv0))
def test_record_links_of_another_length_are_read_by_decoding(data: bytes) -> None:
    assert node_links(data) == _decoded(data)


def test_an_empty_node_has_no_links() -> None:
    assert node_links(encode_node([], [], [None])) == (None, [], [])


def test_a_regular_node_is_read_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: bytes) -> Links:
        raise AssertionError("decoded")

    monkeypatch.setattr(mst_links, "_decoded_links", refuse)
    left, value, sub = (NODE_CID_PREFIX + bytes([n]) * 32 for n in (1, 2, 3))
    keys = [b"com.example.note/a", b"com.example.note/b"]
    data = encode_node(keys, [value, value], [left, None, sub])
    assert node_links(data) == (left, [value, value], [None, sub])
