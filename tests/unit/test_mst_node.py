"""MST node codec: byte-exact canonical encoding and a decoder that rejects any bad node."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.data import dag_cbor
from domain.data.cid import CID
from domain.repo.block_map import BlockMap
from domain.repo.mst import Mst
from domain.repo.mst_key import key_height
from domain.repo.mst_node import InvalidMstNode, Node, decode_node, node_value

LEAF = CID.parse("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454")
CHILD = CID.for_dag_cbor(b"child")
EMPTY_ROOT = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"


def entry(p: int, k: bytes, t: CID | None = None, v: CID = LEAF) -> dict[str, Any]:
    return {"k": k, "p": p, "t": t, "v": v}


def node_bytes(entries: list[dict[str, Any]], left: CID | None = None) -> bytes:
    return dag_cbor.encode({"e": entries, "l": left})


def test_empty_node_has_the_known_empty_tree_cid() -> None:
    node = Node((), (), (None,), 0)
    assert str(node.cid) == EMPTY_ROOT
    assert node.data == dag_cbor.encode({"e": [], "l": None})


def test_encoding_always_writes_l_and_t_even_when_null() -> None:
    node = Node((b"A0/374913",), (LEAF.raw,), (None, None), 0)
    value = dag_cbor.decode(node.data)
    assert value == {"e": [entry(0, b"A0/374913")], "l": None}


_keys = st.lists(
    st.from_regex(r"[a-c]{1,3}/[a-c0-9][a-c0-9.]{0,11}", fullmatch=True), min_size=0, max_size=12
)
_links = st.one_of(st.none(), st.just(CHILD))


@given(_keys, st.data())
def test_encoding_is_byte_identical_to_generic_dag_cbor(keys: list[str], data: Any) -> None:
    raw = tuple(sorted({k.encode() for k in keys}))
    subs = tuple(data.draw(_links) for _ in range(len(raw) + 1))
    vals = tuple(CID.for_dag_cbor(k).raw for k in raw)
    node = Node(raw, vals, tuple(None if s is None else s.raw for s in subs), 0)
    assert node.data == dag_cbor.encode(node_value(node))


@given(_keys)
def test_decode_gives_back_the_encoded_node(keys: list[str]) -> None:
    raw = tuple(sorted({k.encode() for k in keys if key_height(k.encode()) == 0}))
    node = Node(raw, tuple(CID.for_dag_cbor(k).raw for k in raw), (None,) * (len(raw) + 1), 0)
    decoded = decode_node(node.data, node.link)
    assert (decoded.keys, decoded.vals, decoded.subs) == (node.keys, node.vals, node.subs)
    assert decoded.cid == node.cid


def test_decode_round_trips_a_node_with_subtrees_and_shared_prefixes() -> None:
    data = node_bytes([entry(0, b"A1/076503", CHILD), entry(7, b"95", None)], CHILD)
    node = decode_node(data)
    assert node.keys == (b"A1/076503", b"A1/076595")
    assert node.height == 1
    assert node.subs == (CHILD.raw, CHILD.raw, None)
    assert node.data == data


def test_decode_accepts_a_non_blessed_leaf_value() -> None:
    odd = CID.decode(bytes((0x01, 0x55, 0x12, 0x20)) + b"\x01" * 32)  # raw codec record
    data = node_bytes([entry(0, b"A0/374913", v=odd)])
    assert decode_node(data).vals == (odd.raw,)


BAD_NODES = {
    "keys out of order": node_bytes([entry(0, b"C0/451630"), entry(0, b"A0/374913")]),
    "duplicate key": node_bytes([entry(0, b"A0/374913"), entry(9, b"")]),
    "inconsistent heights": node_bytes([entry(0, b"A0/374913"), entry(0, b"B1/986427")]),
    "prefix longer than previous key": node_bytes([entry(0, b"A0/374913"), entry(10, b"x")]),
    "first entry with a prefix": node_bytes([entry(2, b"A0/374913")]),
    "prefix shorter than shared": node_bytes([entry(0, b"A0/374913"), entry(1, b"0/670489")]),
    "invalid key characters": node_bytes([entry(0, b"A0/37 4913")]),
    "key without collection": node_bytes([entry(0, b"asdf")]),
    "height-0 node with a subtree": node_bytes([entry(0, b"A0/374913", CHILD)]),
    "node link is a raw cid": node_bytes([], CID.for_raw(b"x")),
    "missing t": dag_cbor.encode({"e": [{"k": b"A0/374913", "p": 0, "v": LEAF}], "l": None}),
    "missing l": dag_cbor.encode({"e": []}),
    "extra field": dag_cbor.encode({"e": [], "l": None, "x": 1}),
    "null value": dag_cbor.encode({"e": [entry(0, b"A0/374913", v=None)], "l": None}),  # type: ignore[arg-type]
    "string key": dag_cbor.encode({"e": [{"k": "A0/1", "p": 0, "t": None, "v": LEAF}], "l": None}),
    "not a map": dag_cbor.encode([]),
    "trailing bytes": node_bytes([]) + b"\x00",
    "truncated": node_bytes([entry(0, b"A0/374913")])[:-3],
    "indefinite array": b"\xa2\x61e\x9f\xff\x61l\xf6",
    "non-minimal length": b"\xa2\x61e\x98\x00\x61l\xf6",
    "map keys out of order": b"\xa2\x61l\xf6\x61e\x80",
    "other tag": b"\xa2\x61e\x80\x61l\xd8\x2b\x41\x00",
}


@pytest.mark.parametrize("data", BAD_NODES.values(), ids=BAD_NODES.keys())
def test_strict_decode_rejects_bad_node(data: bytes) -> None:
    with pytest.raises(InvalidMstNode):
        decode_node(data)


def _tree_with_child(child: bytes, root_entries: list[dict[str, Any]]) -> tuple[BlockMap, CID]:
    blocks = BlockMap()
    child_cid = CID.for_dag_cbor(child)
    blocks.set(child_cid, child)
    root = node_bytes(root_entries, child_cid)
    root_cid = CID.for_dag_cbor(root)
    blocks.set(root_cid, root)
    return blocks, root_cid


def test_empty_intermediate_node_without_subtree_is_rejected() -> None:
    blocks, root = _tree_with_child(node_bytes([]), [entry(0, b"B1/986427")])
    with pytest.raises(InvalidMstNode, match="empty node"):
        list(Mst.load(blocks, root).walk())


def test_child_at_the_wrong_height_is_rejected() -> None:
    child = node_bytes([entry(0, b"A0/374913")])
    blocks, root = _tree_with_child(child, [entry(0, b"B2/827649")])  # height 2 over height 0
    with pytest.raises(InvalidMstNode, match="height"):
        list(Mst.load(blocks, root).walk())


def test_root_that_only_points_to_a_subtree_is_rejected() -> None:
    blocks = BlockMap()
    child = blocks.add({"e": [entry(0, b"A0/374913")], "l": None})
    root = blocks.add({"e": [], "l": child})
    with pytest.raises(InvalidMstNode, match="top"):
        Mst.load(blocks, root)


def test_keyless_intermediate_node_over_a_subtree_is_accepted() -> None:
    blocks = BlockMap()
    leaf = blocks.add({"e": [entry(0, b"A0/374913")], "l": None})
    middle = blocks.add({"e": [], "l": leaf})
    root = blocks.add({"e": [entry(0, b"B2/827649")], "l": middle})
    assert [k for k, _ in Mst.load(blocks, root).walk()] == ["A0/374913", "B2/827649"]
