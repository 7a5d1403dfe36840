"""One MST node: its in-memory form, its canonical DAG-CBOR bytes and a strict decoder.

The wire form is `{l: CID|null, e: [{p, k, v, t: CID|null}]}`. In memory a node is three
parallel tuples like a B-tree page: `keys[i]`/`vals[i]` are entries and `subs` (one longer)
holds the subtrees between them, so `subs[0]` is `l` and `subs[i + 1]` is `e[i].t`. Links
are binary CIDs (`bytes`), not `CID` objects: bytes hash in C, are not tracked by the cyclic
garbage collector and cost no object per link; `CID`s are made only at the API edge.

The codec is written for this one schema instead of going through a generic CBOR library:
the encoder appends the fixed byte layout (no dicts, no per-CID callbacks), and the decoder
accepts only that canonical layout, so it is as strict as re-encoding would be, and then
checks what CBOR cannot: key order, maximal shared prefixes (mandatory, for deterministic
roots), key syntax and one height per node.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256
from typing import Any, Final, Union, final

from domain.data.cbor_head import cbor_head
from domain.data.cid import CID
from domain.data.errors import InvalidCid
from domain.repo.errors import RepoError
from domain.repo.mst_key import KEY_PATTERN, MAX_KEY_BYTES, common_prefix_len

Ref = Union["Node", bytes, None]
"""A subtree: an in-memory node, the binary CID of a stored node, or None for none."""

NODE_CID_PREFIX: Final = bytes((0x01, 0x71, 0x12, 0x20))  # CIDv1, dag-cbor, sha2-256, 32 bytes
_LINK_36: Final = b"\xd8\x2a\x58\x25\x00"  # tag 42, 37-byte string, 0x00 multibase prefix
_NO_T: Final = b"\x61t\xf6"
_T_LINK: Final = b"\x61t" + _LINK_36
_V_LINK: Final = b"\x61v" + _LINK_36
_T_NODE: Final = _T_LINK + NODE_CID_PREFIX
_V_NODE: Final = _V_LINK + NODE_CID_PREFIX


_TABLE: Final = 1100  # key suffixes and prefix lengths never exceed 1024
_K_HEAD: Final = tuple(b"\xa4\x61k" + cbor_head(2, n) for n in range(_TABLE))
_P_ITEM: Final = tuple(b"\x61p" + cbor_head(0, n) for n in range(_TABLE))
_E_HEAD: Final = tuple(b"\xa2\x61e" + cbor_head(4, n) for n in range(_TABLE))


class InvalidMstNode(RepoError):
    """Bytes are not a valid MST node, or a node does not fit where the tree places it."""


@final
class Node:
    """An MST node; its bytes and CID are computed once, on first use.

    `stored` marks nodes whose block is already in (or handed to) the block store: loaded
    nodes and nodes returned by `Mst.flush`. `height` is -1 for a node without keys, whose
    layer only its parent knows.
    """

    __slots__ = ("_data", "_link", "_patch", "height", "keys", "stored", "subs", "vals")

    def __init__(
        self,
        keys: tuple[bytes, ...],
        vals: tuple[bytes, ...],
        subs: tuple[Ref, ...],
        height: int,
    ) -> None:
        self.keys = keys
        self.vals = vals
        self.subs = subs
        self.height = height
        self.stored = False
        self._link: bytes | None = None
        self._data: bytes | None = None
        self._patch: tuple[bytes, bytes, bytes | None, int] | None = None

    def with_sub(self, index: int, sub: Ref) -> Node:
        """A copy with `subs[index]` replaced: the path copy every write makes."""
        subs = self.subs
        node = Node(self.keys, self.vals, (*subs[:index], sub, *subs[index + 1 :]), self.height)
        old = subs[index]
        if type(old) is Node:
            old = old._link
        if self._data is not None and old is not None:
            node._patch = (self._data, old, None, index)
        return node

    def with_val(self, index: int, val: bytes) -> Node:
        """A copy with `vals[index]` replaced (a record update)."""
        vals = self.vals
        node = Node(self.keys, (*vals[:index], val, *vals[index + 1 :]), self.subs, self.height)
        old = vals[index]
        if self._data is not None and len(old) == len(val) == 36:
            node._patch = (self._data, old, val, -1)
        return node

    @property
    def link(self) -> bytes:
        """The node's binary CID (hashes unhashed subtrees first)."""
        link = self._link
        if link is None:
            link = self._link = NODE_CID_PREFIX + sha256(self.data).digest()
        return link

    @property
    def cid(self) -> CID:
        """The node's CID as a `CID` object."""
        return CID(self.link)

    @property
    def data(self) -> bytes:
        """The node's canonical DAG-CBOR bytes."""
        data = self._data
        if data is None:
            if self._patch is not None:
                data = self._patched()
            if data is None:
                data = encode_node(self.keys, self.vals, self.subs)
            self._data = data
        return data

    def _patched(self) -> bytes | None:
        """A path copy's bytes: its source's bytes with the one changed 36-byte link swapped.

        This replaces a re-encode by one C-level search; it is used only when the old link
        occurs exactly once (a record value could share a subtree's CID), otherwise None.
        """
        patch, self._patch = self._patch, None
        if patch is None:
            return None
        source, old, new, index = patch
        if new is None:
            sub = self.subs[index]
            new = sub.link if type(sub) is Node else sub
        if new is None or source.count(old) != 1:
            return None
        return source.replace(old, new)

    def sub_links(self) -> tuple[bytes | None, ...]:
        """`subs` as binary CIDs (hashing in-memory subtrees)."""
        return tuple([sub.link if type(sub) is Node else sub for sub in self.subs])

    def detach(self) -> None:
        """Replace in-memory subtrees by their CIDs so memory holds only this node."""
        self.subs = self.sub_links()

    def __repr__(self) -> str:
        return f"Node(height={self.height}, keys={len(self.keys)}, cid={self.cid})"


