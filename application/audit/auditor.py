"""`quire audit`: verify every repository from the log alone.

For each repo, in seq order: every block's bytes hash to its CID; every commit decodes, names
the repo's DID, and its signature verifies against the signing key in force at that point of
the log; revs strictly increase and `since`/`prevData` chain to the previous commit; applying
the ops to the previous tree gives exactly the commit's data root; and the ops are exactly the
diff between the two roots. A failure is reported with its seq, never as a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import Application

from application.audit.log_reader import iter_notifications
from application.repo_host.account_aggregate import Account
from application.repo_host.repo_aggregate import Repo
from domain.data.cid import CID
from domain.repo.block_map import BlockMap
from domain.repo.car import read_car
from domain.repo.commit import Commit, verify_commit
from domain.repo.mst import Mst, NodeStore
from domain.repo.mst_diff import mst_diff


@dataclass(frozen=True, slots=True)
class AuditFailure:
    """One thing that does not hold, and where."""

    seq: int
    did: str
    reason: str


@dataclass(slots=True)
class RepoAudit:
    """Per-repo tally."""

    did: str
    commits: int = 0
    records: int = 0
    ok: bool = True
    rev: str | None = None
    data: CID | None = None


@dataclass(slots=True)
class AuditResult:
    """Everything the audit found."""

    events: int = 0
    repos: list[RepoAudit] = field(default_factory=list)
    failures: list[AuditFailure] = field(default_factory=list)


class AuditError(Exception):
    """Internal: a check failed for the event being audited."""


class _Auditor:
    def __init__(self) -> None:
        self.blocks = BlockMap()
        self.nodes = NodeStore(self.blocks, 50_000)
        self.keys: dict[str, str] = {}
        self.repos: dict[str, RepoAudit] = {}
        self.result = AuditResult()

    def check(self, seq: int, event: Any) -> None:
        if isinstance(event, Account.Event):
            self.keys[event.originator_id] = event.signing_key
        elif isinstance(event, Repo.Created):
            self._created(event)
        elif isinstance(event, Repo.Committed):
            self._committed(event)

    def _store_blocks(self, car: bytes, commit: CID) -> dict[CID, bytes]:
        """The event's CAR slice; the reader rejects any block that does not match its CID."""
        reader = read_car(car)
        if reader.roots != (commit,):
            raise AuditError("the event's CAR slice is not rooted at its commit")
        blocks: dict[CID, bytes] = {}
        for cid, data in reader:
            blocks[cid] = data
            self.blocks.set(cid, data)
        return blocks

    def _verify_commit(
        self, did: str, cid: CID, blocks: dict[CID, bytes], rev: str, data: CID
    ) -> None:
        if cid not in blocks:
            raise AuditError(f"commit block {cid} missing from the event")
        commit = Commit.decode(blocks[cid])
        if commit.did != did or commit.rev != rev or commit.data != data:
            raise AuditError("signed commit does not match the event's did/rev/data")
        key = self.keys.get(did)
        if key is None:
            raise AuditError("no signing key recorded for the account before this commit")
        if not verify_commit(commit, key):
            raise AuditError(f"commit signature does not verify against {key}")

    def _created(self, event: Any) -> None:
        repo = self.repos.setdefault(event.did, RepoAudit(event.did))
        blocks = self._store_blocks(event.blocks, event.commit)
        self._verify_commit(event.did, event.commit, blocks, event.rev, event.data)
        if not Mst.empty(self.nodes).root == event.data:
            raise AuditError("genesis data root is not the empty tree")
        repo.commits, repo.rev, repo.data = 1, event.rev, event.data

    def _committed(self, event: Any) -> None:
        repo = self.repos.get(event.did)
        if repo is None or repo.data is None:
            raise AuditError("commit to a repo that was never created")
        blocks = self._store_blocks(event.blocks, event.commit)
        self._verify_commit(event.did, event.commit, blocks, event.rev, event.data)
        if repo.rev is not None and not event.rev > repo.rev:
            raise AuditError(f"rev {event.rev} does not increase past {repo.rev}")
        if event.since != repo.rev or event.prev_data != repo.data:
            raise AuditError("since/prevData do not chain to the previous commit")
        before = Mst.load(self.nodes, repo.data)
        after = before
        for op in event.ops:
            after = (
                after.delete(op["path"]) if op["cid"] is None else after.put(op["path"], op["cid"])
            )
        if after.root != event.data:
            raise AuditError(
                f"ops applied to the previous tree give {after.root}, not {event.data}"
            )
        self._check_diff(before, Mst.load(self.nodes, event.data), event.ops)
        repo.commits += 1
        repo.rev, repo.data = event.rev, event.data

    def _check_diff(self, before: Mst, after: Mst, ops: list[dict[str, Any]]) -> None:
        diff = mst_diff(before, after)
        derived: dict[str, tuple[str, CID | None, CID | None]] = {
            c.key: ("create", c.cid, None) for c in diff.creates
        }
        derived.update({u.key: ("update", u.cid, u.prev) for u in diff.updates})
        derived.update({d.key: ("delete", None, d.prev) for d in diff.deletes})
        recorded = {op["path"]: (op["action"], op["cid"], op["prev"]) for op in ops}
        changed = {k: v for k, v in recorded.items() if v[0] != "update" or v[1] != v[2]}
        if derived != changed:
            raise AuditError("ops differ from the diff between the consecutive roots")


def audit_log(app: Application[Any], progress: Callable[[int], None] | None = None) -> AuditResult:
    """Audit every repository in `app`'s log."""
    auditor = _Auditor()
    result = auditor.result
    for page in iter_notifications(app):
        for notification in page:
            result.events += 1
            did = str(notification.originator_id).removeprefix("at://")
            try:
                auditor.check(notification.id, app.mapper.to_domain_event(notification))
            except Exception as exc:  # report any failure with its seq, never a traceback
                reason = str(exc) or type(exc).__name__
                result.failures.append(AuditFailure(notification.id, did, reason))
                if did in auditor.repos:
                    auditor.repos[did].ok = False
        if progress is not None:
            progress(result.events)
    for _did, repo in sorted(auditor.repos.items()):
        if repo.data is not None:
            repo.records = sum(1 for _ in Mst.load(auditor.nodes, repo.data).walk())
        result.repos.append(repo)
    return result
