"""Confirming and changing an account's email, with tokens sent to the owner.

The reference's four calls: `requestEmailConfirmation` then `confirmEmail`; and
`requestEmailUpdate` (a token only when the current address is confirmed, so a lost inbox
does not lock anyone out) then `updateEmail`. Tokens are `OperatorTokens` like the other
flows (this server sends no email: the operator's channel carries them).

The address is part of the Account aggregate, so a change is an event in the log (projected
to the accounts view, never to the firehose). Which address was confirmed is credential
state beside the log (ADR 0004): a changed address is simply not the confirmed one.
"""

from __future__ import annotations

import re
from typing import Protocol

from application.identity_errors import IdentityRequestError
from application.operator_tokens import OperatorTokens
from application.repo_host.app import RepoHost
from application.sessions import CREDENTIALS_REVOKED, SessionService
from application.views import AccountRow

CONFIRM_EMAIL = "confirm_email"
UPDATE_EMAIL = "update_email"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class EmailViews(Protocol):
    """The accounts view (`SqlViews`)."""

    def get_account(self, did: str) -> AccountRow | None: ...

    def get_account_by_email(self, email: str) -> AccountRow | None: ...


class EmailVerification:
    """The email confirmation and update flows."""

    def __init__(
        self,
        host: RepoHost,
        sessions: SessionService,
        tokens: OperatorTokens,
        views: EmailViews,
    ) -> None:
        self.host, self.sessions, self.tokens, self.views = host, sessions, tokens, views

    def _account(self, did: str) -> AccountRow:
        row = self.views.get_account(did)
        if row is None:
            raise IdentityRequestError("Account not found", "AccountNotFound")
        return row

    def request_confirmation(self, did: str) -> None:
        """Send a token to confirm the current address."""
        row = self._account(did)
        if row.email is None:
            raise IdentityRequestError("Account has no email address", "InvalidEmail")
        self.tokens.issue(did, row.handle, CONFIRM_EMAIL)

    def confirm(self, did: str, email: str, token: str) -> None:
        """Mark the current address confirmed, if `email` is it and the token is right."""
        row = self._account(did)
        if row.email is None or row.email != email.strip().lower():
            raise IdentityRequestError("Invalid email", "InvalidEmail")
        record = self.tokens.check(did, CONFIRM_EMAIL, token)
        self.tokens.spend(did, CONFIRM_EMAIL, record)
        self.sessions.confirm_email(did, row.email)

    def request_update(self, did: str) -> bool:
        """Whether `updateEmail` will need a token; if so, one is sent."""
        row = self._account(did)
        if not self.sessions.email_confirmed(did, row.email):
            return False
        self.tokens.issue(did, row.handle, UPDATE_EMAIL)
        return True

    def update(self, did: str, email: str, token: str | None) -> None:
        """Change the address; a confirmed one can only be changed with a token.

        Not while the account's credentials are revoked: a leftover access token could
        otherwise redirect the password reset that restores them.
        """
        row = self._account(did)
        if self.sessions.credentials_revoked(did):
            raise IdentityRequestError(CREDENTIALS_REVOKED)
        email = email.strip().lower()
        if not _EMAIL.fullmatch(email) or len(email) > 254:
            raise IdentityRequestError("This email address is not supported", "InvalidEmail")
        taken = self.views.get_account_by_email(email)
        if taken is not None and taken.did != did:
            raise IdentityRequestError("This email address is already in use", "InvalidEmail")
        if self.sessions.email_confirmed(did, row.email):
            if not token:
                raise IdentityRequestError("confirmation token required", "TokenRequired")
            record = self.tokens.check(did, UPDATE_EMAIL, token)
            self.tokens.spend(did, UPDATE_EMAIL, record)
        self.host.change_email(did, email)
