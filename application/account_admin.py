"""Account status: the owner's activate/deactivate, the operator's takedown, and the report.

Status changes are `#account` events in the log (`RepoHost.set_status`). An owner may
deactivate (and later reactivate) their account, as at the end of a migration away; only the
operator can take one down or lift a takedown. Reactivation by the owner first checks that
the DID document still points here (the reference's `activateAccount`), then records the
status (`#account`) and re-announces the identity (`#identity`) for consumers resuming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from application.identity_errors import IdentityRequestError
from application.identity_service import TAKEDOWN_STATUSES, IdentityService
from application.operator_tokens import OperatorTokens
from application.ports.blob_index import BlobIndex
from application.repo_host.app import RepoHost
from application.views import AccountRow, RepoHeadRow
from domain.data import dag_cbor
from domain.data.cid import CID

PAGE = 500


class AdminViews(Protocol):
    """The views the status report and the account list read (`SqlViews`)."""

    def get_head(self, did: str) -> RepoHeadRow | None: ...

    def list_accounts(self) -> list[AccountRow]: ...

    def count_records(self, did: str) -> int: ...

    def list_blobs(self, did: str, after: bytes, limit: int) -> list[CID]: ...

    def get_block(self, cid: CID) -> bytes | None: ...

    def get_blocks(self, cids: Iterable[CID]) -> dict[CID, bytes]: ...


class RefreshTokenRevoker(Protocol):
    """The part of the credential store a takedown needs."""

    def revoke_all(self, did: str) -> None: ...


@dataclass(frozen=True, slots=True)
class AccountStatusReport:
    """`com.atproto.server.checkAccountStatus`."""

    activated: bool
    valid_did: bool
    repo_commit: str
    repo_rev: str
    repo_blocks: int
    indexed_records: int
    expected_blobs: int
    imported_blobs: int

    def to_json(self) -> dict[str, Any]:
        return {
            "activated": self.activated,
            "validDid": self.valid_did,
            "repoCommit": self.repo_commit,
            "repoRev": self.repo_rev,
            "repoBlocks": self.repo_blocks,
            "indexedRecords": self.indexed_records,
            "privateStateValues": 0,
            "expectedBlobs": self.expected_blobs,
            "importedBlobs": self.imported_blobs,
        }


class AccountAdmin:
    """Status changes and reports for hosted accounts."""

    def __init__(
        self,
        host: RepoHost,
        identity: IdentityService,
        views: AdminViews,
        blob_index: BlobIndex,
        refresh_tokens: RefreshTokenRevoker,
        tokens: OperatorTokens,
    ) -> None:
        self.host, self.identity, self.views = host, identity, views
        self.blob_index, self.refresh_tokens, self.tokens = blob_index, refresh_tokens, tokens

    # -- the owner's (XRPC) ------------------------------------------------------------------

    def activate(self, did: str) -> None:
        """Reactivate after checking the DID document; a taken-down account cannot."""
        account = self.identity.account(did)
        problem = self.identity.did_problem(did)
        if problem is not None:
            raise IdentityRequestError(problem)
        self.host.set_status(did, "active")
        self.host.change_handle(did, account.handle)  # re-announce for consumers resuming

    def deactivate(self, did: str) -> None:
        """Stop serving the repo until reactivated; a takedown stays a takedown."""
        account = self.identity.account(did, allow_takendown=True)
        if account.status not in TAKEDOWN_STATUSES:
            self.host.set_status(did, "deactivated")

    def status_report(self, did: str) -> AccountStatusReport:
        """Where the account stands, especially during a migration to this server."""
        account = self.identity.account(did)
        head = self.views.get_head(did)
        if head is None:
            raise IdentityRequestError(f"Could not find repo for DID: {did}", "RepoNotFound")
        expected = self._count_blobs(did)
        missing = self._count_missing(did)
        return AccountStatusReport(
            activated=account.status == "active",
            valid_did=self.identity.did_problem(did) is None,
            repo_commit=str(head.commit),
            repo_rev=head.rev,
            repo_blocks=count_repo_blocks(self.views, head.commit, head.data),
            indexed_records=self.views.count_records(did),
            expected_blobs=expected,
            imported_blobs=max(expected - missing, 0),
        )

    # -- the operator's (CLI) ----------------------------------------------------------------

    def list_accounts(self) -> list[AccountRow]:
        """Every account, by DID."""
        return self.views.list_accounts()

    def set_status_by_operator(self, did: str, status: str) -> None:
        """Activate, deactivate or take down, whatever the current status (but deleted)."""
        self.identity.account(did, allow_takendown=True)
        self.host.set_status(did, status)
        if status == "takendown":
            self.refresh_tokens.revoke_all(did)
            self.tokens.forget(did)

    # -- counting ---------------------------------------------------------------------------

    def _count_blobs(self, did: str) -> int:
        count, after = 0, b""
        while page := self.views.list_blobs(did, after, PAGE):
            count += len(page)
            after = page[-1].raw
            if len(page) < PAGE:
                break
        return count

    def _count_missing(self, did: str) -> int:
        count, after = 0, None
        while page := self.blob_index.missing(did, after, PAGE):
            count += len(page)
            after = page[-1].cid
            if len(page) < PAGE:
                break
        return count


def count_repo_blocks(views: AdminViews, commit: CID, root: CID) -> int:
    """Distinct blocks of the repo held here: the commit, MST nodes and records."""
    seen: set[CID] = {commit} if views.get_block(commit) is not None else set()
    stack = [root]
    while stack:
        cid = stack.pop()
        if cid in seen:
            continue
        data = views.get_block(cid)
        if data is None:
            continue
        seen.add(cid)
        node = dag_cbor.decode_trusted(data)  # validated when it was recorded
        seen.update(views.get_blocks([entry["v"] for entry in node["e"]]))
        stack.extend(entry["t"] for entry in node["e"] if entry["t"] is not None)
        if node["l"] is not None:
            stack.append(node["l"])
    return len(seen)
