"""The operator's XRPC surface (`com.atproto.admin.*`, invite creation): what `pdsadmin` and
moderation services call, over the same use cases as the `quire account` commands.

Subjects are accounts (a takedown of a whole repo, an `#account` event), records and blobs
(`application/content_takedowns.py`: an event with no frame, ADR 0012). The operator's
`com.atproto.temp.*` methods (revoking an account's credentials, reserving handles) are here
too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from application.account_admin import AccountAdmin
from application.content_takedowns import (
    REPO_BLOB_REF,
    STRONG_REF,
    ContentStatus,
    ContentTakedowns,
    ContentViews,
)
from application.identity_errors import IdentityRequestError
from application.identity_service import IdentityService
from application.invite_codes import OPERATOR, InviteCodes
from application.repo_host.app import RepoHost
from application.reserved_handles import ReservedHandles
from application.sessions import TAKEDOWN_STATUSES, SessionService
from application.views import AccountRow

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
REPO_REF = "com.atproto.admin.defs#repoRef"
SEARCH_PAGE_MAX = 100


class AdminViews(ContentViews, Protocol):
    """The accounts, records and takedown views (`SqlViews`)."""

    def get_account_by_email(self, email: str) -> AccountRow | None: ...

    def search_accounts(
        self, email_prefix: str | None, after: str, limit: int
    ) -> list[AccountRow]: ...


@dataclass(frozen=True, slots=True)
class SubjectStatus:
    """`getSubjectStatus` / `updateSubjectStatus` for an account."""

    did: str
    takendown: bool
    deactivated: bool

    def to_json(self, *, with_deactivated: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subject": {"$type": REPO_REF, "did": self.did},
            "takedown": {"applied": self.takendown},
        }
        if with_deactivated:
            body["deactivated"] = {"applied": self.deactivated}
        return body


class AdminService:
    """Account administration for the operator, by DID."""

    def __init__(
        self,
        host: RepoHost,
        admin: AccountAdmin,
        invites: InviteCodes,
        sessions: SessionService,
        views: AdminViews,
        identity: IdentityService,
        reserved: ReservedHandles,
    ) -> None:
        self.host, self.admin, self.invites = host, admin, invites
        self.sessions, self.views, self.identity = sessions, views, identity
        self.reserved = reserved
        self.content = ContentTakedowns(host, views)

    def _row(self, identifier: str) -> AccountRow:
        if identifier.startswith("did:"):
            row = self.views.get_account(identifier)
        else:
            row = self.views.get_account_by_handle(identifier.lower())
        if row is None or row.status == "deleted":
            raise IdentityRequestError(f"Account not found: {identifier}", "AccountNotFound")
        return row

    def account_info(self, did: str) -> dict[str, Any]:
        """`com.atproto.admin.defs#accountView`."""
        return self._account_view(self._row(did))

    def _account_view(self, row: AccountRow) -> dict[str, Any]:
        created = self.host.get_account(row.did).created_on
        info: dict[str, Any] = {
            "did": row.did,
            "handle": row.handle,
            "indexedAt": _datetime(created),
            "invites": [_invite_json(code) for code in self.invites.for_account(row.did)],
            "invitesDisabled": self.invites.account_invites_disabled(row.did),
        }
        if row.email is not None:
            info["email"] = row.email
        if row.status == "deactivated":
            info["deactivatedAt"] = _datetime(self.host.get_account(row.did).modified_on)
        return info

    def account_infos(self, dids: list[str]) -> list[dict[str, Any]]:
        """The views of those `dids` that are hosted here (unknown ones are left out)."""
        infos = []
        for did in dict.fromkeys(dids):
            try:
                infos.append(self.account_info(did))
            except IdentityRequestError:
                continue
        return infos

    def search_accounts(
        self, email: str | None, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the accounts whose address starts with `email` (any case; every account
        without it), by DID; the cursor is the page's last DID while more follow."""
        limit = max(1, min(limit, SEARCH_PAGE_MAX))
        prefix = email.strip().lower() if email else None
        rows = self.views.search_accounts(prefix or None, cursor or "", limit + 1)
        page = rows[:limit]
        next_cursor = page[-1].did if len(rows) > limit else None
        return [self._account_view(row) for row in page], next_cursor

    def subject_status(self, did: str) -> SubjectStatus:
        """Whether the account is taken down or deactivated."""
        row = self._row(did)
        return SubjectStatus(row.did, row.status in TAKEDOWN_STATUSES, row.status == "deactivated")

    def record_status(self, uri: str) -> ContentStatus:
        """Whether the record at `uri` is taken down (NotFound when there is no record)."""
        return self.content.record_status(uri)

    def blob_status(self, did: str, cid: str) -> ContentStatus:
        """Whether `did`'s blob `cid` is taken down."""
        return self.content.blob_status(did, cid)

    def update_subject_status(
        self, subject: Any, takedown: Any, deactivated: Any
    ) -> SubjectStatus | ContentStatus:
        """Apply or lift a takedown of an account, record or blob (and an account's
        deactivation; records and blobs have none, as in the reference)."""
        if type(subject) is not dict:
            raise IdentityRequestError("Input/subject must be an object")
        for name, attr in (("takedown", takedown), ("deactivated", deactivated)):
            if attr is not None and not _is_status_attr(attr):
                raise IdentityRequestError(
                    f"Input/{name} must have a boolean applied and an optional string ref"
                )
        if takedown and takedown["applied"] and deactivated and not deactivated["applied"]:
            raise IdentityRequestError("Cannot activate and takedown an account at the same time")
        kind = subject.get("$type")
        if kind in (STRONG_REF, REPO_BLOB_REF):
            return self.content.update(subject, takedown)
        if kind != REPO_REF:
            raise IdentityRequestError(
                f"Invalid subject ({str(kind)[:100]}): expected {REPO_REF}, {STRONG_REF} "
                f"or {REPO_BLOB_REF}"
            )
        row = self._row(str(subject.get("did", "")))
        if takedown is not None:
            if takedown["applied"]:
                self.admin.set_status_by_operator(row.did, "takendown")
            elif row.status in TAKEDOWN_STATUSES:
                self.admin.set_status_by_operator(row.did, "active")
        if deactivated is not None:
            current = self._row(row.did).status
            if deactivated["applied"] and current == "active":
                self.admin.set_status_by_operator(row.did, "deactivated")
            elif not deactivated["applied"] and current == "deactivated":
                self.admin.set_status_by_operator(row.did, "active")
        return self.subject_status(row.did)

    def delete_account(self, did: str) -> None:
        """Delete without the owner's token: `#account` deleted, sessions ended."""
        row = self._row(did)
        self.host.set_status(row.did, "deleted")
        self.sessions.revoke_sessions(row.did)

    def update_password(self, did: str, password: str) -> None:
        """Set a new password; the account's sessions end."""
        self.sessions.set_password(self._row(did).did, password)

    def update_email(self, identifier: str, email: str) -> None:
        """Set a new address (unconfirmed, as any new one)."""
        row = self._row(identifier)
        email = email.strip().lower()
        if not _EMAIL.fullmatch(email) or len(email) > 254:
            raise IdentityRequestError("This email address is not supported", "InvalidEmail")
        taken = self.views.get_account_by_email(email)
        if taken is not None and taken.did != row.did:
            raise IdentityRequestError("This email address is already in use", "InvalidEmail")
        self.host.change_email(row.did, email)

    def update_handle(self, did: str, handle: str) -> None:
        """Give the account a new handle (DID document, then `#identity`), as its owner could,
        and a reserved one too: the operator is who reservations are kept for."""
        self.identity.update_handle(self._row(did).did, handle, by_operator=True)

    def update_signing_key(self, did: str, signing_key: str) -> None:
        """Switch the repo to a signing key reserved here for the account."""
        self.identity.use_reserved_signing_key(self._row(did).did, signing_key)

    def revoke_credentials(self, identifier: str) -> None:
        """Revoke the password, app passwords and sessions of the account (handle or DID),
        until a password reset."""
        self.sessions.revoke_credentials(self._row(identifier).did)

    def reserve_handle(self, handle: str) -> None:
        """Keep `handle` from sign-ups and handle updates (idempotent)."""
        self.reserved.reserve(handle)

    def invite_codes(
        self, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of every invite code, newest first."""
        try:
            page, next_cursor = self.invites.recent(cursor, limit)
        except ValueError as exc:
            raise IdentityRequestError(str(exc)) from exc
        return [_invite_json(code) for code in page], next_cursor

    def disable_invite_codes(self, codes: list[str], accounts: list[str]) -> None:
        """Disable codes by code or by the account they were made for."""
        self.invites.disable(codes, accounts)

    def create_invite_codes(
        self, code_count: int, use_count: int, for_accounts: list[str]
    ) -> list[tuple[str, list[str]]]:
        """`code_count` codes for each account (or for nobody in particular)."""
        owners = [self._row(did).did for did in for_accounts] or [OPERATOR]
        return [
            (owner, self.invites.create(code_count, use_count, for_account=owner))
            for owner in owners
        ]


def _is_status_attr(value: Any) -> bool:
    """`com.atproto.admin.defs#statusAttr`: a boolean `applied`, an optional string `ref`."""
    return (
        type(value) is dict
        and type(value.get("applied")) is bool
        and type(value.get("ref", "")) is str
    )


def _datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _invite_json(code: Any) -> dict[str, Any]:
    return {
        "code": code.code,
        "available": code.available,
        "disabled": code.disabled,
        "forAccount": code.for_account,
        "createdBy": code.created_by,
        "createdAt": code.created_at,
        "uses": [
            {"usedBy": use.used_by, "usedAt": use.used_at}
            for use in code.uses
            if use.used_by.startswith("did:")
        ],
    }
