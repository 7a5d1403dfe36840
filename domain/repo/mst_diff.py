"""The difference between two MST roots, in time proportional to the change.

Both trees are walked layer by layer from the top. At each height, nodes present in both
trees (same CID) are dropped with their whole subtree; only nodes unique to one side are
opened and their children queued for the layer below. This is exact because a node can sit
at only one place in a valid tree: if a node is shared, so is its parent's copy of it.
Leaves read from the unique nodes then give the record operations: a key may move between
nodes without changing, so an entry counts only when its key or value differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.data.cid import CID
from domain.repo.block_map import BlockMap
from domain.repo.mst import Mst
from domain.repo.mst_node import Node, link_of


@dataclass(frozen=True, slots=True)
class LeafCreate:
    """A record that exists only in the new tree."""

    key: str
    cid: CID


@dataclass(frozen=True, slots=True)
class LeafUpdate:
    """A record whose value changed from `prev` to `cid`."""

    key: str
    prev: CID
    cid: CID


@dataclass(frozen=True, slots=True)
class LeafDelete:
    """A record that exists only in the old tree."""

    key: str
    prev: CID


@dataclass(slots=True)
class MstDiff:
    """Record operations (key order) plus the node blocks gained and the CIDs dropped.

    `new_leaf_cids`/`removed_leaf_cids` are record values that enter or leave the tree
    through the changed keys (a value moved between keys is in neither); values also held
    by unchanged keys are not looked for.
    """

    creates: list[LeafCreate] = field(default_factory=list)
    updates: list[LeafUpdate] = field(default_factory=list)
    deletes: list[LeafDelete] = field(default_factory=list)
    new_blocks: BlockMap = field(default_factory=BlockMap)
    removed_nodes: list[CID] = field(default_factory=list)
    new_leaf_cids: set[CID] = field(default_factory=set)
    removed_leaf_cids: set[CID] = field(default_factory=set)

    @property
    def removed_cids(self) -> list[CID]:
        """Node and record CIDs no longer referenced through the changed part of the tree."""
        return [*self.removed_nodes, *sorted(self.removed_leaf_cids)]


_Layer = dict[bytes, "Node | bytes"]


def mst_diff(old: Mst | None, new: Mst) -> MstDiff:
    """What turns `old` (None: nothing) into `new`."""
    diff = MstDiff()
    old_leaves: dict[bytes, bytes] = {}
    new_leaves: dict[bytes, bytes] = {}
    old_layers: dict[int, _Layer] = {}
    old_store = new.store
    if old is not None:
        old_layers[old.height] = {old.root_node.link: old.root_node}
        old_store = old.store
    new_layers: dict[int, _Layer] = {new.height: {new.root_node.link: new.root_node}}
    for height in range(max(new.height, old.height if old else 0), -1, -1):
        before = old_layers.pop(height, {})
        after = new_layers.pop(height, {})
        for link in before.keys() & after.keys():
            del before[link], after[link]
        for link, ref in before.items():
            diff.removed_nodes.append(CID(link))
            node = old_store.load(ref, height)
            _open(node, old_leaves, old_layers.setdefault(height - 1, {}))
        for link, ref in after.items():
            node = new.store.load(ref, height)
            diff.new_blocks.set(CID(link), node.data)
            _open(node, new_leaves, new_layers.setdefault(height - 1, {}))
    _record_ops(diff, old_leaves, new_leaves)
    return diff


def _open(node: Node, leaves: dict[bytes, bytes], below: _Layer) -> None:
    """Note a unique node's entries and queue its subtrees for the next layer."""
    leaves.update(zip(node.keys, node.vals, strict=True))
    for sub in node.subs:
        if sub is not None:
            below[link_of(sub)] = sub


def _record_ops(diff: MstDiff, old: dict[bytes, bytes], new: dict[bytes, bytes]) -> None:
    for key in sorted(old.keys() | new.keys()):
        prev, cid = old.get(key), new.get(key)
        text = key.decode("ascii")
        if prev is not None and cid is not None:
            if prev != cid:
                diff.updates.append(LeafUpdate(text, CID(prev), CID(cid)))
        elif cid is not None:
            diff.creates.append(LeafCreate(text, CID(cid)))
        elif prev is not None:
            diff.deletes.append(LeafDelete(text, CID(prev)))
    added = {op.cid for op in diff.creates} | {op.cid for op in diff.updates}
    dropped = {op.prev for op in diff.deletes} | {op.prev for op in diff.updates}
    diff.new_leaf_cids = added - dropped
    diff.removed_leaf_cids = dropped - added
