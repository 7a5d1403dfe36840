"""Sync 1.1 verification of generated commit chains: sound frames pass, tampered ones fail."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.firehose_consumer.events import CommitEvent, decode_frame
from application.firehose_consumer.verify import (
    BadSignature,
    ChainBroken,
    InvalidRepoEvent,
    RepoState,
    verify_commit_event,
    verify_sync_event,
)
from domain.data.cid import CID
from domain.firehose import frames
from domain.repo.block_map import BlockMap
from domain.repo.car import car_bytes, load_car
from domain.repo.commit import Commit, sign_commit
from domain.repo.mst_invert import invert_commit
from tests.fakes.firehose_chain import DID, KEY, OTHER_KEY, TIME, build_chain, render


def event_of(frame: bytes) -> CommitEvent:
    event = decode_frame(frame)
    assert isinstance(event, CommitEvent)
    return event


_rkeys = st.sampled_from([f"3k{c}aaaaaaaaa2" for c in "abcdefghij"] + ["self", "z", "a1"])
_batches = st.lists(
    st.lists(
        st.tuples(st.sampled_from(["create", "update", "delete"]), _rkeys), min_size=1, max_size=6
    ),
    min_size=1,
    max_size=6,
)


@given(_batches)
@settings(max_examples=60)
def test_every_generated_commit_frame_verifies_and_continues_the_chain(
    batches: list[list[tuple[str, str]]],
) -> None:
    state: RepoState | None = None
    for rendered in build_chain(batches):
        state = verify_commit_event(event_of(rendered.frame), KEY.did(), state)
    assert state == RepoState(rendered.commit.rev, rendered.commit.data)


@given(_batches, st.data())
@settings(max_examples=60)
def test_one_flipped_byte_in_the_car_slice_is_rejected(
    batches: list[list[tuple[str, str]]], data: st.DataObject
) -> None:
    rendered = build_chain(batches)[-1]
    event = event_of(rendered.frame)
    at = data.draw(st.integers(0, len(event.blocks) - 1))
    bit = data.draw(st.integers(0, 7))
    flipped = bytearray(event.blocks)
    flipped[at] ^= 1 << bit
    with pytest.raises(InvalidRepoEvent):
        verify_commit_event(replace(event, blocks=bytes(flipped)), KEY.did(), None)


@given(_batches, st.binary(min_size=1, max_size=8))
@settings(max_examples=60)
def test_a_wrong_prev_data_is_rejected(batches: list[list[tuple[str, str]]], junk: bytes) -> None:
    rendered = build_chain(batches)[-1]
    event = event_of(rendered.frame)
    wrong = CID.for_dag_cbor(junk)
    with pytest.raises(InvalidRepoEvent):
        verify_commit_event(replace(event, prev_data=wrong), KEY.did(), None)


@given(_batches)
@settings(max_examples=30)
def test_a_commit_signed_by_another_key_is_rejected(batches: list[list[tuple[str, str]]]) -> None:
    commit = build_chain(batches)[-1].commit
    signed = Commit.decode(commit.commit_block)
    forged_cid, forged_block = sign_commit(signed.unsigned(), OTHER_KEY).encode()
    blocks = BlockMap((cid, data) for cid, data in commit.blocks.items() if cid != commit.commit)
    blocks.set(forged_cid, forged_block)
    forged = replace(commit, commit=forged_cid, blocks=blocks)
    with pytest.raises(BadSignature):
        verify_commit_event(event_of(render(forged, 9)), KEY.did(), None)


class RecordingReader:
    """A block reader that remembers which blocks were asked for."""

    def __init__(self, blocks: BlockMap) -> None:
        self.blocks = blocks
        self.read: set[CID] = set()

    def get_block(self, cid: CID) -> bytes | None:
        self.read.add(cid)
        return self.blocks.get_block(cid)


def needed_blocks(event: CommitEvent) -> set[CID]:
    """The blocks verification cannot do without: tree nodes the inversion reads, records."""
    _, blocks = load_car(event.blocks)
    reader = RecordingReader(blocks)
    data = Commit.decode(blocks.require(event.commit)).data
    invert_commit(data, event.ops, reader, event.prev_data)
    return reader.read | {op.cid for op in event.ops if op.cid is not None}


@given(_batches, st.data())
@settings(max_examples=60)
def test_a_slice_missing_any_block_the_inversion_or_an_op_needs_is_rejected(
    batches: list[list[tuple[str, str]]], data: st.DataObject
) -> None:
    commit = build_chain(batches)[-1].commit
    needed = sorted(needed_blocks(event_of(render(commit, 9))) - {commit.commit})
    drop = data.draw(st.sampled_from(needed))
    with pytest.raises(InvalidRepoEvent):
        verify_commit_event(event_of(render(commit, 9, drop=drop)), KEY.did(), None)


def test_a_skipped_commit_breaks_the_chain_but_leaves_a_trustworthy_state() -> None:
    chain = build_chain([[("create", "a1")], [("create", "z")], [("delete", "a1")]])
    state = verify_commit_event(event_of(chain[1].frame), KEY.did(), None)
    with pytest.raises(ChainBroken) as broken:
        verify_commit_event(event_of(chain[3].frame), KEY.did(), state)
    assert broken.value.state == RepoState(chain[3].commit.rev, chain[3].commit.data)


def test_a_replayed_commit_is_rejected() -> None:
    chain = build_chain([[("create", "a1")], [("create", "z")]])
    state = verify_commit_event(event_of(chain[2].frame), KEY.did(), None)
    with pytest.raises(InvalidRepoEvent):
        verify_commit_event(event_of(chain[1].frame), KEY.did(), state)


def test_a_commit_for_another_repo_than_its_frame_says_is_rejected() -> None:
    event = event_of(build_chain([[("create", "a1")]])[-1].frame)
    with pytest.raises(InvalidRepoEvent, match="commit is for"):
        verify_commit_event(replace(event, repo="did:plc:someoneelse"), KEY.did(), None)


def test_a_rev_that_differs_from_the_signed_commit_is_rejected() -> None:
    event = event_of(build_chain([[("create", "a1")]])[-1].frame)
    with pytest.raises(InvalidRepoEvent, match="rev"):
        verify_commit_event(replace(event, rev="3kaaaaaaaaaa2"), KEY.did(), None)


def test_a_sync_event_verifies_its_signed_commit() -> None:
    genesis = build_chain([])[0].commit
    car = car_bytes(genesis.commit, [(genesis.commit, genesis.commit_block)])
    frame = frames.sync_frame(seq=2, did=DID, blocks=car, rev=genesis.rev, time=TIME)
    event = decode_frame(frame)
    assert verify_sync_event(event, KEY.did()) == RepoState(genesis.rev, genesis.data)  # type: ignore[arg-type]
    with pytest.raises(BadSignature):
        verify_sync_event(event, OTHER_KEY.did())  # type: ignore[arg-type]
