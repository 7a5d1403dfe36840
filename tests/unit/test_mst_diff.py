"""MST diff: exact record ops and node blocks, at a cost proportional to the change."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.data.cid import CID
from domain.repo.block_map import BlockMap
from domain.repo.mst import Mst
from domain.repo.mst_diff import LeafCreate, LeafDelete, LeafUpdate, mst_diff

P = "com.example.record/"


def value_for(n: int) -> CID:
    return CID.for_dag_cbor(n.to_bytes(4, "big"))


def node_cids(tree: Mst) -> set[CID]:
    return {cid for cid, _ in tree.node_blocks()}


_rkeys = st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True).map(lambda k: P + k)
_entries = st.dictionaries(_rkeys, st.integers(0, 30).map(value_for), max_size=100)


@given(_entries, _entries)
def test_diff_applied_to_old_gives_new(
    old_entries: dict[str, CID], new_entries: dict[str, CID]
) -> None:
    old = Mst.build(BlockMap(), old_entries.items())
    new = Mst.build(BlockMap(), new_entries.items())
    diff = mst_diff(old, new)
    patched = old
    for op in diff.deletes:
        assert patched.get(op.key) == op.prev
        patched = patched.delete(op.key)
    for update in diff.updates:
        assert patched.get(update.key) == update.prev
        patched = patched.put(update.key, update.cid)
    for create in diff.creates:
        patched = patched.put(create.key, create.cid)
    assert patched.root == new.root
    assert set(diff.new_blocks) == node_cids(new) - node_cids(old)
    assert set(diff.removed_nodes) == node_cids(old) - node_cids(new)
    for cid in diff.new_blocks:
        assert CID.for_dag_cbor(diff.new_blocks.require(cid)) == cid


def test_diff_reports_creates_updates_and_deletes_with_prev() -> None:
    old = Mst.build(BlockMap(), [(P + "a", value_for(1)), (P + "b", value_for(2))])
    new = old.put(P + "a", value_for(9)).delete(P + "b").put(P + "c", value_for(3))
    diff = mst_diff(old, new)
    assert diff.creates == [LeafCreate(P + "c", value_for(3))]
    assert diff.updates == [LeafUpdate(P + "a", value_for(1), value_for(9))]
    assert diff.deletes == [LeafDelete(P + "b", value_for(2))]
    assert diff.new_leaf_cids == {value_for(3), value_for(9)}
    assert diff.removed_leaf_cids == {value_for(1), value_for(2)}
    assert set(diff.removed_cids) == set(diff.removed_nodes) | diff.removed_leaf_cids


def test_a_record_moved_to_another_key_is_neither_new_nor_removed() -> None:
    old = Mst.build(BlockMap(), [(P + "a", value_for(1))])
    diff = mst_diff(old, old.delete(P + "a").put(P + "b", value_for(1)))
    assert not diff.new_leaf_cids and not diff.removed_leaf_cids


def test_diff_from_nothing_creates_everything() -> None:
    new = Mst.build(BlockMap(), [(P + f"k{n}", value_for(n)) for n in range(50)])
    diff = mst_diff(None, new)
    assert [op.key for op in diff.creates] == sorted(P + f"k{n}" for n in range(50))
    assert set(diff.new_blocks) == node_cids(new)


def test_identical_trees_diff_to_nothing() -> None:
    tree = Mst.build(BlockMap(), [(P + f"k{n}", value_for(n)) for n in range(50)])
    diff = mst_diff(tree, Mst.build(BlockMap(), [(P + f"k{n}", value_for(n)) for n in range(50)]))
    assert not (diff.creates or diff.updates or diff.deletes or diff.new_blocks)


class CountingReader:
    def __init__(self, blocks: BlockMap) -> None:
        self.blocks = blocks
        self.reads = 0

    def get_block(self, cid: CID) -> bytes | None:
        self.reads += 1
        return self.blocks.get_block(cid)


def test_diff_cost_is_proportional_to_the_change_not_the_tree() -> None:
    blocks = BlockMap()
    old = Mst.build(blocks, [(f"coll/k{n:06d}", value_for(n)) for n in range(20_000)])
    blocks.update(old.flush())
    reader = CountingReader(blocks)
    stored_old = Mst.load(reader, old.root)
    new = stored_old.put("coll/k012345", value_for(0)).delete("coll/k000077")
    diff = mst_diff(stored_old, new)
    assert len(diff.updates) == 1 and len(diff.deletes) == 1
    assert reader.reads <= 4 * (old.height + 1)
    assert len(node_cids(old)) > 5000
