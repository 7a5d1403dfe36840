"""Forgotten passwords and account deletion: the two flows that prove ownership by a token.

As in the reference PDS, each starts with a request that sends a one-time token to the
owner (`requestPasswordReset`, `requestAccountDelete`) and ends with a call that spends it
(`resetPassword`, `deleteAccount`). The tokens are `OperatorTokens`: 15 minutes, single use,
stored as digests, delivered through the operator's channel since this server sends no email.

Deleting an account records `#account` with status `deleted` in the log and ends its
sessions: the repository stops being served and the account can no longer log in, while the
log keeps its history (auditors replay it; an operator purges it if the law requires).
"""

from __future__ import annotations

from typing import Protocol

from application.auth_errors import AuthenticationFailed
from application.operator_tokens import OperatorTokens
from application.repo_host.app import RepoHost
from application.sessions import GONE_STATUSES, SessionService
from application.views import AccountRow

RESET_PASSWORD = "reset_password"
DELETE_ACCOUNT = "delete_account"


class RecoveryViews(Protocol):
    """The account rows the flows look up (`SqlViews`)."""

    def get_account(self, did: str) -> AccountRow | None: ...

    def get_account_by_email(self, email: str) -> AccountRow | None: ...


class AccountRecovery:
    """Password reset and account deletion by emailed (here: operator-delivered) token."""

    def __init__(
        self,
        host: RepoHost,
        sessions: SessionService,
        tokens: OperatorTokens,
        views: RecoveryViews,
    ) -> None:
        self.host, self.sessions, self.tokens, self.views = host, sessions, tokens, views

    def request_password_reset(self, email: str) -> None:
        """Send a reset token to the account with `email`; say nothing either way."""
        row = self.views.get_account_by_email(email.strip().lower())
        if row is not None and row.status not in GONE_STATUSES:
            self.tokens.issue(row.did, row.handle, RESET_PASSWORD, findable=True)

    def reset_password(self, token: str, password: str) -> None:
        """Set a new password for the token's account; its sessions end."""
        did, record = self.tokens.find(RESET_PASSWORD, token)
        self.sessions.set_password(did, password)  # refuses a bad password: token kept
        self.tokens.spend(did, RESET_PASSWORD, record)

    def request_account_delete(self, did: str) -> None:
        """Send a deletion token to the owner of `did`."""
        row = self.views.get_account(did)
        if row is None or row.status in GONE_STATUSES:
            raise AuthenticationFailed("Account not found")
        self.tokens.issue(did, row.handle, DELETE_ACCOUNT)

    def delete_account(self, did: str, password: str, token: str) -> None:
        """Delete `did` if the password is its account password and the token is current."""
        row = self.views.get_account(did)
        if row is None or row.status in GONE_STATUSES:
            raise AuthenticationFailed("Invalid did or password")
        if not self.sessions.verify_account_password(did, password):
            raise AuthenticationFailed("Invalid did or password")
        record = self.tokens.check(did, DELETE_ACCOUNT, token)
        self.tokens.spend(did, DELETE_ACCOUNT, record)
        self.host.set_status(did, "deleted")
        self.sessions.revoke_sessions(did)
        self.tokens.forget(did)
