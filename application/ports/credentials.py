"""Ports for the secrets behind sessions: password hashes, app passwords, refresh tokens, JWTs.

These live outside the event log (ADR 0004): they change, get revoked, and must never be
replicated to auditors. The store is deliberately dumb (rows in, rows out); the policy of
hashing, rotation and expiry lives in `application/sessions.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class PasswordHasher(Protocol):
    """A slow, salted password hash (argon2id in production, something fast in tests)."""

    def hash(self, password: str) -> str:
        """An encoded hash of `password`, salt and parameters included."""
        ...

    def verify(self, hash: str, password: str) -> bool:
        """Whether `password` matches `hash`; False (never an exception) on any mismatch."""
        ...

    def needs_rehash(self, hash: str) -> bool:
        """Whether `hash` was made with weaker parameters than the current ones."""
        ...


@dataclass(frozen=True, slots=True)
class AppPasswordInfo:
    """An app password as listed to its owner: the secret itself is never shown again."""

    name: str
    created_at: str  # RFC 3339, as `com.atproto.server.listAppPasswords` returns it
    privileged: bool = False  # its sessions may reach the privileged methods (chat)


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """A refresh token the server still honours; a JWT whose `jti` has no record is revoked."""

    jti: str
    did: str
    expires_at: int  # epoch seconds; cut down to the grace period once the token is used
    app_password_name: str | None
    next_jti: str | None = None  # set once rotated: a reuse in the grace period gets this one
    app_password_privileged: bool = False  # the app password's flag as it stands now


class CredentialStore(Protocol):
    """Mutable secret tables, keyed by DID; every method is its own transaction."""

    def set_password_hash(self, did: str, hash: str) -> None:
        """Store or replace the account password hash of `did`."""
        ...

    def get_password_hash(self, did: str) -> str | None:
        """The account password hash of `did`, or None if it has none."""
        ...

    def add_app_password(
        self, did: str, name: str, digest: str, created_at: str, *, privileged: bool = False
    ) -> bool:
        """Store an app password's digest; False (and nothing stored) if `name` is taken."""
        ...

    def list_app_passwords(self, did: str) -> list[AppPasswordInfo]:
        """`did`'s app passwords, newest first."""
        ...

    def find_app_password(self, did: str, digest: str) -> AppPasswordInfo | None:
        """`did`'s app password with this digest, or None."""
        ...

    def revoke_app_password(self, did: str, name: str) -> bool:
        """Delete the app password and every refresh token issued through it; False if absent."""
        ...

    def put_refresh(
        self, jti: str, did: str, expires_at: int, app_password_name: str | None
    ) -> None:
        """Record a new refresh token; a no-op if `jti` exists (a re-grant in the grace period)."""
        ...

    def get_refresh(self, jti: str) -> RefreshRecord | None:
        """The record of `jti`, or None if it was never issued or has been revoked.

        Whether its app password is privileged is read from the app password itself, as the
        reference joins it, so the scope of a refreshed session follows the stored flag.
        """
        ...

    def revoke_refresh(self, jti: str) -> bool:
        """Forget `jti`; False if it was not there."""
        ...

    def revoke_all(self, did: str) -> None:
        """Forget every refresh token of `did` (password change, takedown)."""
        ...

    def revoke_credentials(self, did: str) -> None:
        """Forget `did`'s password hash, app passwords and refresh tokens, in one transaction.

        Nothing then logs in as `did` until a new password is set (a password reset).
        """
        ...

    def confirm_email(self, did: str, email: str, confirmed_at: str) -> None:
        """Record that `did` proved it receives mail at `email`."""
        ...

    def confirmed_email(self, did: str) -> str | None:
        """The last address `did` confirmed, or None."""
        ...

    def delete_expired(self, did: str, now: int) -> None:
        """Tidy away `did`'s refresh tokens that expired at or before `now`."""
        ...

    def mark_used(
        self, jti: str, *, next_jti: str, next_expires_at: int, expires_at: int, used_at: int
    ) -> bool:
        """Rotate `jti` to `next_jti` in one transaction.

        Points `jti` at `next_jti`, cuts its expiry to `expires_at` and stamps `used_at`, then
        records `next_jti` (same DID and app password, expiring at `next_expires_at`) unless it
        exists. Returns False, changing nothing, when `jti` is gone or was already rotated to a
        different token: a concurrent refresh won, and the caller should read `jti` again.
        """
        ...


class TokenSigner(Protocol):
    """Signs and checks the server's own session JWTs."""

    def issue(self, claims: Mapping[str, object], typ: str) -> str:
        """A compact JWT with header `typ` carrying `claims`."""
        ...

    def verify(
        self, token: str, expected_typ: str, *, allow_expired: bool = False
    ) -> dict[str, object]:
        """The claims of a well-signed token of type `expected_typ`.

        Raises `ExpiredToken` past `exp` (unless `allow_expired`) and `InvalidToken` for
        anything else wrong with it, never another exception.
        """
        ...
