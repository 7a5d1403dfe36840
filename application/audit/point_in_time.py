"""A repository as of a past seq or rev, for auditors: its head, its records, its CAR.

Blocks are never deleted while the log references them, so any past data root can be walked
through the same block store as the current one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eventsourcing.application import Application

from application.audit.log_reader import iter_events
from application.ports.block_store import BlockStore
from application.repo_host.repo_aggregate import Repo, repo_id
from domain.data.cid import CID
from domain.repo.car import write_car
from domain.repo.commit_builder import RepoHead
from domain.repo.errors import RepoNotFound
from domain.repo.mst import Mst, NodeStore


def head_at(
    app: Application[Any], did: str, *, seq: int | None = None, rev: str | None = None
) -> RepoHead:
    """The head of `did`'s repo after the last event with seq <= `seq` (or rev <= `rev`)."""
    head: RepoHead | None = None
    if seq is None:
        for event in app.events.get(repo_id(did)):
            if isinstance(event, Repo.Created | Repo.Committed):
                if rev is not None and event.rev > rev:
                    break
                head = RepoHead(event.commit, event.rev, event.data)
    else:
        for logged in iter_events(app):
            if logged.seq > seq:
                break
            event = logged.event
            if isinstance(event, Repo.Created | Repo.Committed) and event.did == did:
                head = RepoHead(event.commit, event.rev, event.data)
    if head is None:
        raise RepoNotFound(f"{did} had no repository at that point")
    return head


def records_at(blocks: BlockStore, head: RepoHead) -> Iterator[tuple[str, CID]]:
    """Every (path, record CID) of the tree at `head`, in key order."""
    return Mst.load(NodeStore(blocks), head.data).walk()


def car_at(blocks: BlockStore, head: RepoHead) -> Iterator[bytes]:
    """CAR chunks of the repo at `head`: the commit, then nodes and records."""
    tree = Mst.load(NodeStore(blocks), head.data)

    def _blocks() -> Iterator[tuple[CID, bytes]]:
        commit = blocks.get_block(head.commit)
        if commit is None:
            raise RepoNotFound(f"commit block {head.commit} is missing from the store")
        yield head.commit, commit
        yield from tree.node_blocks()
        for _path, cid in tree.walk():
            data = blocks.get_block(cid)
            if data is not None:
                yield cid, data

    return write_car(head.commit, _blocks())
