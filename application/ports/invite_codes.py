"""Invite codes, when the server requires them for new accounts (`QUIRE_INVITE_REQUIRED`).

Like credentials (ADR 0004) they are mutable operator state beside the log, not part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class InviteUse:
    """One account created with a code."""

    used_by: str
    used_at: str


@dataclass(frozen=True, slots=True)
class InviteCode:
    """A code, how many accounts it may create, and who used it."""

    code: str
    available: int
    disabled: bool
    for_account: str
    created_by: str
    created_at: str
    uses: tuple[InviteUse, ...] = ()


class InviteStore(Protocol):
    """Every method is its own transaction; `claim` is atomic against concurrent claims."""

    def add(
        self, codes: list[str], available: int, for_account: str, created_by: str, created_at: str
    ) -> None:
        """Store new codes."""
        ...

    def claim(self, code: str, claimant: str, used_at: str) -> bool:
        """Record a use if the code exists, is enabled and has a use left; False otherwise."""
        ...

    def settle(self, code: str, claimant: str, did: str) -> None:
        """Name the account a claim made under a placeholder turned out to be."""
        ...

    def release(self, code: str, claimant: str) -> None:
        """Undo `claim` (the account it was for could not be created)."""
        ...

    def list_recent(self, before: tuple[str, str] | None, limit: int) -> list[InviteCode]:
        """Every code, newest first (by creation time, then code), after the `before` key."""
        ...

    def disable(self, codes: list[str], accounts: list[str]) -> None:
        """Disable these codes and every code made for these accounts."""
        ...

    def list_for_account(self, did: str) -> list[InviteCode]:
        """Codes made for `did`, oldest first, with their uses."""
        ...

    def set_account_disabled(self, did: str, disabled: bool) -> None:
        """Record whether `did` may be given new codes (`disableAccountInvites`)."""
        ...

    def account_disabled(self, did: str) -> bool:
        """Were `did`'s invites disabled (and not enabled again)?"""
        ...
