"""The batched export walk emits exactly the reference pre-order, in few reads, with bounded
memory: compared with `Mst.car_blocks` (the domain's one-node-at-a-time walk) over random
trees, read-ahead windows from 1 block up, and missing blocks."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.repo_walk import walk_tree
from domain.data import dag_cbor
from domain.data.cid import CID
from domain.repo.block_reader import MissingBlock
from domain.repo.mst import Mst

COLLECTIONS = ("app.bsky.feed.post", "app.bsky.feed.like", "com.example.note")


class CountingBlocks:
    """`BlockStore` over a dict that counts reads and remembers the largest batch."""

    def __init__(self, blocks: dict[CID, bytes]) -> None:
        self.blocks = blocks
        self.reads = 0
        self.largest = 0

    def get_block(self, cid: CID) -> bytes | None:
        self.reads += 1
        self.largest = max(self.largest, 1)
        return self.blocks.get(cid)

    def get_blocks(self, cids: Iterable[CID]) -> dict[CID, bytes]:
        wanted = list(cids)
        self.reads += 1
        self.largest = max(self.largest, len(wanted))
        return {cid: self.blocks[cid] for cid in wanted if cid in self.blocks}


def _repo(keys: Iterable[str], *, same_record: bool = False) -> tuple[Mst, CountingBlocks]:
    """A tree over `keys` whose records are stored beside its nodes."""
    blocks: dict[CID, bytes] = {}
    items = []
    for n, key in enumerate(sorted(set(keys))):
        data = dag_cbor.encode({"$type": "com.example.note", "n": 0 if same_record else n})
        cid = CID.for_dag_cbor(data)
        blocks[cid] = data
        items.append((key, cid))
    store = CountingBlocks(blocks)
    tree = Mst.build(store, items)
    for cid, data in tree.flush().items():
        blocks[cid] = data
    return tree, store


class _Reader:
    """The reference walk's record reader (uncounted)."""

    def __init__(self, store: CountingBlocks) -> None:
        self.store = store

    def get_block(self, cid: CID) -> bytes | None:
        return self.store.blocks.get(cid)


def _reference(tree: Mst, store: CountingBlocks) -> list[tuple[CID, bytes]]:
    return list(tree.car_blocks(_Reader(store)))


def _keys(count: int) -> list[str]:
    return [f"{COLLECTIONS[n % 3]}/{n:013d}" for n in range(count)]


keys = st.lists(
    st.tuples(st.sampled_from(COLLECTIONS), st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True)),
    max_size=300,
).map(lambda pairs: [f"{c}/{r}" for c, r in pairs])


@given(keys=keys, window=st.integers(min_value=1, max_value=64))
def test_walk_emits_the_reference_pre_order_for_any_tree_and_window(
    keys: list[str], window: int
) -> None:
    tree, store = _repo(keys)
    assert list(walk_tree(store, tree.root, window)) == _reference(tree, store)


@pytest.mark.parametrize("count", [0, 1, 5, 60, 3000])
def test_walk_of_small_and_multi_level_trees_matches_the_reference(count: int) -> None:
    tree, store = _repo(_keys(count))
    assert list(walk_tree(store, tree.root)) == _reference(tree, store)


def test_walk_reads_in_batches_of_at_most_the_window() -> None:
    tree, store = _repo(_keys(5000))
    walked = list(walk_tree(store, tree.root, window=200))
    nodes = sum(1 for _ in tree.node_blocks())
    assert walked == _reference(tree, store)
    assert tree.height >= 3
    assert store.largest <= 200
    assert store.reads < nodes / 5  # one read per node (and one per node's records) before


def test_walk_repeats_a_record_shared_by_two_keys_as_the_reference_does() -> None:
    tree, store = _repo(_keys(500), same_record=True)
    walked = list(walk_tree(store, tree.root, window=16))
    assert walked == _reference(tree, store)
    assert len({cid for cid, _ in walked}) < len(walked)


def test_a_missing_record_is_left_out() -> None:
    tree, store = _repo(_keys(200))
    gone = next(cid for _, cid in tree.walk())
    del store.blocks[gone]
    walked = list(walk_tree(store, tree.root, window=8))
    assert gone not in {cid for cid, _ in walked}
    assert walked == _reference(tree, store)


def test_a_missing_node_raises_missing_block() -> None:
    tree, store = _repo(_keys(2000))
    deep = list(tree.node_blocks())[-1][0]
    del store.blocks[deep]
    with pytest.raises(MissingBlock):
        list(walk_tree(store, tree.root, window=8))
