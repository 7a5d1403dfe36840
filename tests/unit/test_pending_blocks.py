"""The block index's in-memory tail: what a rollback takes back, what a pass may drop."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.storage.pending_blocks import PendingBlocks


def test_a_rolled_back_save_leaves_blocks_an_earlier_save_brought() -> None:
    pending = PendingBlocks()
    pending.add(10, 10, {b"proof": b"p", b"a": b"1"})
    pending.add(11, 12, {b"proof": b"p", b"b": b"2"})  # carries the proof block again
    pending.remove(11, 12)
    assert pending.get_many([b"proof", b"a", b"b"]) == {b"proof": b"p", b"a": b"1"}
    assert pending.covers(10) and not pending.covers(11) and not pending.covers(12)
    assert pending.through(10) == {b"proof": b"p", b"a": b"1"}


def test_through_and_drop_follow_the_save_that_first_brought_a_block() -> None:
    pending = PendingBlocks()
    pending.add(1, 2, {b"x": b"1"})
    pending.add(3, 3, {b"x": b"1", b"y": b"2"})
    assert pending.through(2) == {b"x": b"1"}
    assert pending.covers(3, through=3) and not pending.covers(3, through=2)
    pending.drop_through(2)
    assert len(pending) == 1
    assert pending.get_many([b"x", b"y"]) == {b"y": b"2"}  # x is indexed with save 1..2


@given(st.lists(st.tuples(st.integers(1, 4), st.booleans()), max_size=20), st.integers(0, 80))
def test_every_block_of_a_kept_save_is_held_or_handed_to_a_pass(
    saves: list[tuple[int, bool]], cut: int
) -> None:
    """Whatever rolls back, a block of a committed save is held until a pass through its
    save's seq takes it, and that pass's `through` includes it."""
    pending = PendingBlocks()
    seq, kept = 0, []
    for size, commits in saves:
        first, last = seq + 1, seq + size
        blocks = {b"shared": b"s", f"own{last}".encode(): b"o"}
        pending.add(first, last, blocks)
        if commits:
            kept.append((last, blocks))
            seq = last
        else:
            pending.remove(first, last)  # a rolled-back save's seqs are used again
    taken = pending.through(cut)
    pending.drop_through(cut)
    for _last, blocks in kept:
        for cid, data in blocks.items():
            assert taken.get(cid) == data or pending.get_many([cid]) == {cid: data}
