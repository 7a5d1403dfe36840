"""Covering proofs: the MST nodes that prove a key's value, or its absence, and its neighbours.

A proof for `key` is the union of two search paths, each followed to the bottom of the tree:
one for a key infinitesimally below `key` (`bisect_left` at every node) and one for a key
infinitesimally above it (`bisect_right`). Where `key` is absent both are its own search
path; where it is present they continue down the right edge of the subtree before it and
the left edge of the subtree after it, reaching both neighbouring leaves. This is the same
set of nodes as the reference `getCoveringProof`, so it carries what `com.atproto.sync.
getRecord` needs and, for every op of a commit, what a consumer needs to invert it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence

from domain.repo.block_map import BlockMap
from domain.repo.mst import Mst
from domain.repo.mst_key import key_bytes
from domain.repo.mst_node import Node

_Bisect = Callable[[Sequence[bytes], bytes], int]


def covering_proof(tree: Mst, key: str, into: BlockMap | None = None) -> BlockMap:
    """Node blocks proving the value (or absence) of `key` and of its two neighbours."""
    blocks = BlockMap() if into is None else into
    raw = key_bytes(key)
    _add_path(tree, raw, bisect_left, blocks)
    _add_path(tree, raw, bisect_right, blocks)
    return blocks


def covering_proofs(tree: Mst, keys: Iterable[str]) -> BlockMap:
    """The union of the covering proofs of `keys` (a commit's ops: its firehose slice)."""
    blocks = BlockMap()
    for key in keys:
        covering_proof(tree, key, blocks)
    return blocks


def _add_path(tree: Mst, key: bytes, bisect: _Bisect, blocks: BlockMap) -> None:
    node: Node = tree.root_node
    height = tree.height
    while True:
        cid = node.cid
        if cid not in blocks:
            blocks.set(cid, node.data)
        sub = node.subs[bisect(node.keys, key)]
        if sub is None:
            return
        height -= 1
        node = tree.store.load(sub, height)
