"""The Merkle Search Tree of an atproto repository: persistent, lazy, read through a port.

A tree is a root node plus a `NodeStore` that loads other nodes by CID through a
`BlockReader`, keeping decoded nodes in a bounded LRU, so a repository of a million records
is never in memory. Mutations copy only the nodes on the touched path and return a new
`Mst`; new nodes are plain in-memory objects until someone needs a CID, so a batch of writes
hashes each new node once. `flush` then hands back the blocks of the nodes writes created.

Every node sits at a known height: the root's is its keys' height and a subtree is always
one below its parent, so no operation has to load a node just to learn where it belongs.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Final

from domain.data.cid import CID
from domain.repo.block_map import BlockMap
from domain.repo.block_reader import BlockReader, MissingBlock
from domain.repo.mst_key import key_bytes, key_height
from domain.repo.mst_node import Node, Ref, check_position, decode_node

DEFAULT_CACHE_NODES: Final = 16_384


class NodeStore:
    """Decoded nodes by CID: an LRU in front of a `BlockReader`; shared by a repo's trees."""

    __slots__ = ("_cache", "capacity", "reader")

    def __init__(self, reader: BlockReader, capacity: int = DEFAULT_CACHE_NODES) -> None:
        self.reader = reader
        self.capacity = capacity
        self._cache: OrderedDict[bytes, Node] = OrderedDict()

    def load(self, ref: Node | bytes, height: int) -> Node:
        """The node `ref` stands for, checked to fit at `height` (raises `MissingBlock`)."""
        if type(ref) is Node:
            return ref
        node = self._cache.get(ref)
        if node is None:
            node = self._fetch(ref)
        else:
            self._cache.move_to_end(ref)
        if node.height != height:
            check_position(node, height)
        return node

    def load_root(self, cid: CID) -> Node:
        """The root node of a tree, checked to be a valid root."""
        node = self._cache.get(cid.raw) or self._fetch(cid.raw)
        check_position(node, node.height, root=True)
        return node

    def flush(self, root: Node) -> BlockMap:
        """Blocks of the unstored nodes under `root`, which from now on count as stored.

        They join the cache and are referred to by CID, so the caller must put the blocks
        where `reader` finds them before the cache could evict them.
        """
        blocks = BlockMap()
        _collect(self._cache, root, blocks)
        root.detach()
        self._trim()
        return blocks

    def __contains__(self, link: object) -> bool:
        return link in self._cache

    def __len__(self) -> int:
        return len(self._cache)

    def _fetch(self, link: bytes) -> Node:
        cid = CID(link)
        data = self.reader.get_block(cid)
        if data is None:
            raise MissingBlock(cid)
        node = decode_node(data, link)
        self._cache[link] = node
        self._trim()
        return node

    def _trim(self) -> None:
        cache = self._cache
        while len(cache) > self.capacity:
            cache.popitem(last=False)


def _empty_node() -> Node:
    return Node((), (), (None,), 0)


