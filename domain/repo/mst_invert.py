"""Sync 1.1 operation inversion: check a commit's ops against its CAR slice alone.

The slice holds the new MST nodes and the covering proofs of every op, which is a partial
tree: enough of it to undo each op. Undoing them (a create is deleted, an update or delete
puts `prev` back) must give back the previous root, the commit's `prevData`. If the ops are
incomplete or wrong, the roots differ; if the slice lacks a node the undo must read, the
commit is unverifiable. Both are `InvertError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.data.cid import CID
from domain.repo.block_reader import BlockReader, MissingBlock
from domain.repo.errors import RepoError
from domain.repo.mst import Mst, NodeStore
from domain.repo.mst_key import InvalidMstKey
from domain.repo.mst_node import InvalidMstNode

_SLICE_CACHE_NODES = 1024


class InvertError(RepoError):
    """A commit's ops cannot be inverted on its blocks back to its previous root."""


class RepoOp(Protocol):
    """A firehose `#commit` op (`com.atproto.sync.subscribeRepos#repoOp`)."""

    @property
    def action(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def cid(self) -> CID | None: ...
    @property
    def prev(self) -> CID | None: ...


def invert_commit(
    root: CID, ops: Sequence[RepoOp], blocks: BlockReader, prev_data: CID | None = None
) -> CID:
    """The root before the commit, from its new root, its ops and only its slice's blocks.

    With `prev_data`, also require the result to equal it.
    """
    paths = [op.path for op in ops]
    if len(set(paths)) != len(paths):
        raise InvertError("a path appears in more than one op")
    result = _invert(root, ops, blocks) if ops else root  # no ops, no tree change to read
    if prev_data is not None and result != prev_data:
        raise InvertError(f"inverted root {result} does not match prevData {prev_data}")
    return result


def _invert(root: CID, ops: Sequence[RepoOp], blocks: BlockReader) -> CID:
    try:
        tree = Mst.load(NodeStore(blocks, _SLICE_CACHE_NODES), root)
        for op in reversed(ops):
            tree = _undo(tree, op)
        return tree.root
    except MissingBlock as exc:
        raise InvertError(
            f"the commit's blocks lack a node needed to invert it: {exc.cid}"
        ) from exc
    except (InvalidMstNode, InvalidMstKey) as invalid:
        raise InvertError(f"invalid tree or path in commit: {invalid}") from invalid


def _undo(tree: Mst, op: RepoOp) -> Mst:
    """Apply one op in reverse, after checking it agrees with the tree."""
    current = tree.get(op.path)
    if op.action == "create":
        if op.cid is None or current != op.cid:
            raise _disagrees(op)
        return tree.delete(op.path)
    if op.action == "update":
        agrees = op.cid is not None and current == op.cid
    elif op.action == "delete":
        agrees = op.cid is None and current is None
    else:
        raise InvertError(f"unknown op action {op.action!r}")
    if not agrees or op.prev is None:
        raise _disagrees(op)
    return tree.put(op.path, op.prev)


def _disagrees(op: RepoOp) -> InvertError:
    return InvertError(f"{op.action} of {op.path} does not match the commit's tree")