def link_of(ref: Node | bytes) -> bytes:
    """The binary CID a subtree reference stands for."""
    return ref.link if type(ref) is Node else ref


# -- encoding ---------------------------------------------------------------------------


def _tagged(prefix: bytes, raw: bytes) -> bytes:
    if len(raw) == 36:
        return prefix + _LINK_36 + raw
    return prefix + b"\xd8\x2a" + cbor_head(2, len(raw) + 1) + b"\x00" + raw


def encode_node(keys: Sequence[bytes], vals: Sequence[bytes], subs: Sequence[Ref]) -> bytes:
    """Canonical DAG-CBOR of a node; byte-identical to `dag_cbor.encode` of its dict form.

    Map keys are written in canonical order: `e` before `l`; `k`, `p`, `t`, `v`. The shared
    prefix is found by XOR-ing the keys as big integers (C speed, no per-byte loop).
    """
    count = len(keys)
    out = [_E_HEAD[count] if count < _TABLE else b"\xa2\x61e" + cbor_head(4, count)]
    append = out.append
    prev = b""
    for index, key in enumerate(keys):
        size = min(len(prev), len(key))
        diff = int.from_bytes(prev[:size], "big") ^ int.from_bytes(key[:size], "big")
        shared = size - ((diff.bit_length() + 7) >> 3)
        suffix = key[shared:]
        if len(suffix) < _TABLE and shared < _TABLE:
            append(_K_HEAD[len(suffix)])
            append(suffix)
            append(_P_ITEM[shared])
        else:
            append(
                b"\xa4\x61k" + cbor_head(2, len(suffix)) + suffix + b"\x61p" + cbor_head(0, shared)
            )
        prev = key
        sub = subs[index + 1]
        if sub is None:
            append(_NO_T)
        else:
            append(_T_LINK)
            append(sub.link if type(sub) is Node else sub)
        raw = vals[index]
        if len(raw) == 36:
            append(_V_LINK)
            append(raw)
        else:
            append(_tagged(b"\x61v", raw))
    left = subs[0]
    if left is None:
        append(b"\x61l\xf6")
    else:
        append(b"\x61l" + _LINK_36)
        append(left.link if type(left) is Node else left)
    return b"".join(out)