class Mst:
    """An immutable MST value: reads, copy-on-write writes, ordered listing."""

    __slots__ = ("_height", "_root", "store")

    def __init__(self, store: NodeStore, root: Node, height: int) -> None:
        """Internal: use `empty`, `load` or `build`."""
        self.store = store
        self._root = root
        self._height = height

    # -- construction ----------------------------------------------------------------
    @classmethod
    def empty(cls, store: NodeStore | BlockReader) -> Mst:
        """A tree with no records."""
        return cls(_as_store(store), _empty_node(), 0)

    @classmethod
    def load(cls, store: NodeStore | BlockReader, root: CID) -> Mst:
        """The tree whose root node is `root` (only the root block is read now)."""
        store = _as_store(store)
        node = store.load_root(root)
        return cls(store, node, node.height if node.keys else 0)

    @classmethod
    def build(cls, store: NodeStore | BlockReader, items: Iterable[tuple[str, CID]]) -> Mst:
        """Bulk-load a tree from (key, value) pairs in one bottom-up pass (no per-key copies)."""
        pairs = sorted((key_bytes(key), value) for key, value in items)
        keys = [key for key, _ in pairs]
        if any(a == b for a, b in itertools.pairwise(keys)):
            raise ValueError("duplicate key in MST build")
        if not keys:
            return cls.empty(store)
        builder = _Builder(keys, [value.raw for _, value in pairs])
        return cls(_as_store(store), builder.build(), builder.top)

    # -- reads -----------------------------------------------------------------------
    @property
    def root(self) -> CID:
        """The root CID (the commit's `data`); hashes pending nodes once."""
        return self._root.cid

    @property
    def root_node(self) -> Node:
        """The root node itself (for diffs and proofs)."""
        return self._root

    @property
    def height(self) -> int:
        """The layer of the root node."""
        return self._height

    @property
    def is_empty(self) -> bool:
        """True when the tree holds no records."""
        return not self._root.keys and self._root.subs[0] is None

    def get(self, key: str) -> CID | None:
        """The value at `key`, or None."""
        link = self.get_link(key)
        return None if link is None else CID(link)

    def get_link(self, key: str) -> bytes | None:
        """The value at `key` as a binary CID, or None; stops at the key's own layer."""
        raw = key_bytes(key)
        wanted = key_height(raw)
        height = self._height
        if wanted > height:
            return None
        node = self._root
        while height > wanted:
            sub = node.subs[bisect_left(node.keys, raw)]
            if sub is None:
                return None
            height -= 1
            node = self.store.load(sub, height)
        index = bisect_left(node.keys, raw)
        if index < len(node.keys) and node.keys[index] == raw:
            return node.vals[index]
        return None

    def items(
        self, start: str | None = None, end: str | None = None, reverse: bool = False
    ) -> Iterator[tuple[str, CID]]:
        """(key, value) with `start <= key < end` in key order (or reversed), loading lazily.

        For an exclusive cursor pass `cursor + "\\x00"` as `start` (its immediate successor).
        """
        low = b"" if start is None else start.encode()
        high = None if end is None else end.encode()
        if high is not None and low >= high:
            return
        walk = _items_reversed if reverse else _items
        for key, value in walk(self.store, self._root, self._height, low, high):
            yield key.decode("ascii"), CID(value)

    def walk(self) -> Iterator[tuple[str, CID]]:
        """Every (key, value) leaf in key order."""
        return self.items()

    def node_blocks(self) -> Iterator[tuple[CID, bytes]]:
        """Every node block, parents before children, left to right (export order)."""
        for link, data in _node_blocks(self.store, self._root, self._height):
            yield CID(link), data

    def car_blocks(self, records: BlockReader) -> Iterator[tuple[CID, bytes]]:
        """Nodes and records in the spec's streamable CAR order (pre-order, records inline).

        Each node, then its left subtree, then per entry the record and its right subtree.
        Records `records` lacks are left out, as a repo may link to blocks it does not hold.
        """
        return _car_blocks(self.store, self._root, self._height, records)

    # -- writes ----------------------------------------------------------------------
    def put(self, key: str, value: CID) -> Mst:
        """The tree with `key` set to `value` (inserted or replaced)."""
        raw = key_bytes(key)
        wanted = key_height(raw)
        link = value.raw
        if self.is_empty:
            return Mst(self.store, Node((raw,), (link,), (None, None), wanted), wanted)
        if wanted > self._height:
            return self._grow(raw, link, wanted)
        node = _put(self.store, self._root, self._height, raw, link, wanted)
        return self if node is None else Mst(self.store, node, self._height)

    def delete(self, key: str) -> Mst:
        """The tree without `key`; raises `KeyError` when it is absent."""
        raw = key_bytes(key)
        wanted = key_height(raw)
        if wanted > self._height:
            raise KeyError(key)
        node = _delete(self.store, self._root, self._height, raw, wanted)
        if node is None:
            return Mst.empty(self.store)
        height = self._height
        while not node.keys:  # trim key-less nodes from the top
            below = node.subs[0]
            assert below is not None, "a key-less node inside a tree has a subtree"
            height -= 1
            node = self.store.load(below, height)
        return Mst(self.store, node, height)

    def flush(self) -> BlockMap:
        """Hash pending nodes and return the blocks not yet handed out, parents first.

        The caller must store them where `store.reader` finds them: afterwards the tree
        refers to them by CID only, so memory holds nothing but the root and the LRU.
        """
        return self.store.flush(self._root)

    def _grow(self, raw: bytes, value: bytes, wanted: int) -> Mst:
        """Insert a key above the root: split the tree around it, pad the halves upward."""
        left, right = _split(self.store, self._root, self._height, raw)
        for height in range(self._height + 1, wanted):
            left = None if left is None else Node((), (), (left,), height)
            right = None if right is None else Node((), (), (right,), height)
        return Mst(self.store, Node((raw,), (value,), (left, right), wanted), wanted)

    def __repr__(self) -> str:
        return f"Mst(root={self.root}, height={self._height})"


