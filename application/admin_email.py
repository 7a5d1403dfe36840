"""`com.atproto.admin.sendEmail`: the operator (or a moderation service) writes to an
account's email address, as the reference PDS does for moderation notices.

The recipient may be deactivated or taken down (a takedown notice is the usual message); a
deleted or unknown account, or one without an address, is refused with the reference's
messages.
"""

from __future__ import annotations

from typing import Protocol

from application.identity_errors import IdentityRequestError
from application.ports.mailer import Mailer
from application.views import AccountRow

DEFAULT_SUBJECT = "Message via your PDS"


class Recipients(Protocol):
    """The accounts view (`SqlViews`)."""

    def get_account(self, did: str) -> AccountRow | None: ...


class AdminEmail:
    """Sends the operator's messages through the `Mailer`."""

    def __init__(self, recipients: Recipients, mailer: Mailer) -> None:
        self.recipients, self.mailer = recipients, mailer

    def send(self, recipient_did: str, content: str, subject: str | None = None) -> None:
        """Mail `content` to the account's current address (`subject` defaults as upstream)."""
        row = self.recipients.get_account(recipient_did)
        if row is None or row.status == "deleted":
            raise IdentityRequestError("Recipient not found")
        if row.email is None:
            raise IdentityRequestError("account does not have an email address")
        self.mailer.send(row.email, DEFAULT_SUBJECT if subject is None else subject, content)
