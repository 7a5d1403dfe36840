"""Deciding a commit: apply validated writes to the tree, sign, and collect every block.

This is the Repo aggregate's decision, kept pure: it reads tree nodes through a `NodeStore`
(an LRU over the block store port) and returns a `RepoCommit` holding the signed commit, the
ops with their previous CIDs, the new blocks, and the already-stored proof blocks a firehose
consumer needs to invert the commit (Sync 1.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.data.cid import CID
from domain.repo.block_map import BlockMap
from domain.repo.commit import Signer, UnsignedCommit, sign_commit
from domain.repo.errors import InvalidSwap, RecordAlreadyExists, RecordNotFound
from domain.repo.mst import Mst, NodeStore
from domain.repo.mst_proof import covering_proofs
from domain.repo.repo_commit import RepoCommit, RepoOp
from domain.repo.writes import PreparedWrite


@dataclass(frozen=True, slots=True)
class RepoHead:
    """What a commit is decided over: the current commit, its rev and its data root."""

    commit: CID
    rev: str
    data: CID


def _signed(did: str, data: CID, rev: str, keypair: Signer) -> tuple[CID, bytes]:
    return sign_commit(UnsignedCommit(did=did, data=data, rev=rev, prev=None), keypair).encode()


def build_genesis(did: str, keypair: Signer, rev: str) -> RepoCommit:
    """The first commit of a repository: the empty tree, signed."""
    tree = Mst.empty(BlockMap())
    root = tree.root
    nodes = tree.flush()
    cid, data = _signed(did, root, rev, keypair)
    blocks = BlockMap([(cid, data)])
    blocks.update(nodes)
    return RepoCommit(did, rev, cid, None, None, root, (), blocks)


def _apply(tree: Mst, write: PreparedWrite) -> tuple[Mst, RepoOp]:
    w = write.write
    path = w.path
    existing = tree.get(path)
    if w.swap is not None and existing != w.swap:
        raise InvalidSwap(f"Record was at {existing}, not {w.swap}: {path}")
    action = w.action
    if action == "put":
        action = "create" if existing is None else "update"
    if action == "create":
        if existing is not None:
            raise RecordAlreadyExists(f"Record already exists: {path}")
        assert write.cid is not None
        return tree.put(path, write.cid), RepoOp("create", path, write.cid)
    if existing is None:
        raise RecordNotFound(f"Could not find record: {path}")
    if action == "update":
        assert write.cid is not None
        return tree.put(path, write.cid), RepoOp("update", path, write.cid, existing)
    return tree.delete(path), RepoOp("delete", path, None, existing)


def build_commit(
    *,
    did: str,
    head: RepoHead,
    writes: list[PreparedWrite],
    nodes: NodeStore,
    keypair: Signer,
    rev: str,
    swap_commit: CID | None = None,
) -> RepoCommit:
    """Apply `writes` over `head`; all or nothing (any failed precondition raises)."""
    if swap_commit is not None and swap_commit != head.commit:
        raise InvalidSwap(f"Commit was at {head.commit}, not {swap_commit}")
    tree = Mst.load(nodes, head.data)
    ops: list[RepoOp] = []
    records = BlockMap()
    for write in writes:
        tree, op = _apply(tree, write)
        ops.append(op)
        if write.data is not None and write.cid is not None:
            records.set(write.cid, write.data)
    root = tree.root
    new_nodes = tree.flush()
    proof = covering_proofs(tree, [op.path for op in ops])
    cid, data = _signed(did, root, rev, keypair)
    blocks = BlockMap([(cid, data)])
    blocks.update(new_nodes)
    blocks.update(records)
    old = BlockMap((c, b) for c, b in proof.items() if c not in blocks)
    return RepoCommit(did, rev, cid, head.rev, head.data, root, tuple(ops), blocks, old)
