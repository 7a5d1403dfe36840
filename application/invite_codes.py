"""Invite codes: made by the operator, spent by `createAccount` when the server requires one.

The reference's shape: codes read `<hostname with dashes>-xxxxx-xxxxx` (base32, lower case),
each good for a number of accounts; `getAccountInviteCodes` lists an account's own codes with
who used them. When codes are required, a sign-up claims its code before the account is
created and gives it back if the creation fails, so a failed sign-up costs nobody a use.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from application.ports.invite_codes import InviteCode, InviteStore

_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
OPERATOR = "admin"
"""`createdBy` / `forAccount` of codes the operator made for nobody in particular."""


class InviteRefused(Exception):
    """A sign-up without a usable code, while codes are required."""

    error = "InvalidInviteCode"
    status = 400


@dataclass(frozen=True, slots=True)
class Claim:
    """A use of a code held for an account still being created."""

    store: InviteStore
    code: str
    claimant: str

    def settle(self, did: str) -> None:
        """The account exists: the use is now `did`'s."""
        self.store.settle(self.code, self.claimant, did)

    def release(self) -> None:
        """The account was not created: give the use back."""
        self.store.release(self.code, self.claimant)


class InviteCodes:
    """Issue, claim and list invite codes."""

    def __init__(
        self,
        store: InviteStore,
        hostname: str,
        clock: Callable[[], float],
        *,
        required: bool,
    ) -> None:
        self.store, self.clock, self.required = store, clock, required
        self._prefix = hostname.replace(".", "-").replace(":", "-")

    def _now(self) -> str:
        when = datetime.fromtimestamp(self.clock(), UTC)
        return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _new_code(self) -> str:
        chars = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        return f"{self._prefix}-{chars[:5]}-{chars[5:]}"

    def create(self, count: int = 1, uses: int = 1, *, for_account: str = OPERATOR) -> list[str]:
        """`count` new codes, each good for `uses` accounts."""
        if not 1 <= count <= 1000 or not 1 <= uses <= 10_000:
            raise ValueError("count must be 1-1000 and uses 1-10000")
        codes = [self._new_code() for _ in range(count)]
        self.store.add(codes, uses, for_account, OPERATOR, self._now())
        return codes

    def claim(self, code: str | None, handle: str) -> Claim | None:
        """Take a use of `code` for the account being made for `handle` (None: not required).

        The DID does not exist yet (the PLC registration comes later), so the use is held
        under the handle until `Claim.settle` names the DID, or `Claim.release` gives it back.
        """
        if not self.required:
            return None
        if not code:
            raise InviteRefused("No invite code provided")
        claim = Claim(self.store, code.strip(), f"pending:{handle}")
        if not self.store.claim(claim.code, claim.claimant, self._now()):
            raise InviteRefused("Provided invite code not available")
        return claim

    def recent(self, cursor: str | None, limit: int) -> tuple[list[InviteCode], str | None]:
        """A page of every code, newest first, and the cursor of the next page."""
        before = None
        if cursor:
            at, sep, code = cursor.partition("::")
            if not sep:
                raise ValueError("malformed cursor")
            before = (at, code)
        page = self.store.list_recent(before, limit)
        last = page[-1] if len(page) == limit else None
        return page, None if last is None else f"{last.created_at}::{last.code}"

    def disable(self, codes: list[str], accounts: list[str]) -> None:
        """Disable codes, by code or by the account they were made for."""
        self.store.disable(codes, accounts)

    def for_account(self, did: str) -> list[InviteCode]:
        """The codes made for `did`."""
        return self.store.list_for_account(did)

    def set_account_invites_disabled(self, did: str, disabled: bool) -> None:
        """The operator's `disable/enableAccountInvites`: a flag on the account, as in the
        reference. The account's existing codes stay usable (`disableInviteCodes` is for
        those), and an unknown DID is not an error (the reference updates no row)."""
        self.store.set_account_disabled(did, disabled)

    def account_invites_disabled(self, did: str) -> bool:
        """`invitesDisabled` of the account's `admin.defs#accountView`."""
        return self.store.account_disabled(did)
