"""A `sync.getRecord` CAR proves a record only if signed by the key and complete."""

from __future__ import annotations

import pytest

from domain.crypto.k256 import K256Keypair
from domain.data.cid import CID
from domain.repo.block_map import BlockMap
from domain.repo.car import car_bytes
from domain.repo.commit import UnsignedCommit, sign_commit
from domain.repo.errors import RecordNotFound
from domain.repo.mst import Mst
from domain.repo.mst_proof import covering_proof
from domain.repo.record_proof import InvalidRecordProof, verify_record_proof

DID = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
NOTE = "com.example.note"
KEY = K256Keypair.generate()


def proof(rkey: str, *, did: str = DID, drop_nodes: bool = False) -> bytes:
    """The proof CAR of `NOTE/rkey` in a 200-record repo (the record block if present)."""
    blocks = BlockMap()
    records = {f"{NOTE}/3k2aaaaaa{n:03d}2": blocks.add({"$type": NOTE, "n": n}) for n in range(200)}
    tree = Mst.build(blocks, records.items())
    blocks.update(list(tree.node_blocks()))
    commit = sign_commit(
        UnsignedCommit(did=did, data=tree.root, rev="3k2aaaaaaaaa2", prev=None), KEY
    )
    commit_cid, commit_bytes = commit.encode()
    path = covering_proof(tree, f"{NOTE}/{rkey}")
    nodes = [(cid, data) for cid, data in path.items()][: 1 if drop_nodes else None]
    record: list[tuple[CID, bytes]] = []
    if (cid := records.get(f"{NOTE}/{rkey}")) is not None:
        record = [(cid, blocks.require(cid))]
    return car_bytes(commit_cid, [(commit_cid, commit_bytes), *nodes, *record])


def test_a_complete_signed_proof_gives_the_record() -> None:
    proven = verify_record_proof(proof("3k2aaaaaa0072"), DID, NOTE, "3k2aaaaaa0072", KEY.did())
    assert proven.value == {"$type": NOTE, "n": 7}


def test_a_proof_of_absence_is_record_not_found() -> None:
    with pytest.raises(RecordNotFound):
        verify_record_proof(proof("3k2aaaaaa9992"), DID, NOTE, "3k2aaaaaa9992", KEY.did())


def test_a_commit_signed_by_another_key_is_refused() -> None:
    other = K256Keypair.generate().did()
    with pytest.raises(InvalidRecordProof, match="not signed"):
        verify_record_proof(proof("3k2aaaaaa0072"), DID, NOTE, "3k2aaaaaa0072", other)


def test_a_commit_of_another_repo_is_refused() -> None:
    car = proof("3k2aaaaaa0072", did="did:plc:bbbbbbbbbbbbbbbbbbbbbbbb")
    with pytest.raises(InvalidRecordProof, match="is for"):
        verify_record_proof(car, DID, NOTE, "3k2aaaaaa0072", KEY.did())


def test_a_path_missing_a_node_is_refused_not_taken_for_absence() -> None:
    car = proof("3k2aaaaaa0072", drop_nodes=True)
    with pytest.raises(InvalidRecordProof, match="does not reach"):
        verify_record_proof(car, DID, NOTE, "3k2aaaaaa0072", KEY.did())


def test_bytes_that_are_not_a_car_are_refused() -> None:
    with pytest.raises(InvalidRecordProof, match="malformed"):
        verify_record_proof(b"\x01\x02", DID, NOTE, "3k2aaaaaa0072", KEY.did())