def _as_store(store: NodeStore | BlockReader) -> NodeStore:
    return store if isinstance(store, NodeStore) else NodeStore(store)


def _chain(key: bytes, value: bytes, key_layer: int, height: int) -> Node:
    """A new subtree at `height` holding one key, with key-less nodes down to its layer."""
    node = Node((key,), (value,), (None, None), key_layer)
    for layer in range(key_layer + 1, height + 1):
        node = Node((), (), (node,), layer)
    return node


def _put(
    store: NodeStore, ref: Ref, height: int, key: bytes, value: bytes, layer: int
) -> Node | None:
    """Put below or at `height`; None means nothing changed."""
    if ref is None:
        return _chain(key, value, layer, height)
    node = store.load(ref, height)
    keys, vals, subs = node.keys, node.vals, node.subs
    index = bisect_left(keys, key)
    if height > layer:
        child = _put(store, subs[index], height - 1, key, value, layer)
        return None if child is None else node.with_sub(index, child)
    if index < len(keys) and keys[index] == key:
        if vals[index] == value:
            return None
        return node.with_val(index, value)
    left, right = _split(store, subs[index], height - 1, key)
    return Node(
        (*keys[:index], key, *keys[index:]),
        (*vals[:index], value, *vals[index:]),
        (*subs[:index], left, right, *subs[index + 1 :]),
        height,
    )


def _split(store: NodeStore, ref: Ref, height: int, key: bytes) -> tuple[Ref, Ref]:
    """The parts of a subtree below and above `key`, each at the same height or None."""
    if ref is None:
        return None, None
    node = store.load(ref, height)
    keys, vals, subs = node.keys, node.vals, node.subs
    index = bisect_left(keys, key)
    sub = subs[index]
    lower, upper = _split(store, sub, height - 1, key)
    if upper is None and lower is sub and index == len(keys):
        return ref, None  # wholly below the key: keep the node as it is
    if lower is None and upper is sub and index == 0:
        return None, ref
    left = None
    if index or lower is not None:
        left = Node(keys[:index], vals[:index], (*subs[:index], lower), height)
    right = None
    if index < len(keys) or upper is not None:
        right = Node(keys[index:], vals[index:], (upper, *subs[index + 1 :]), height)
    return left, right


def _delete(store: NodeStore, ref: Ref, height: int, key: bytes, layer: int) -> Node | None:
    """Delete below or at `height`; None when the subtree becomes empty."""
    if ref is None:
        raise KeyError(key.decode("ascii"))
    node = store.load(ref, height)
    keys, vals, subs = node.keys, node.vals, node.subs
    index = bisect_left(keys, key)
    if height > layer:
        child = _delete(store, subs[index], height - 1, key, layer)
        if child is None and not keys:
            return None
        return node.with_sub(index, child)
    if index == len(keys) or keys[index] != key:
        raise KeyError(key.decode("ascii"))
    merged = _merge(store, subs[index], subs[index + 1], height - 1)
    if len(keys) == 1 and merged is None:
        return None
    return Node(
        (*keys[:index], *keys[index + 1 :]),
        (*vals[:index], *vals[index + 1 :]),
        (*subs[:index], merged, *subs[index + 2 :]),
        height,
    )


def _merge(store: NodeStore, left: Ref, right: Ref, height: int) -> Ref:
    """Join two adjacent subtrees of one height (every left key below every right key)."""
    if left is None:
        return right
    if right is None:
        return left
    low = store.load(left, height)
    high = store.load(right, height)
    middle = _merge(store, low.subs[-1], high.subs[0], height - 1)
    return Node(
        low.keys + high.keys,
        low.vals + high.vals,
        (*low.subs[:-1], middle, *high.subs[1:]),
        height,
    )


