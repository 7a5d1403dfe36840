"""`AccountLookup` over the accounts view."""

from __future__ import annotations

from adapters.storage.sql_views import SqlViews
from application.ports.account_lookup import AccountInfo
from application.views import AccountRow


def _info(row: AccountRow | None) -> AccountInfo | None:
    return None if row is None else AccountInfo(row.did, row.handle, row.email, row.status)


class ViewAccountLookup:
    """Finds accounts by DID, handle or email in the accounts view."""

    def __init__(self, views: SqlViews) -> None:
        self.views = views

    def by_did(self, did: str) -> AccountInfo | None:
        """The account with this DID."""
        return _info(self.views.get_account(did))

    def by_handle(self, handle: str) -> AccountInfo | None:
        """The account with this handle."""
        return _info(self.views.get_account_by_handle(handle))

    def by_email(self, email: str) -> AccountInfo | None:
        """The account with this email."""
        return _info(self.views.get_account_by_email(email))