def node_value(node: Node) -> dict[str, Any]:
    """The node as a data-model dict (for tests and debugging; the hot path never builds it)."""
    entries = []
    prev = b""
    subs = [None if sub is None else CID(sub) for sub in node.sub_links()]
    for index, key in enumerate(node.keys):
        shared = common_prefix_len(prev, key)
        entry = {"k": key[shared:], "p": shared, "t": subs[index + 1], "v": CID(node.vals[index])}
        entries.append(entry)
        prev = key
    return {"e": entries, "l": subs[0]}


# -- decoding ---------------------------------------------------------------------------


def _shape(what: str) -> InvalidMstNode:
    return InvalidMstNode(f"not a canonical MST node: {what}")


def _head_arg(data: bytes, pos: int, major: int) -> tuple[int, int]:
    """Read a minimal-length CBOR head of type `major`: (argument, next position)."""
    if pos >= len(data) or data[pos] >> 5 != major:
        raise _shape(f"expected CBOR major type {major} at byte {pos}")
    info = data[pos] & 0x1F
    if info < 24:
        return info, pos + 1
    if info > 27:
        raise _shape("indefinite or reserved length")
    size = 1 << (info - 24)
    end = pos + 1 + size
    if end > len(data):
        raise _shape("truncated")
    value = int.from_bytes(data[pos + 1 : end], "big")
    if value < (24 if size == 1 else 1 << (4 * size)):
        raise _shape("non-minimal integer encoding")
    return value, end


def _expect(data: bytes, pos: int, token: bytes) -> int:
    if data[pos : pos + len(token)] != token:
        raise _shape(f"expected {token!r} at byte {pos}")
    return pos + len(token)


def _read_link(data: bytes, pos: int) -> tuple[bytes | None, int]:
    """Read `null` or a tag-42 CID link, validated, as binary CID bytes."""
    if data[pos : pos + 1] == b"\xf6":
        return None, pos + 1
    if data[pos : pos + 2] != b"\xd8\x2a":
        raise _shape("expected null or a CID link")
    size, start = _head_arg(data, pos + 2, 2)
    end = start + size
    if size < 2 or data[start : start + 1] != b"\x00" or end > len(data):
        raise _shape("a CID link is 0x00 and the binary CID")
    try:
        return CID.decode(data[start + 1 : end]).raw, end
    except InvalidCid as exc:
        raise InvalidMstNode(str(exc)) from exc


def _read_node_link(data: bytes, pos: int, field: str) -> tuple[bytes | None, int]:
    link, pos = _read_link(data, pos)
    if link is not None and (len(link) != 36 or not link.startswith(NODE_CID_PREFIX)):
        raise InvalidMstNode(f"`{field}` must be null or a dag-cbor sha2-256 CIDv1 link")
    return link, pos


def decode_node(data: bytes, link: bytes | None = None) -> Node:
    """Decode and check one node on its own: shape, key order, prefixes, keys, heights.

    The parser accepts only the canonical byte layout, which for a valid node is unique, so
    it is a strict DAG-CBOR decoder for this one schema. Checks that need the node's place
    in the tree (its expected height, whether it may be empty) are `check_position`'s.
    """
    data = bytes(data)
    try:
        count, pos = _head_arg(data, _expect(data, 0, b"\xa2\x61e"), 4)
        prefixes, suffixes, vals, subs, pos = _entries(data, pos, count)
        subs[0], pos = _read_node_link(data, _expect(data, pos, b"\x61l"), "l")
    except IndexError as exc:
        raise _shape("truncated") from exc
    if len(vals) != count or pos != len(data):
        raise _shape("entry count or trailing bytes")
    keys, height = _keys(prefixes, suffixes)
    if height == 0 and any(sub is not None for sub in subs):
        raise InvalidMstNode("a node at height 0 has a subtree")
    node = Node(tuple(keys), tuple(vals), tuple(subs), height)
    node.stored = True
    node._data = data
    node._link = link
    return node


