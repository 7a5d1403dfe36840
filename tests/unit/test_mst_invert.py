"""Covering proofs and Sync 1.1 inversion, against the interop commit-proof tests/vectors."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.data.cid import CID
from domain.repo.block_map import BlockMap
from domain.repo.mst import Mst
from domain.repo.mst_diff import mst_diff
from domain.repo.mst_invert import InvertError, invert_commit
from domain.repo.mst_proof import covering_proof, covering_proofs
from tests.conftest import INTEROP

FIXTURES: list[dict[str, Any]] = json.loads(
    (INTEROP / "firehose" / "commit-proof-fixtures.json").read_text()
)
EXAMPLE_KEYS = (INTEROP / "mst" / "example_keys.txt").read_text().split()


@dataclass(frozen=True, slots=True)
class Op:
    action: str
    path: str
    cid: CID | None
    prev: CID | None = None


def value_for(n: int) -> CID:
    return CID.for_dag_cbor(n.to_bytes(4, "big"))


# -- the interop fixtures --------------------------------------------------------------------


def _fixture_trees(fixture: dict[str, Any]) -> tuple[Mst, Mst, CID]:
    leaf = CID.parse(fixture["leafValue"])
    before = Mst.empty(BlockMap())
    for key in fixture["keys"]:
        before = before.put(key, leaf)
    after = before
    for key in fixture["adds"]:
        after = after.put(key, leaf)
    for key in fixture["dels"]:
        after = after.delete(key)
    return before, after, leaf


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["comment"] for f in FIXTURES])
def test_fixture_roots_before_and_after_the_commit(fixture: dict[str, Any]) -> None:
    before, after, _ = _fixture_trees(fixture)
    assert str(before.root) == fixture["rootBeforeCommit"]
    assert str(after.root) == fixture["rootAfterCommit"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["comment"] for f in FIXTURES])
def test_fixture_proof_contains_the_reference_blocks(fixture: dict[str, Any]) -> None:
    _, after, _ = _fixture_trees(fixture)
    proof = covering_proofs(after, fixture["adds"] + fixture["dels"])
    assert {CID.parse(c) for c in fixture["blocksInProof"]} <= set(proof)


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["comment"] for f in FIXTURES])
def test_fixture_inverts_in_every_op_order(fixture: dict[str, Any]) -> None:
    _, after, leaf = _fixture_trees(fixture)
    proof = covering_proofs(after, fixture["adds"] + fixture["dels"])
    ops = [Op("create", k, leaf) for k in fixture["adds"]]
    ops += [Op("delete", k, None, leaf) for k in fixture["dels"]]
    expected = CID.parse(fixture["rootBeforeCommit"])
    for order in itertools.permutations(ops):
        assert invert_commit(after.root, list(order), proof, expected) == expected


# -- random commits --------------------------------------------------------------------------

_pool = st.one_of(
    st.sampled_from(EXAMPLE_KEYS),
    st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True).map(lambda k: "coll/" + k),
)


@st.composite
def commits(draw: Any) -> tuple[Mst, Mst, list[Op]]:
    """A random tree and a random commit of 1..10 creates, updates and deletes."""
    keys = draw(st.lists(_pool, unique=True, max_size=80))
    entries = {key: value_for(n) for n, key in enumerate(keys)}
    before = Mst.build(BlockMap(), entries.items())
    touched = draw(st.lists(st.sampled_from(keys), unique=True, max_size=6)) if keys else []
    created = draw(st.lists(_pool.filter(lambda k: k not in entries), unique=True, max_size=4))
    ops: list[Op] = []
    after = before
    for key in created:
        ops.append(Op("create", key, value_for(1000 + len(ops))))
        after = after.put(key, ops[-1].cid)  # type: ignore[arg-type]
    for n, key in enumerate(touched):
        if n % 2:
            ops.append(Op("update", key, value_for(2000 + n), entries[key]))
            after = after.put(key, ops[-1].cid)  # type: ignore[arg-type]
        else:
            ops.append(Op("delete", key, None, entries[key]))
            after = after.delete(key)
    draw(st.randoms(use_true_random=False)).shuffle(ops)
    return before, after, ops


@given(commits())
def test_random_commit_inverts_with_only_its_proof_blocks(
    commit: tuple[Mst, Mst, list[Op]],
) -> None:
    before, after, ops = commit
    proof = covering_proofs(after, [op.path for op in ops])
    assert invert_commit(after.root, ops, proof, before.root) == before.root


@given(commits())
def test_random_commit_inverts_from_its_car_slice(commit: tuple[Mst, Mst, list[Op]]) -> None:
    before, after, ops = commit
    blocks = mst_diff(before, after).new_blocks
    blocks.update(covering_proofs(after, [op.path for op in ops]))
    assert invert_commit(after.root, ops, blocks, before.root) == before.root


class RecordingReader:
    def __init__(self, blocks: BlockMap) -> None:
        self.blocks = blocks
        self.read: list[CID] = []

    def get_block(self, cid: CID) -> bytes | None:
        self.read.append(cid)
        return self.blocks.get_block(cid)


@given(commits(), st.randoms(use_true_random=False))
def test_a_missing_proof_block_makes_inversion_fail(
    commit: tuple[Mst, Mst, list[Op]], rnd: random.Random
) -> None:
    before, after, ops = commit
    assume(ops)
    proof = covering_proofs(after, [op.path for op in ops])
    reader = RecordingReader(proof)
    invert_commit(after.root, ops, reader, before.root)
    missing = rnd.choice(reader.read)
    partial = BlockMap((cid, data) for cid, data in proof.items() if cid != missing)
    with pytest.raises(InvertError):
        invert_commit(after.root, ops, partial, before.root)


# -- wrong ops -------------------------------------------------------------------------------


def _small_commit() -> tuple[Mst, Mst, BlockMap]:
    before = Mst.build(BlockMap(), [(f"coll/k{n:03d}", value_for(n)) for n in range(200)])
    after = before.put("coll/new", value_for(7)).put("coll/k010", value_for(8))
    after = after.delete("coll/k020")
    return before, after, covering_proofs(after, ["coll/new", "coll/k010", "coll/k020"])


RIGHT = [
    Op("create", "coll/new", value_for(7)),
    Op("update", "coll/k010", value_for(8), value_for(10)),
    Op("delete", "coll/k020", None, value_for(20)),
]
WRONG = {
    "missing op": RIGHT[:2],
    "create with another cid": [Op("create", "coll/new", value_for(99)), *RIGHT[1:]],
    "update with wrong prev": [
        RIGHT[0],
        Op("update", "coll/k010", value_for(8), value_for(9)),
        RIGHT[2],
    ],
    "update of the wrong value": [
        RIGHT[0],
        Op("update", "coll/k010", value_for(1), value_for(10)),
        RIGHT[2],
    ],
    "delete of a key still present": [*RIGHT[:2], Op("delete", "coll/k030", None, value_for(30))],
    "delete without prev": [*RIGHT[:2], Op("delete", "coll/k020", None, None)],
    "delete with a cid": [*RIGHT[:2], Op("delete", "coll/k020", value_for(1), value_for(20))],
    "update without cid": [RIGHT[0], Op("update", "coll/k010", None, value_for(10)), RIGHT[2]],
    "create without cid": [Op("create", "coll/new", None), *RIGHT[1:]],
    "path twice": [*RIGHT, RIGHT[0]],
    "unknown action": [*RIGHT[:2], Op("move", "coll/k020", None, value_for(20))],
    "invalid path": [*RIGHT[:2], Op("delete", "no-collection", None, value_for(20))],
}


def test_the_right_ops_invert_to_prev_data() -> None:
    before, after, proof = _small_commit()
    assert invert_commit(after.root, RIGHT, proof, before.root) == before.root


@pytest.mark.parametrize("ops", WRONG.values(), ids=WRONG.keys())
def test_wrong_ops_fail_inversion(ops: list[Op]) -> None:
    before, after, proof = _small_commit()
    with pytest.raises(InvertError):
        invert_commit(after.root, ops, proof, before.root)


def test_a_commit_without_ops_inverts_to_its_own_root_without_blocks() -> None:
    before, _, _ = _small_commit()
    assert invert_commit(before.root, [], BlockMap(), before.root) == before.root
    with pytest.raises(InvertError):
        invert_commit(before.root, [], BlockMap(), value_for(1))


def test_missing_root_block_fails_inversion() -> None:
    before, after, _ = _small_commit()
    with pytest.raises(InvertError):
        invert_commit(after.root, RIGHT, BlockMap(), before.root)


# -- record proofs (sync.getRecord) ----------------------------------------------------------


@given(st.lists(_pool, unique=True, min_size=1, max_size=60), _pool)
def test_covering_proof_alone_proves_presence_or_absence(keys: list[str], probe: str) -> None:
    tree = Mst.build(BlockMap(), [(key, value_for(n)) for n, key in enumerate(keys)])
    proof = covering_proof(tree, probe)
    verifier = Mst.load(proof, tree.root)
    assert verifier.get(probe) == tree.get(probe)
    neighbours = [k for k in sorted(keys) if k != probe]
    below = [k for k in neighbours if k < probe][-1:]
    above = [k for k in neighbours if k > probe][:1]
    for key in below + above:
        assert verifier.get(key) == tree.get(key)
