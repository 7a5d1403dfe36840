"""Read use cases over the views: records, repo descriptions, blocks, heads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from application.ports.block_store import BlockStore
from application.ports.repo_views import RepoViews
from application.ports.takedown_views import TakedownViews
from application.views import AccountRow, RepoHeadRow
from domain.data import dag_cbor
from domain.data.cid import CID
from domain.repo.errors import RecordNotFound, RepoNotFound
from domain.syntax import is_valid_did, is_valid_handle


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record as read back: its path, CID and decoded value."""

    did: str
    collection: str
    rkey: str
    cid: CID
    value: Any

    @property
    def uri(self) -> str:
        """The record's AT-URI."""
        return f"at://{self.did}/{self.collection}/{self.rkey}"


class ReaderViews(RepoViews, TakedownViews, Protocol):
    """The views record reads need: records and accounts, and which records are taken down."""


class RepoReader:
    """Answers record and repo queries from the views (never from the log directly)."""

    def __init__(self, views: ReaderViews, blocks: BlockStore) -> None:
        self.views = views
        self.blocks = blocks

    def resolve_repo(self, repo: str) -> AccountRow:
        """The hosted account named by a DID or a handle (RepoNotFound otherwise)."""
        account: AccountRow | None = None
        if repo.startswith("did:"):
            if is_valid_did(repo):
                account = self.views.get_account(repo)
        elif is_valid_handle(repo):
            account = self.views.get_account_by_handle(repo.lower())
        if account is None:
            raise RepoNotFound(f"Could not find repo: {repo}")
        return account

    def head(self, did: str) -> RepoHeadRow:
        """The repo head of a hosted DID."""
        head = self.views.get_head(did)
        if head is None:
            raise RepoNotFound(f"Could not find repo for DID: {did}")
        return head

    def get_record(
        self, did: str, collection: str, rkey: str, cid: CID | None = None
    ) -> StoredRecord:
        """A current record, optionally only if it has `cid` (RecordNotFound otherwise).

        A taken-down record is not found, exactly as a missing one (the reference's answer).
        """
        current = self.views.get_record_cid(did, collection, rkey)
        if (
            current is None
            or (cid is not None and cid != current)
            or self.views.get_record_takedown(did, collection, rkey) is not None
        ):
            raise RecordNotFound(f"Could not locate record: at://{did}/{collection}/{rkey}")
        data = self.blocks.get_block(current)
        if data is None:
            raise RecordNotFound(f"record block missing: {current}")
        return StoredRecord(did, collection, rkey, current, dag_cbor.decode(data))

    def list_records(
        self, did: str, collection: str, *, limit: int, cursor: str | None, reverse: bool
    ) -> tuple[list[StoredRecord], str | None]:
        """A page of records and the cursor for the next page (None at the end).

        The views leave taken-down records out, so pages stay full around them.
        """
        rows = self.views.list_records(did, collection, limit=limit, cursor=cursor, reverse=reverse)
        datas = self.blocks.get_blocks(cid for _, cid in rows)
        records = [
            StoredRecord(did, collection, rkey, cid, dag_cbor.decode(datas[cid]))
            for rkey, cid in rows
            if cid in datas
        ]
        next_cursor = rows[-1][0] if len(rows) == limit else None
        return records, next_cursor