_Entries = tuple[list[int], list[bytes], list[bytes], list[bytes | None], int]


def _entries(data: bytes, pos: int, count: int) -> _Entries:
    """Parse `count` entries; the common one-byte heads and blessed links are inlined."""
    prefixes: list[int] = []
    suffixes: list[bytes] = []
    vals: list[bytes] = []
    subs: list[bytes | None] = [None]
    for _ in range(min(count, len(data))):
        head = data[pos + 3]
        if data[pos : pos + 3] == b"\xa4\x61k" and 0x40 <= head < 0x58:
            size, pos = head - 0x40, pos + 4
        else:
            size, pos = _head_arg(data, _expect(data, pos, b"\xa4\x61k"), 2)
        suffixes.append(data[pos : pos + size])
        pos += size
        head = data[pos + 2]
        if data[pos : pos + 2] != b"\x61p":
            raise _shape(f"expected `p` at byte {pos}")
        if head < 24:
            prefixes.append(head)
            pos += 3
        elif head == 24 and data[pos + 3] >= 24:
            prefixes.append(data[pos + 3])
            pos += 4
        else:
            prefix, pos = _head_arg(data, _expect(data, pos, b"\x61p"), 0)
            prefixes.append(prefix)
        if data[pos : pos + 3] == _NO_T:
            subs.append(None)
            pos += 3
        elif data[pos : pos + 11] == _T_NODE and pos + 43 <= len(data):
            subs.append(data[pos + 7 : pos + 43])
            pos += 43
        else:
            sub, pos = _read_node_link(data, _expect(data, pos, b"\x61t"), "t")
            subs.append(sub)
        if data[pos : pos + 11] == _V_NODE and pos + 43 <= len(data):
            vals.append(data[pos + 7 : pos + 43])
            pos += 43
        else:
            val, pos = _read_link(data, _expect(data, pos, b"\x61v"))
            if val is None:
                raise InvalidMstNode("entry value `v` may not be null")
            vals.append(val)
    return prefixes, suffixes, vals, subs, pos


def _keys(prefixes: list[int], suffixes: list[bytes]) -> tuple[list[bytes], int]:
    """Rebuild the keys, checking prefixes, order, syntax and one shared height (-1: none)."""
    keys: list[bytes] = []
    prev = b""
    height = -1
    for prefix, suffix in zip(prefixes, suffixes, strict=True):
        if prefix > len(prev):
            raise InvalidMstNode("prefix length longer than the previous key")
        if prefix < len(prev) and suffix[:1] == prev[prefix : prefix + 1]:
            raise InvalidMstNode("prefix length is not the whole shared prefix")
        key = prev[:prefix] + suffix
        if keys and key <= prev:
            raise InvalidMstNode("keys are not in strictly increasing order")
        if len(key) > MAX_KEY_BYTES or KEY_PATTERN.fullmatch(key) is None:
            raise InvalidMstNode(f"invalid key {key!r:.80}")
        digest = int.from_bytes(sha256(key).digest(), "big")
        if height != (256 - digest.bit_length()) >> 1:
            if keys:
                raise InvalidMstNode("keys of one node have different heights")
            height = (256 - digest.bit_length()) >> 1
        keys.append(key)
        prev = key
    return keys, height


def check_position(node: Node, height: int, *, root: bool = False) -> None:
    """Check a node fits its place: keyed nodes at their own height, empty ones pruned.

    Only the root of an empty tree may have no keys and no subtree; a root may not be a
    key-less node over one subtree (the top is pruned); inside the tree a key-less node is
    an intermediate one and must point to a lower subtree.
    """
    if node.keys:
        if node.height != height:
            raise InvalidMstNode(f"node of height {node.height} found at height {height}")
        return
    if node.subs[0] is None:
        if not root:
            raise InvalidMstNode("empty node inside the tree")
    elif root:
        raise InvalidMstNode("root is a key-less node over a subtree (top not pruned)")
    elif height <= 0:
        raise InvalidMstNode("key-less node with a subtree at height 0")
