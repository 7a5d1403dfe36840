"""Importing a repository from a CAR (account migration), verified before anything changes.

Every block must hash to its CID (the CAR reader checks), the root must be a commit for the
expected DID, every MST node must decode strictly and every record it names must be present.
The imported tree then replaces the current one under a new commit signed by this server's
key for the account, and the ops are the diff between the old and the new root.
"""

from __future__ import annotations

from domain.repo.block_map import BlockMap
from domain.repo.block_reader import MissingBlock
from domain.repo.car import load_car
from domain.repo.commit import Signer, UnsignedCommit, read_commit, sign_commit
from domain.repo.commit_builder import RepoHead
from domain.repo.errors import InvalidCar, InvalidCommit
from domain.repo.mst import Mst, NodeStore
from domain.repo.mst_diff import mst_diff
from domain.repo.mst_node import InvalidMstNode
from domain.repo.repo_commit import RepoCommit, RepoOp


def build_import(
    *,
    did: str,
    car: bytes,
    head: RepoHead,
    nodes: NodeStore,
    keypair: Signer,
    rev: str,
) -> RepoCommit:
    """Verify `car` and decide the commit that makes it `did`'s repository."""
    roots, blocks = load_car(car)
    if len(roots) != 1:
        raise InvalidCar("a repository CAR has exactly one root, its commit")
    try:
        imported = read_commit(blocks.require(roots[0]))
    except MissingBlock as exc:
        raise InvalidCar("the CAR does not contain its root commit") from exc
    if imported.did != did:
        raise InvalidCommit(f"the CAR's commit is for {imported.did}, not {did}")
    carried = BlockMap()
    try:
        new_tree = Mst.load(NodeStore(blocks), imported.data)
        for cid, data in new_tree.node_blocks():
            carried.set(cid, data)
        for _key, value in new_tree.walk():
            carried.set(value, blocks.require(value))
    except MissingBlock as exc:
        raise InvalidCar(f"the CAR lacks a block its tree needs: {exc.cid}") from exc
    except InvalidMstNode as invalid:
        raise InvalidCar(f"invalid MST node in CAR: {invalid}") from invalid
    diff = mst_diff(Mst.load(nodes, head.data), new_tree)
    ops = [RepoOp("create", c.key, c.cid) for c in diff.creates]
    ops += [RepoOp("update", u.key, u.cid, u.prev) for u in diff.updates]
    ops += [RepoOp("delete", d.key, None, d.prev) for d in diff.deletes]
    ops.sort(key=lambda op: op.path)
    unsigned = UnsignedCommit(did=did, data=imported.data, rev=rev, prev=None)
    cid, data = sign_commit(unsigned, keypair).encode()
    out = BlockMap([(cid, data)])
    out.update(carried)
    return RepoCommit(did, rev, cid, head.rev, head.data, imported.data, tuple(ops), out)


def build_resign(*, did: str, head: RepoHead, keypair: Signer, rev: str) -> RepoCommit:
    """A commit with no ops over the same tree, signed by a (new) key: used on key rotation."""
    unsigned = UnsignedCommit(did=did, data=head.data, rev=rev, prev=None)
    cid, data = sign_commit(unsigned, keypair).encode()
    return RepoCommit(did, rev, cid, head.rev, head.data, head.data, (), BlockMap([(cid, data)]))
