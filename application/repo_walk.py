"""The blocks of a repository in export order, read from the block store in batches.

Export order is the reference PDS's: the MST pre-order, each node followed by its left
subtree, then each record followed by the subtree to its right. Reading that one block at a
time costs a query per node and per node's records; here the walk reads ahead instead. The
pending blocks sit on a stack (the next one on top); when the top is not yet in hand, the
walk fetches the unread blocks among the next `window` pending ones with one query, reads the
links of the nodes among them, puts each node's children right after it, and repeats until
the next `window` blocks are all in hand. So a query brings up to `window` blocks, and memory
holds a few windows of blocks and the stack, however large the repository is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from application.ports.block_store import BlockStore
from domain.data.cid import CID
from domain.repo.block_reader import MissingBlock
from domain.repo.mst_links import node_links

DEFAULT_WINDOW: Final = 1000
"""Blocks read ahead of the stream: a few hundred KB of a typical repository."""

_RECORD, _NODE, _EXPANDED = 0, 1, 2
_Pending = tuple[bytes, int]  # a block's binary CID and what it is: record, node, expanded node


def walk_tree(
    blocks: BlockStore, root: CID, window: int = DEFAULT_WINDOW
) -> Iterator[tuple[CID, bytes]]:
    """`(cid, bytes)` of the tree under `root` in pre-order, records interleaved.

    A missing node raises `MissingBlock`; a missing record is left out. Internally blocks
    are keyed by their binary CID (bytes hash in C and cache their hash).
    """
    stack: list[_Pending] = [(root.raw, _NODE)]
    held: dict[bytes, bytes | None] = {}
    while stack:
        if stack[-1][0] not in held:
            _read_ahead(blocks, stack, held, window)
        raw, kind = stack.pop()
        data = held.pop(raw)
        if data is None:
            continue
        yield CID(raw), data
        if kind == _NODE:
            stack.extend(reversed(_children(data)))


def _read_ahead(
    blocks: BlockStore, stack: list[_Pending], held: dict[bytes, bytes | None], window: int
) -> None:
    """Bring the next `window` pending blocks into `held`, expanding nodes as they arrive.

    Each round is one `get_blocks` call for the unread blocks in the window; a round that
    finds nothing to read or expand ends the read-ahead, and so does a full `held` (after
    the first round, which always includes the top of the stack).
    """
    while True:
        start = max(0, len(stack) - window)
        unread = {raw: kind for raw, kind in stack[start:] if raw not in held}
        if unread:
            found = blocks.get_blocks([CID(raw) for raw in unread])
            got = {cid.raw: data for cid, data in found.items()}
            for raw, kind in unread.items():
                data = got.get(raw)
                if data is None and kind != _RECORD:
                    raise MissingBlock(CID(raw))
                held[raw] = data
        if not _expand(stack, start, held) or len(held) >= 2 * window:
            return


def _expand(stack: list[_Pending], start: int, held: dict[bytes, bytes | None]) -> bool:
    """Put the children of every held, unexpanded node in `stack[start:]` right after it."""
    rebuilt: list[_Pending] = []
    grew = False
    for item in stack[start:]:
        if item[1] == _NODE:
            data = held[item[0]]
            if data is not None:
                children = _children(data)
                rebuilt.extend(reversed(children))
                item = (item[0], _EXPANDED)
                grew = grew or bool(children)
        rebuilt.append(item)
    stack[start:] = rebuilt
    return grew


def _children(data: bytes) -> list[_Pending]:
    """A node's children in export order: left subtree, then each record and its subtree."""
    left, values, subtrees = node_links(data)
    children: list[_Pending] = [] if left is None else [(left, _NODE)]
    for value, subtree in zip(values, subtrees, strict=True):
        children.append((value, _RECORD))
        if subtree is not None:
            children.append((subtree, _NODE))
    return children
