"""Checking a `com.atproto.sync.getRecord` CAR: one record, as the repo's key signed it.

Whoever served the CAR is not trusted, only the DID document's signing key is: the blocks
must hash to their CIDs, the root must be a v3 commit of the expected DID whose signature
verifies under that key, and the commit's tree must lead to the record through blocks the
CAR carries. A path that needs a block the CAR lacks is a broken proof, not an absent record.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.data import dag_cbor
from domain.data.cid import CID
from domain.data.errors import DataModelError
from domain.repo.block_reader import MissingBlock
from domain.repo.car import load_car
from domain.repo.commit import Commit, verify_commit
from domain.repo.errors import RecordNotFound, RepoError
from domain.repo.mst import Mst


class InvalidRecordProof(RepoError):
    """The CAR does not prove the record: malformed, another repo, unsigned or forged."""


@dataclass(frozen=True, slots=True)
class ProvenRecord:
    """A record and the signed commit its proof leads from."""

    commit: Commit
    cid: CID
    value: dag_cbor.Value


def verify_record_proof(
    car: bytes, did: str, collection: str, rkey: str, did_key: str
) -> ProvenRecord:
    """The proven record, `RecordNotFound` if the proof shows it absent, else
    `InvalidRecordProof`."""
    try:
        roots, blocks = load_car(car)
    except RepoError as exc:
        raise InvalidRecordProof(f"malformed proof CAR: {exc}") from exc
    if not roots or (data := blocks.get_block(roots[0])) is None:
        raise InvalidRecordProof("the proof CAR lacks its commit")
    try:
        commit = Commit.decode(data)
    except (RepoError, DataModelError) as bad_commit:
        raise InvalidRecordProof(f"invalid commit in proof: {bad_commit}") from bad_commit
    if commit.did != did:
        raise InvalidRecordProof(f"the proof's commit is for {commit.did}, not {did}")
    if not verify_commit(commit, did_key):
        raise InvalidRecordProof(f"commit {roots[0]} is not signed by {did}'s key")
    path = f"{collection}/{rkey}"
    try:
        cid = Mst.load(blocks, commit.data).get(path)
    except (MissingBlock, RepoError) as unreachable:
        raise InvalidRecordProof(
            f"the proof's tree does not reach {path}: {unreachable}"
        ) from unreachable
    if cid is None:
        raise RecordNotFound(f"the proof shows no record at {path}")
    record = blocks.get_block(cid)
    if record is None:
        raise InvalidRecordProof(f"the proof lacks the record block of {path}")
    try:
        value = dag_cbor.decode(record)
    except DataModelError as bad_record:
        raise InvalidRecordProof(
            f"the record of {path} is not DAG-CBOR: {bad_record}"
        ) from bad_record
    return ProvenRecord(commit, cid, value)