def _items(
    store: NodeStore, ref: Node | bytes, height: int, low: bytes, high: bytes | None
) -> Iterator[tuple[bytes, bytes]]:
    node = store.load(ref, height)
    keys, vals, subs = node.keys, node.vals, node.subs
    first = bisect_left(keys, low) if low else 0
    last = len(keys) if high is None else bisect_left(keys, high)
    for index in range(first, last):
        sub = subs[index]
        if sub is not None:
            yield from _items(store, sub, height - 1, low, high)
        yield keys[index], vals[index]
    sub = subs[last]
    if sub is not None:
        yield from _items(store, sub, height - 1, low, high)


def _items_reversed(
    store: NodeStore, ref: Node | bytes, height: int, low: bytes, high: bytes | None
) -> Iterator[tuple[bytes, bytes]]:
    node = store.load(ref, height)
    keys, vals, subs = node.keys, node.vals, node.subs
    first = bisect_left(keys, low) if low else 0
    last = len(keys) if high is None else bisect_left(keys, high)
    sub = subs[last]
    if sub is not None:
        yield from _items_reversed(store, sub, height - 1, low, high)
    for index in range(last - 1, first - 1, -1):
        yield keys[index], vals[index]
        sub = subs[index]
        if sub is not None:
            yield from _items_reversed(store, sub, height - 1, low, high)


def _node_blocks(store: NodeStore, ref: Node | bytes, height: int) -> Iterator[tuple[bytes, bytes]]:
    node = store.load(ref, height)
    yield node.link, node.data
    for sub in node.subs:
        if sub is not None:
            yield from _node_blocks(store, sub, height - 1)


def _car_blocks(
    store: NodeStore, ref: Node | bytes, height: int, records: BlockReader
) -> Iterator[tuple[CID, bytes]]:
    node = store.load(ref, height)
    yield CID(node.link), node.data
    subs = node.subs
    if subs[0] is not None:
        yield from _car_blocks(store, subs[0], height - 1, records)
    for index, value in enumerate(node.vals):
        cid = CID(value)
        data = records.get_block(cid)
        if data is not None:
            yield cid, data
        sub = subs[index + 1]
        if sub is not None:
            yield from _car_blocks(store, sub, height - 1, records)


def _collect(cache: OrderedDict[bytes, Node], node: Node, blocks: BlockMap) -> None:
    """Emit the unstored nodes under `node`, parents first, then refer to them by CID.

    Every node a write created counts, even one equal to a node some tree already has (a
    put undone by a delete, or another repository's identical subtree): a spare block is
    harmless in a commit's slice, a missing one breaks it. Children are cached before their
    parents, so upper nodes stay the most recently used.
    """
    if node.stored:
        return
    node.stored = True
    link = node.link
    blocks.set(CID(link), node.data)
    subs = node.subs
    for sub in subs:
        if type(sub) is Node:
            _collect(cache, sub, blocks)
    node.subs = tuple([sub.link if type(sub) is Node else sub for sub in subs])
    cache[link] = node


class _Builder:
    """Bottom-up bulk load of sorted keys: each node is created once, at its final shape."""

    __slots__ = ("by_height", "keys", "top", "vals")

    def __init__(self, keys: list[bytes], vals: list[bytes]) -> None:
        self.keys = keys
        self.vals = vals
        self.by_height: dict[int, list[int]] = {}
        for position, key in enumerate(keys):
            self.by_height.setdefault(key_height(key), []).append(position)
        self.top = max(self.by_height)

    def build(self) -> Node:
        root = self._subtree(0, len(self.keys), self.top)
        assert root is not None
        return root

    def _subtree(self, low: int, high: int, height: int) -> Node | None:
        """The subtree holding keys[low:high], rooted at `height`."""
        if low >= high:
            return None
        positions = self.by_height.get(height, [])
        here = positions[bisect_left(positions, low) : bisect_left(positions, high)]
        subs: list[Ref] = []
        start = low
        for position in here:
            subs.append(self._subtree(start, position, height - 1))
            start = position + 1
        subs.append(self._subtree(start, high, height - 1))
        keys = tuple(self.keys[position] for position in here)
        vals = tuple(self.vals[position] for position in here)
        return Node(keys, vals, tuple(subs), height)
