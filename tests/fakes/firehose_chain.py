"""Signed commit chains built by the domain's commit builder, rendered as `#commit` frames.

Frames are rendered exactly as the projection renders them: the CAR slice holds the commit,
the new nodes and records, then the covering-proof blocks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from domain.crypto.k256 import K256Keypair
from domain.data.cid import CID
from domain.data.tid import TidClock
from domain.firehose import frames
from domain.repo.block_map import BlockMap
from domain.repo.car import car_bytes
from domain.repo.commit_builder import RepoHead, build_commit, build_genesis
from domain.repo.mst import NodeStore
from domain.repo.repo_commit import RepoCommit
from domain.repo.writes import RecordWrite, prepare_writes

NOTE = "com.example.note"
DID = "did:plc:verifyverifyverifyverif"
TIME = "2024-06-01T12:00:00.000Z"


def keypair(seed: bytes) -> K256Keypair:
    return K256Keypair.generate(lambda n: hashlib.sha256(seed).digest()[:n])


KEY = keypair(b"signer")
OTHER_KEY = keypair(b"someone else")


@dataclass
class Rendered:
    """One commit and its `#commit` frame."""

    commit: RepoCommit
    frame: bytes


def render(commit: RepoCommit, seq: int, *, drop: CID | None = None) -> bytes:
    blocks = list(commit.blocks.items()) + list(commit.proof.items())
    sliced = [(cid, data) for cid, data in blocks if cid != drop]
    ops = [frames.FrameOp(op.action, op.path, op.cid, op.prev) for op in commit.ops]
    return frames.commit_frame(
        seq=seq,
        repo=commit.did,
        commit=commit.commit,
        rev=commit.rev,
        since=commit.since,
        blocks=car_bytes(commit.commit, sliced),
        ops=ops,
        prev_data=commit.prev_data,
        time=TIME,
    )


def build_chain(batches: list[list[tuple[str, str]]]) -> list[Rendered]:
    """Genesis, then one commit per batch of (action, rkey); invalid actions are adapted."""
    store = BlockMap()
    nodes = NodeStore(store)
    clock = TidClock(clock_id=7)
    genesis = build_genesis(DID, KEY, clock.next())
    store.update(genesis.blocks)
    chain = [Rendered(genesis, render(genesis, 1))]
    present: set[str] = set()
    head = RepoHead(genesis.commit, genesis.rev, genesis.data)
    for n, batch in enumerate(batches):
        writes, touched = [], set()
        for action, rkey in batch:
            if rkey in touched:
                continue
            touched.add(rkey)
            if rkey not in present:
                action = "create"
            elif action == "create":
                action = "update"
            record = None if action == "delete" else {"$type": NOTE, "n": n, "k": rkey}
            writes.append(RecordWrite(action, NOTE, rkey, record))
            present.symmetric_difference_update({rkey} if action in ("create", "delete") else ())
        commit = build_commit(
            did=DID,
            head=head,
            writes=prepare_writes(writes),
            nodes=nodes,
            keypair=KEY,
            rev=clock.next(),
        )
        store.update(commit.blocks)
        head = RepoHead(commit.commit, commit.rev, commit.data)
        chain.append(Rendered(commit, render(commit, len(chain) + 1)))
    return chain
