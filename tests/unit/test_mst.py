"""The MST: reference known-answer roots, copy-on-write writes, listing, laziness, flushing."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.data.cid import CID
from domain.repo.block_map import BlockMap
from domain.repo.block_reader import MissingBlock
from domain.repo.mst import Mst, NodeStore
from domain.repo.mst_key import InvalidMstKey
from domain.repo.mst_node import decode_node

LEAF = CID.parse("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454")
P = "com.example.record/"


def tree_of(keys: list[str], value: CID = LEAF) -> Mst:
    tree = Mst.empty(BlockMap())
    for key in keys:
        tree = tree.put(key, value)
    return tree


def value_for(n: int) -> CID:
    return CID.for_dag_cbor(n.to_bytes(4, "big"))


# -- known answers from the reference mst.test.ts -------------------------------------------

KNOWN_ROOTS = {
    "empty": ([], 0, "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"),
    "trivial": (
        ["3jqfcqzm3fo2j"],
        0,
        "bafyreibj4lsc3aqnrvphp5xmrnfoorvru4wynt6lwidqbm2623a6tatzdu",
    ),
    "singlelayer2": (
        ["3jqfcqzm3fx2j"],
        2,
        "bafyreih7wfei65pxzhauoibu3ls7jgmkju4bspy4t2ha2qdjnzqvoy33ai",
    ),
    "simple": (
        ["3jqfcqzm3fp2j", "3jqfcqzm3fr2j", "3jqfcqzm3fs2j", "3jqfcqzm3ft2j", "3jqfcqzm4fc2j"],
        1,
        "bafyreicmahysq4n6wfuxo522m6dpiy7z7qzym3dzs756t5n7nfdgccwq7m",
    ),
}


@pytest.mark.parametrize("case", KNOWN_ROOTS.values(), ids=KNOWN_ROOTS.keys())
def test_known_map_has_reference_root(case: tuple[list[str], int, str]) -> None:
    rkeys, height, root = case
    tree = tree_of([P + k for k in rkeys])
    assert str(tree.root) == root
    assert tree.height == height
    assert len(list(tree.walk())) == len(rkeys)


def test_delete_trims_the_top_of_the_tree() -> None:
    keys = ["3jqfcqzm3fn2j", "3jqfcqzm3fo2j", "3jqfcqzm3fp2j", "3jqfcqzm3fs2j"]
    tree = tree_of([P + k for k in [*keys, "3jqfcqzm3ft2j", "3jqfcqzm3fu2j"]])
    assert (tree.height, str(tree.root)) == (
        1,
        "bafyreifnqrwbk6ffmyaz5qtujqrzf5qmxf7cbxvgzktl4e3gabuxbtatv4",
    )
    tree = tree.delete(P + "3jqfcqzm3fs2j")
    assert (tree.height, str(tree.root)) == (
        0,
        "bafyreie4kjuxbwkhzg2i5dljaswcroeih4dgiqq6pazcmunwt2byd725vi",
    )


def test_insertion_that_splits_two_layers_down_and_its_delete() -> None:
    l1 = "bafyreiettyludka6fpgp33stwxfuwhkzlur6chs4d2v4nkmq2j3ogpdjem"
    l2 = "bafyreid2x5eqs4w4qxvc5jiwda4cien3gw2q6cshofxwnvv7iucrmfohpm"
    rkeys = ["3jqfcqzm3fo2j", "3jqfcqzm3fp2j", "3jqfcqzm3fr2j", "3jqfcqzm3fs2j"]
    rkeys += ["3jqfcqzm3ft2j", "3jqfcqzm3fz2j", "3jqfcqzm4fc2j", "3jqfcqzm4fd2j"]
    rkeys += ["3jqfcqzm4ff2j", "3jqfcqzm4fg2j", "3jqfcqzm4fh2j"]
    tree = tree_of([P + k for k in rkeys])
    assert (tree.height, str(tree.root)) == (1, l1)
    tree = tree.put(P + "3jqfcqzm3fx2j", LEAF)
    assert (tree.height, str(tree.root), len(list(tree.walk()))) == (2, l2, 12)
    tree = tree.delete(P + "3jqfcqzm3fx2j")
    assert (tree.height, str(tree.root)) == (1, l1)


def test_new_layers_two_higher_than_existing() -> None:
    l0 = "bafyreidfcktqnfmykz2ps3dbul35pepleq7kvv526g47xahuz3rqtptmky"
    l2 = "bafyreiavxaxdz7o7rbvr3zg2liox2yww46t7g6hkehx4i4h3lwudly7dhy"
    l2b = "bafyreig4jv3vuajbsybhyvb7gggvpwh2zszwfyttjrj6qwvcsp24h6popu"
    tree = tree_of([P + "3jqfcqzm3ft2j", P + "3jqfcqzm3fz2j"])
    assert (tree.height, str(tree.root)) == (0, l0)
    tree = tree.put(P + "3jqfcqzm3fx2j", LEAF)
    assert (tree.height, str(tree.root)) == (2, l2)
    tree = tree.delete(P + "3jqfcqzm3fx2j")
    assert (tree.height, str(tree.root)) == (0, l0)
    tree = tree.put(P + "3jqfcqzm3fx2j", LEAF).put(P + "3jqfcqzm4fd2j", LEAF)
    assert (tree.height, str(tree.root)) == (2, l2b)
    tree = tree.delete(P + "3jqfcqzm4fd2j")
    assert (tree.height, str(tree.root)) == (2, l2)


# -- reads and writes ------------------------------------------------------------------------


def test_put_get_update_delete_on_a_thousand_records() -> None:
    keys = [f"app.bsky.feed.post/k{n:05d}" for n in range(1000)]
    tree = Mst.empty(BlockMap())
    for n, key in enumerate(keys):
        tree = tree.put(key, value_for(n))
    assert all(tree.get(key) == value_for(n) for n, key in enumerate(keys))
    updated = tree.put(keys[7], value_for(5000))
    assert updated.get(keys[7]) == value_for(5000)
    assert tree.get(keys[7]) == value_for(7)  # the old tree is untouched
    smaller = updated.delete(keys[8])
    assert smaller.get(keys[8]) is None
    assert len(list(smaller.walk())) == 999


def test_putting_the_same_value_returns_the_same_tree() -> None:
    tree = tree_of([P + "a", P + "b"])
    assert tree.put(P + "a", LEAF) is tree


def test_deleting_a_missing_key_raises_key_error() -> None:
    tree = tree_of([P + "3jqfcqzm3fo2j"])
    with pytest.raises(KeyError):
        tree.delete(P + "3jqfcqzm3fp2j")
    with pytest.raises(KeyError):
        Mst.empty(BlockMap()).delete(P + "x")


def test_invalid_keys_are_refused_by_every_operation() -> None:
    tree = tree_of([P + "a"])
    for call in (lambda: tree.put("bad key", LEAF), lambda: tree.get("a/b/c")):
        with pytest.raises(InvalidMstKey):
            call()


def test_bulk_build_equals_one_by_one_insertion() -> None:
    items = [(f"coll/{random.Random(n).random():.12f}", value_for(n)) for n in range(3000)]
    built = Mst.build(BlockMap(), items)
    one_by_one = Mst.empty(BlockMap())
    for key, value in items:
        one_by_one = one_by_one.put(key, value)
    assert built.root == one_by_one.root
    assert built.height == one_by_one.height
    assert Mst.build(BlockMap(), []).root == Mst.empty(BlockMap()).root


def test_bulk_build_rejects_duplicate_keys() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Mst.build(BlockMap(), [(P + "a", LEAF), (P + "a", LEAF)])


# -- properties ------------------------------------------------------------------------------

_rkeys = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)
_entries = st.dictionaries(
    _rkeys.map(lambda k: P + k), st.integers(0, 50).map(value_for), max_size=120
)


@given(_entries, st.randoms(use_true_random=False))
def test_root_depends_only_on_the_contents_not_the_insertion_order(
    entries: dict[str, CID], rnd: random.Random
) -> None:
    items = list(entries.items())
    first = Mst.empty(BlockMap())
    for key, value in items:
        first = first.put(key, value)
    rnd.shuffle(items)
    second = Mst.empty(BlockMap())
    for key, value in items:
        second = second.put(key, value)
    assert first.root == second.root == Mst.build(BlockMap(), items).root


@given(_entries, _rkeys)
def test_put_then_delete_restores_the_root(entries: dict[str, CID], rkey: str) -> None:
    key = P + "new-" + rkey
    tree = Mst.build(BlockMap(), entries.items())
    assert tree.put(key, LEAF).delete(key).root == tree.root


@given(_entries, st.randoms(use_true_random=False))
def test_deleting_everything_gives_the_empty_tree(
    entries: dict[str, CID], rnd: random.Random
) -> None:
    tree = Mst.build(BlockMap(), entries.items())
    keys = list(entries)
    rnd.shuffle(keys)
    for key in keys:
        tree = tree.delete(key)
    assert tree.root == Mst.empty(BlockMap()).root
    assert tree.is_empty


_bound = st.one_of(st.none(), _rkeys.map(lambda k: P + k))


@given(_entries, _bound, _bound, st.booleans())
def test_listing_equals_sorted_filtering(
    entries: dict[str, CID], start: str | None, end: str | None, reverse: bool
) -> None:
    tree = Mst.build(BlockMap(), entries.items())
    expected = sorted(
        (k, v)
        for k, v in entries.items()
        if (start is None or k >= start) and (end is None or k < end)
    )
    if reverse:
        expected.reverse()
    assert list(tree.items(start, end, reverse)) == expected


def test_listing_supports_an_exclusive_cursor() -> None:
    tree = tree_of([P + "a", P + "b", P + "c"])
    assert [k for k, _ in tree.items(start=P + "a\x00")] == [P + "b", P + "c"]
    assert [k for k, _ in tree.items(end=P + "c", reverse=True)] == [P + "b", P + "a"]


# -- storage: laziness, LRU, flush -----------------------------------------------------------


class CountingReader:
    """A reader that counts block reads."""

    def __init__(self, blocks: BlockMap) -> None:
        self.blocks = blocks
        self.reads = 0

    def get_block(self, cid: CID) -> bytes | None:
        self.reads += 1
        return self.blocks.get_block(cid)


def _stored_tree(count: int) -> tuple[BlockMap, CID, int]:
    blocks = BlockMap()
    tree = Mst.build(blocks, [(f"coll/k{n:06d}", value_for(n)) for n in range(count)])
    blocks.update(tree.flush())
    return blocks, tree.root, tree.height


def test_reads_touch_only_the_path_not_the_tree() -> None:
    blocks, root, height = _stored_tree(5000)
    reader = CountingReader(blocks)
    tree = Mst.load(reader, root)
    assert tree.get("coll/k001234") == value_for(1234)
    assert reader.reads <= height + 1
    tree.put("coll/k001234", LEAF).root  # noqa: B018
    assert reader.reads <= height + 1


def test_node_cache_is_bounded() -> None:
    blocks, root, _ = _stored_tree(3000)
    store = NodeStore(blocks, capacity=50)
    assert len(list(Mst.load(store, root).walk())) == 3000
    assert len(store) <= 50


def test_flush_hands_out_exactly_the_new_nodes_once() -> None:
    blocks, root, _ = _stored_tree(2000)
    tree = Mst.load(blocks, root)
    changed = tree.put("coll/k000100", LEAF).delete("coll/k000200").put("coll/new", LEAF)
    new_blocks = changed.flush()
    assert not any(cid in blocks for cid in new_blocks)
    assert changed.root in new_blocks
    assert len(changed.flush()) == 0  # nothing new the second time
    blocks.update(new_blocks)
    reloaded = Mst.load(NodeStore(BlockMap(blocks.items())), changed.root)
    assert list(reloaded.walk()) == list(changed.walk())


def test_put_then_delete_in_one_batch_flushes_only_blocks_the_store_has() -> None:
    blocks, root, height = _stored_tree(500)
    tree = Mst.load(blocks, root)
    reverted = tree.put("coll/zzz", LEAF).delete("coll/zzz")
    flushed = reverted.flush()
    assert reverted.root == root
    assert len(flushed) <= height + 1
    assert all(cid in blocks for cid in flushed)


def test_flush_never_leaves_out_a_node_another_tree_shares() -> None:
    store = NodeStore(BlockMap())
    first = Mst.empty(store).put("coll/same", LEAF)
    first.flush()
    second = Mst.empty(store).put("coll/same", LEAF)
    assert second.root == first.root
    assert second.root in second.flush()


def test_missing_node_raises_missing_block() -> None:
    blocks, root, _ = _stored_tree(500)
    partial = BlockMap([(root, blocks.require(root))])
    with pytest.raises(MissingBlock):
        list(Mst.load(partial, root).walk())


def test_node_blocks_lists_every_node_once_parents_first() -> None:
    blocks, root, _ = _stored_tree(800)
    listed = list(Mst.load(blocks, root).node_blocks())
    assert listed[0][0] == root
    assert {cid for cid, _ in listed} == set(blocks.cids())


def test_many_commits_through_a_tiny_cache_read_flushed_blocks_back() -> None:
    blocks = BlockMap()
    tree = Mst.empty(NodeStore(blocks, capacity=8))
    expected: dict[str, CID] = {}
    rnd = random.Random(5)
    for n in range(600):
        key = f"coll/k{rnd.randrange(300):03d}"
        if key in expected and n % 3 == 0:
            tree = tree.delete(key)
            del expected[key]
        else:
            tree = tree.put(key, value_for(n))
            expected[key] = value_for(n)
        blocks.update(tree.flush())
    assert list(tree.walk()) == sorted(expected.items())
    assert tree.root == Mst.build(BlockMap(), expected.items()).root


def test_car_blocks_follow_the_streamable_order_with_records_inline() -> None:
    items = [(f"coll/k{n:04d}", value_for(n)) for n in range(400)]
    blocks = BlockMap()
    tree = Mst.build(blocks, items)
    blocks.update(tree.flush())
    records = BlockMap((value_for(n), n.to_bytes(4, "big")) for n in range(0, 400, 2))
    listed = list(Mst.load(blocks, tree.root).car_blocks(records))
    assert listed[0][0] == tree.root
    assert {cid for cid, _ in listed} == set(blocks.cids()) | set(records.cids())
    record_order = [cid for cid, _ in listed if cid in records]
    assert record_order == [value_for(n) for n in range(0, 400, 2)]  # key order
    position = {cid: index for index, (cid, _) in enumerate(listed)}
    for cid, data in listed:  # every node comes before the subtrees and records it links
        if cid in blocks:
            node = decode_node(data)
            linked = [CID(link) for link in node.sub_links() if link is not None]
            linked += [CID(value) for value in node.vals if CID(value) in records]
            assert all(position[link] > position[cid] for link in linked)
