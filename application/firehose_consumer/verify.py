"""Sync 1.1 verification of `#commit` and `#sync` events, given the repo's signing key.

A `#commit` is accepted only if, from its own bytes:
- `blocks` is a valid CAR whose first root is `commit`, and holds that commit block;
- the commit is a strict v3 commit for `repo`, its `rev` is the event's `rev`, and its
  signature verifies under the DID document's `#atproto` key;
- every created or updated record's block is in the slice;
- undoing the ops on the slice's partial tree gives back `prevData` (MST inversion), so
  the ops are complete and the slice proves them.

And, against what the consumer last saw of the repo (its chain): `since` is the last rev,
`prevData` the last data root, and the rev moved forward. A commit that is sound on its own
but does not continue the chain is `ChainBroken`: the consumer has missed something and the
repo needs a resync, but the commit itself can be trusted as the new state.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.firehose_consumer.events import CommitEvent, SyncEvent
from domain.data.cid import CID
from domain.firehose.frames import MAX_BLOCKS_BYTES
from domain.repo.block_map import BlockMap
from domain.repo.car import load_car
from domain.repo.commit import Commit, verify_commit
from domain.repo.errors import RepoError
from domain.repo.mst_invert import InvertError, invert_commit


class InvalidRepoEvent(ValueError):
    """A `#commit` or `#sync` that fails verification: do not apply it."""


class BadSignature(InvalidRepoEvent):
    """The commit is not signed by the repo's current signing key."""


class ChainBroken(InvalidRepoEvent):
    """A sound commit that does not follow the last one seen: the repo needs a resync."""

    def __init__(self, message: str, state: RepoState) -> None:
        super().__init__(message)
        self.state = state


@dataclass(frozen=True, slots=True)
class RepoState:
    """What a consumer keeps per repo to check the chain: the last rev and data root."""

    rev: str
    data: CID


def _signed_commit(did: str, rev: str, root: CID | None, blocks: bytes) -> tuple[Commit, BlockMap]:
    """Decode the slice and its commit; check root, DID and rev (not yet the signature).

    `root` is the commit the event names; None takes the CAR's first root (`#sync`).
    """
    try:
        roots, block_map = load_car(blocks, max_total_size=MAX_BLOCKS_BYTES + 1024)
    except RepoError as exc:
        raise InvalidRepoEvent(f"invalid CAR slice: {exc}") from exc
    if not roots:
        raise InvalidRepoEvent("the CAR slice has no root")
    if root is not None and roots[0] != root:
        raise InvalidRepoEvent("the CAR slice's first root is not the event's commit")
    root = roots[0]
    data = block_map.get_block(root)
    if data is None:
        raise InvalidRepoEvent("the CAR slice lacks the commit block")
    try:
        commit = Commit.decode(data)
    except RepoError as exc:
        raise InvalidRepoEvent(f"invalid commit block: {exc}") from exc
    if commit.did != did:
        raise InvalidRepoEvent(f"commit is for {commit.did}, event for {did}")
    if commit.rev != rev:
        raise InvalidRepoEvent(f"commit rev {commit.rev} differs from event rev {rev}")
    return commit, block_map


def check_signature(commit: Commit, did_key: str) -> None:
    """Raise `BadSignature` unless `did_key` signed `commit`."""
    if not verify_commit(commit, did_key):
        raise BadSignature(f"commit {commit.rev} of {commit.did} is not signed by {did_key}")


def verify_commit_event(event: CommitEvent, did_key: str, previous: RepoState | None) -> RepoState:
    """Verify a `#commit`; return the repo's new state, or raise `InvalidRepoEvent`."""
    if event.too_big and not event.blocks:
        raise InvalidRepoEvent("tooBig commit without blocks cannot be verified")
    commit, blocks = _signed_commit(event.repo, event.rev, event.commit, event.blocks)
    check_signature(commit, did_key)
    for op in event.ops:
        if (op.action == "delete") != (op.cid is None):
            raise InvalidRepoEvent(f"{op.action} of {op.path} has a wrong cid")
        if op.cid is not None and blocks.get_block(op.cid) is None:
            raise InvalidRepoEvent(f"the slice lacks the record block of {op.path}")
    if event.prev_data is None:
        if event.ops:
            raise InvalidRepoEvent("commit with ops lacks prevData (required by Sync 1.1)")
    else:
        try:
            invert_commit(commit.data, event.ops, blocks, event.prev_data)
        except InvertError as exc:
            raise InvalidRepoEvent(f"ops do not invert to prevData: {exc}") from exc
    state = RepoState(commit.rev, commit.data)
    if previous is not None:
        _check_chain(event, previous, state)
    return state


def _check_chain(event: CommitEvent, previous: RepoState, state: RepoState) -> None:
    if state.rev <= previous.rev:
        raise InvalidRepoEvent(f"rev {state.rev} does not follow {previous.rev}")
    if event.since != previous.rev:
        raise ChainBroken(f"since {event.since} is not the last rev {previous.rev}", state)
    if event.prev_data is not None and event.prev_data != previous.data:
        raise ChainBroken(f"prevData {event.prev_data} is not the last root", state)


def verify_sync_event(event: SyncEvent, did_key: str) -> RepoState:
    """Verify a `#sync` (signed commit, DID, rev); its state replaces whatever came before."""
    commit, _ = _signed_commit(event.did, event.rev, None, event.blocks)
    check_signature(commit, did_key)
    return RepoState(commit.rev, commit.data)
