"""Moderation takedowns of single records and blobs (`com.atproto.admin.*SubjectStatus` with a
`com.atproto.repo.strongRef` or `com.atproto.admin.defs#repoBlobRef` subject).

Behaviour follows the reference PDS (packages/pds/src/api/com/atproto/admin and
actor-store/{record,blob}): a record's takedown is keyed by its URI (the subject's `cid` is
not consulted), ends when the record is deleted and survives updates; a blob's is keyed by the
account and CID. Taking down a record that does not exist changes nothing and still succeeds.
Each change is an `Account` event projected to the takedown views and to no firehose frame
(ADR 0012), so the log stays the only source of truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from application.identity_errors import IdentityRequestError
from application.ports.takedown_views import TakedownViews
from application.repo_host.app import RepoHost
from application.views import AccountRow
from domain.data.cid import CID
from domain.data.errors import InvalidCid
from domain.syntax import is_valid_did
from domain.syntax.at_uri import parse_at_uri
from domain.syntax.errors import InvalidAtUri

STRONG_REF = "com.atproto.repo.strongRef"
REPO_BLOB_REF = "com.atproto.admin.defs#repoBlobRef"


class ContentViews(TakedownViews, Protocol):
    """The views these use cases read: accounts, current records, blob references, takedowns."""

    def get_account(self, did: str) -> AccountRow | None: ...

    def get_account_by_handle(self, handle: str) -> AccountRow | None: ...

    def get_record_cid(self, did: str, collection: str, rkey: str) -> CID | None: ...

    def blob_referenced(self, did: str, cid: CID) -> bool: ...


@dataclass(frozen=True, slots=True)
class ContentStatus:
    """A record or blob subject and its takedown (`ref` None: not taken down)."""

    subject: dict[str, str]
    ref: str | None

    def to_json(self, *, with_deactivated: bool = True) -> dict[str, Any]:
        """The lexicon's output; records and blobs have no deactivation to report."""
        takedown: dict[str, Any] = {"applied": self.ref is not None}
        if self.ref is not None:
            takedown["ref"] = self.ref
        return {"subject": dict(self.subject), "takedown": takedown}


@dataclass(frozen=True, slots=True)
class _Record:
    did: str
    collection: str
    rkey: str

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{self.collection}/{self.rkey}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ContentTakedowns:
    """Apply, lift and report takedowns of records and blobs."""

    def __init__(self, host: RepoHost, views: ContentViews, now: Callable[[], str] = _now) -> None:
        self.host, self.views, self.now = host, views, now

    # -- getSubjectStatus -----------------------------------------------------------------
    def record_status(self, uri: str) -> ContentStatus:
        """The current record at `uri` and its takedown; NotFound if there is no record."""
        record = self._record(uri)
        cid = self.views.get_record_cid(record.did, record.collection, record.rkey)
        if cid is None:
            raise _subject_not_found()
        ref = self.views.get_record_takedown(record.did, record.collection, record.rkey)
        return ContentStatus({"$type": STRONG_REF, "uri": record.uri, "cid": str(cid)}, ref)

    def blob_status(self, did: str, cid_text: str) -> ContentStatus:
        """`did`'s blob and its takedown; NotFound unless a record references it or it is
        taken down."""
        did, cid = self._account(_did(did)).did, _cid(cid_text, "blob")
        ref = self.views.get_blob_takedown(did, cid)
        if ref is None and not self.views.blob_referenced(did, cid):
            raise _subject_not_found()
        return ContentStatus(_blob_subject(did, cid), ref)

    # -- updateSubjectStatus --------------------------------------------------------------
    def update(self, subject: dict[str, Any], takedown: dict[str, Any] | None) -> ContentStatus:
        """Apply or lift the takedown of a strongRef or repoBlobRef subject (validated here)."""
        if subject.get("$type") == STRONG_REF:
            return self._update_record(subject, takedown)
        return self._update_blob(subject, takedown)

    def _update_record(
        self, subject: dict[str, Any], takedown: dict[str, Any] | None
    ) -> ContentStatus:
        record = self._record(_text(subject, "uri"))
        _cid(_text(subject, "cid"), "subject/cid")  # checked, not used: the URI is the key
        key = (record.did, record.collection, record.rkey)
        current = self.views.get_record_takedown(*key)
        exists = self.views.get_record_cid(*key) is not None
        # As the reference's UPDATE of no row: nothing to take down, nothing recorded.
        if takedown is not None and (exists or current is not None):
            wanted = self._wanted_ref(takedown, current)
            if wanted != current:
                self.host.change_record_takedown(*key, wanted)
                current = wanted
        echoed = {"$type": STRONG_REF, "uri": subject["uri"], "cid": subject["cid"]}
        return ContentStatus(echoed, current)

    def _update_blob(
        self, subject: dict[str, Any], takedown: dict[str, Any] | None
    ) -> ContentStatus:
        did = self._account(_did(_text(subject, "did"))).did
        cid = _cid(_text(subject, "cid"), "subject/cid")
        current = self.views.get_blob_takedown(did, cid)
        if takedown is not None:
            wanted = self._wanted_ref(takedown, current)
            if wanted != current:
                self.host.change_blob_takedown(did, cid, wanted)
                current = wanted
        return ContentStatus(_blob_subject(did, cid), current)

    def _wanted_ref(self, takedown: dict[str, Any], current: str | None) -> str | None:
        """The takedown reference to hold after this request (None: lifted).

        Without a `ref`, an applied takedown keeps its reference and a new one is stamped
        with the time, as the reference PDS stamps it.
        """
        if not takedown["applied"]:
            return None
        ref = takedown.get("ref")
        if ref is not None:
            return str(ref)
        return current if current is not None else self.now()

    # -- subjects -------------------------------------------------------------------------
    def _account(self, identifier: str) -> AccountRow:
        """The hosted account named by a DID or (in a record URI) a handle."""
        if identifier.startswith("did:"):
            row = self.views.get_account(_did(identifier))
        else:
            row = self.views.get_account_by_handle(identifier.lower())
        if row is None or row.status == "deleted":
            raise IdentityRequestError("Repo not found", "NotFound")
        return row

    def _record(self, uri: str) -> _Record:
        try:
            parsed = parse_at_uri(uri)
        except InvalidAtUri as exc:
            raise IdentityRequestError(f"Invalid record URI: {exc}") from exc
        if parsed.collection is None or parsed.rkey is None:
            raise IdentityRequestError(f"Record URI needs a collection and a record key: {uri}")
        did = self._account(parsed.authority).did
        return _Record(did, parsed.collection, parsed.rkey)


def _text(subject: dict[str, Any], name: str) -> str:
    value = subject.get(name)
    if type(value) is not str:
        raise IdentityRequestError(f"Input/subject/{name} must be a string")
    return value


def _did(text: str) -> str:
    if not is_valid_did(text):
        raise IdentityRequestError(f"Invalid DID: {text[:100]}")
    return text


def _cid(text: str, name: str) -> CID:
    try:
        return CID.parse(text)
    except (InvalidCid, ValueError) as exc:
        raise IdentityRequestError(f"{name} must be a CID") from exc


def _blob_subject(did: str, cid: CID) -> dict[str, str]:
    return {"$type": REPO_BLOB_REF, "did": did, "cid": str(cid)}


def _subject_not_found() -> IdentityRequestError:
    return IdentityRequestError("Subject not found", "NotFound")
