"""The links of a stored MST node, read without decoding it: what a repository walk needs.

An export only needs each node's left subtree and, per entry, the record and the subtree to
its right. A node's canonical bytes spell every 36-byte link as the map key (`l`, `t`, `v`)
followed by `d8 2a 58 25 00` and the binary CID, and a null subtree as the key then `f6`;
keys are ASCII (the key syntax), so those byte runs cannot occur anywhere else. One regular
expression over the bytes therefore finds every link in order, at C speed. The result is
checked against the entry count in the node's head and the number of CID tags in the bytes;
any node it does not account for (a record link of another length, say) is decoded the
general way instead.

Only for nodes this system validated when they were recorded: never for bytes from a client.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Final

from domain.data import dag_cbor

_LINKS: Final = re.compile(rb"\x61([tvl])(?:\xf6|\xd8\x2a\x58\x25\x00(.{36}))", re.DOTALL)
_ENTRIES_KEY: Final = b"\xa2\x61e"
_CID_TAG: Final = b"\xd8\x2a"

Links = tuple[bytes | None, list[bytes], list[bytes | None]]
"""`(left subtree, records, right subtrees)` as binary CIDs, one record and one right subtree
per entry, in order; None for no subtree."""


def node_links(data: bytes) -> Links:
    """The links of a trusted node's canonical bytes, in tree order."""
    count = _entry_count(data)
    found = _LINKS.findall(data)
    if count is None or tuple([key for key, _ in found]) != _keys(count):
        return _decoded_links(data)
    links = [link for _, link in found]
    values = links[1::2]
    if not all(values) or data.count(_CID_TAG) != len(links) - links.count(b""):
        return _decoded_links(data)
    return links[-1] or None, values, [link or None for link in links[0:-1:2]]


@lru_cache(maxsize=64)
def _keys(count: int) -> tuple[bytes, ...]:
    """The map keys of the links of a node with `count` entries, in byte order."""
    return (b"t", b"v") * count + (b"l",)


def _entry_count(data: bytes) -> int | None:
    """The length of the `e` array, from its CBOR head (None if the head is unusual)."""
    if not data.startswith(_ENTRIES_KEY) or len(data) < 5:
        return None
    head = data[3]
    if 0x80 <= head < 0x98:
        return head - 0x80
    if head == 0x98:
        return data[4]
    if head == 0x99 and len(data) >= 6:
        return int.from_bytes(data[4:6], "big")
    return None


def _decoded_links(data: bytes) -> Links:
    """The general path: decode the node as DAG-CBOR."""
    node: Any = dag_cbor.decode_trusted(data)
    left = node["l"]
    values = [bytes(entry["v"].raw) for entry in node["e"]]
    subtrees = [None if entry["t"] is None else bytes(entry["t"].raw) for entry in node["e"]]
    return None if left is None else bytes(left.raw), values, subtrees
