"""Password login, JWT sessions and app passwords (`com.atproto.server.*Session`, `*AppPassword`).

Behaviour follows the reference PDS (packages/pds/src/account-manager): a 2-hour HS256 access
JWT and a 90-day refresh JWT whose `jti` must still be on record. Refreshing rotates the
record; the used token stays valid for a 2-hour grace period and, if presented again, yields
the *same* next `jti`, so a client that lost the response to a refresh can retry without
being logged out. The secrets themselves sit behind `CredentialStore` (ADR 0004).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from application.auth_errors import (
    AccountTakedown,
    AuthenticationFailed,
    ExpiredToken,
    InvalidCredentialRequest,
    InvalidToken,
)
from application.ports.account_lookup import AccountInfo, AccountLookup
from application.ports.credentials import (
    AppPasswordInfo,
    CredentialStore,
    PasswordHasher,
    TokenSigner,
)

ACCESS_TYP = "at+jwt"  # RFC 9068, as the reference sets it
REFRESH_TYP = "refresh+jwt"
ACCESS_SCOPE = "com.atproto.access"
APP_PASS_SCOPE = "com.atproto.appPass"
APP_PASS_PRIVILEGED_SCOPE = "com.atproto.appPassPrivileged"
REFRESH_SCOPE = "com.atproto.refresh"
PRIVILEGED_SCOPES = frozenset({ACCESS_SCOPE, APP_PASS_PRIVILEGED_SCOPE})
"""The reference's ACCESS_PRIVILEGED: sessions that may reach the privileged methods (chat)."""
ACCESS_SCOPES = PRIVILEGED_SCOPES | {APP_PASS_SCOPE}
"""The reference's ACCESS_STANDARD: every scope an access token may carry."""

TAKEDOWN_STATUSES = frozenset({"takendown", "suspended"})
GONE_STATUSES = frozenset({"deleted"})
APP_PASSWORD_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, as the reference's
MAX_ROTATION_ATTEMPTS = 5
CREDENTIALS_REVOKED = "The account's credentials were revoked: reset the password first"
_DID = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]+")

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """Lifetimes and limits, in seconds and characters; defaults are the reference PDS's."""

    access_ttl: int = 2 * 3600
    refresh_ttl: int = 90 * 86400
    refresh_grace: int = 2 * 3600
    max_login_password: int = 512
    max_new_password: int = 256


@dataclass(frozen=True, slots=True)
class AuthContext:
    """Who an access token speaks for, and with what scope."""

    did: str
    scope: str

    @property
    def full_access(self) -> bool:
        """A password session (the reference's ACCESS_FULL), not an app-password one."""
        return self.scope == ACCESS_SCOPE

    @property
    def privileged(self) -> bool:
        """A password session or a privileged app-password one (ACCESS_PRIVILEGED)."""
        return self.scope in PRIVILEGED_SCOPES


@dataclass(frozen=True, slots=True)
class RefreshContext:
    """A verified refresh token: its account and record id."""

    did: str
    jti: str


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """The account part of a session response (`getSession`)."""

    did: str
    handle: str
    email: str | None
    active: bool
    status: str | None  # None when active, else "deactivated", ...
    email_confirmed: bool


@dataclass(frozen=True, slots=True)
class Session(SessionInfo):
    """A fresh token pair with the account it is for (`createSession`, `refreshSession`)."""

    access_jwt: str
    refresh_jwt: str


@dataclass(frozen=True, slots=True)
class AppPassword:
    """A new app password: the only time its secret is shown."""

    name: str
    password: str
    created_at: str
    privileged: bool = False


class SessionService:
    """The session and credential use cases; stateless apart from its ports."""

    def __init__(
        self,
        credentials: CredentialStore,
        hasher: PasswordHasher,
        tokens: TokenSigner,
        accounts: AccountLookup,
        clock: Clock,
        *,
        service_did: str,
        policy: SessionPolicy | None = None,
    ) -> None:
        self._credentials = credentials
        self._hasher = hasher
        self._tokens = tokens
        self._accounts = accounts
        self._clock = clock
        self._service_did = service_did
        self._policy = policy or SessionPolicy()
        self._dummy_hash: str | None = None

    # Passwords

    def set_password(self, did: str, password: str) -> None:
        """Set the account password; existing refresh tokens die with the old one."""
        if not password or len(password) > self._policy.max_new_password:
            raise InvalidCredentialRequest(
                f"Password must be 1 to {self._policy.max_new_password} characters"
            )
        self._credentials.set_password_hash(did, self._hasher.hash(password))
        self._credentials.revoke_all(did)

    def create_app_password(self, did: str, name: str, *, privileged: bool = False) -> AppPassword:
        """A new app password `xxxx-xxxx-xxxx-xxxx` under a name unique to the account.

        A privileged one logs in with the `com.atproto.appPassPrivileged` scope, which may
        also reach the privileged methods (direct messages) through service auth and proxying.
        """
        if not name.strip():
            raise InvalidCredentialRequest("App password name must not be empty")
        if self.credentials_revoked(did):  # an access token must not outlive the revocation
            raise InvalidCredentialRequest(CREDENTIALS_REVOKED)
        chars = "".join(secrets.choice(APP_PASSWORD_ALPHABET) for _ in range(16))
        password = "-".join(chars[i : i + 4] for i in range(0, 16, 4))
        created_at = _datetime(self._clock())
        digest = _app_password_digest(did, password)
        if not self._credentials.add_app_password(
            did, name, digest, created_at, privileged=privileged
        ):
            raise InvalidCredentialRequest(f"App password name already in use: {name}")
        return AppPassword(
            name=name, password=password, created_at=created_at, privileged=privileged
        )

    def list_app_passwords(self, did: str) -> list[AppPasswordInfo]:
        """The account's app passwords, newest first, without their secrets."""
        return self._credentials.list_app_passwords(did)

    def revoke_app_password(self, did: str, name: str) -> None:
        """Revoke an app password and the refresh tokens it produced."""
        self._credentials.revoke_app_password(did, name)

    # Sessions

    def create_session(self, identifier: str, password: str) -> Session:
        """Log in with a handle, DID or email and the account password or an app password.

        Every failure to match says the same thing, and an unknown account still costs a
        hash, so neither the message nor the timing tells which accounts exist. Taken-down
        accounts learn their status only with the right password; deactivated ones may log
        in (to reactivate) and get `active: false`.
        """
        if len(password) > self._policy.max_login_password:
            raise AuthenticationFailed("Password too long. Consider resetting your password.")
        account = self._find_account(identifier)
        if account is None:
            self._hasher.verify(self._dummy(), password)
            raise AuthenticationFailed()
        taken_down = account.status in TAKEDOWN_STATUSES
        app_password: AppPasswordInfo | None = None
        if not self._verify_account_password(account.did, password):
            if taken_down:  # the reference refuses app passwords outright here
                raise AuthenticationFailed()
            app_password = self._credentials.find_app_password(
                account.did, _app_password_digest(account.did, password)
            )
            if app_password is None:
                raise AuthenticationFailed()
        if taken_down:
            raise AccountTakedown()
        now = int(self._clock())
        jti = _new_jti()
        name = None if app_password is None else app_password.name
        self._credentials.put_refresh(jti, account.did, now + self._policy.refresh_ttl, name)
        scope = _scope(name, app_password is not None and app_password.privileged)
        return self._session(account, scope, jti, now)

    def session_for(self, did: str) -> Session:
        """A session for an account that has just proved itself otherwise (`createAccount`)."""
        account = self._live_account(did)
        now = int(self._clock())
        jti = _new_jti()
        self._credentials.put_refresh(jti, did, now + self._policy.refresh_ttl, None)
        return self._session(account, ACCESS_SCOPE, jti, now)

    def refresh_session(self, refresh_token: str) -> Session:
        """Rotate a refresh token into a new pair; see the module docstring for the grace rule."""
        ctx = self.verify_refresh(refresh_token)
        account = self._live_account(ctx.did)
        for _ in range(MAX_ROTATION_ATTEMPTS):
            record = self._credentials.get_refresh(ctx.jti)
            if record is None or record.did != ctx.did:
                raise ExpiredToken("Token has been revoked")
            now = int(self._clock())
            self._credentials.delete_expired(record.did, now)
            expires_at = min(now + self._policy.refresh_grace, record.expires_at)
            if expires_at <= now:
                raise ExpiredToken("Token has been revoked")
            next_jti = record.next_jti or _new_jti()
            if self._credentials.mark_used(
                ctx.jti,
                next_jti=next_jti,
                next_expires_at=now + self._policy.refresh_ttl,
                expires_at=expires_at,
                used_at=now,
            ):
                scope = _scope(record.app_password_name, record.app_password_privileged)
                return self._session(account, scope, next_jti, now)
        raise ExpiredToken("Token is being refreshed concurrently; try again")

    def delete_session(self, refresh_token: str) -> None:
        """Log out: forget the refresh token, even an expired one (as the reference allows)."""
        ctx = self.verify_refresh(refresh_token, allow_expired=True)
        self._credentials.revoke_refresh(ctx.jti)

    def get_session(self, did: str) -> SessionInfo:
        """The account part of `getSession` for a DID taken from a verified access token."""
        account = self._live_account(did)
        return _info(account, self.email_confirmed(account.did, account.email))

    def email_confirmed(self, did: str, email: str | None) -> bool:
        """Has `did` confirmed `email` (its current address)?"""
        return email is not None and self._credentials.confirmed_email(did) == email

    def confirm_email(self, did: str, email: str) -> None:
        """Record that `did` receives mail at `email`."""
        self._credentials.confirm_email(did, email, _datetime(self._clock()))

    # Token checks

    def verify_access(self, token: str) -> AuthContext:
        """Check an access JWT (signature, type, audience, expiry, scope); no store lookup."""
        claims = self._tokens.verify(token, ACCESS_TYP)
        did = self._check_claims(claims)
        scope = claims.get("scope")
        if not isinstance(scope, str) or scope not in ACCESS_SCOPES:
            raise InvalidToken("Bad token scope")
        return AuthContext(did=did, scope=scope)

    def verify_refresh(self, token: str, *, allow_expired: bool = False) -> RefreshContext:
        """Check a refresh JWT's form; whether it is still on record is `refresh_session`'s job."""
        claims = self._tokens.verify(token, REFRESH_TYP, allow_expired=allow_expired)
        did = self._check_claims(claims)
        if claims.get("scope") != REFRESH_SCOPE:
            raise InvalidToken("Bad token scope")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise InvalidToken("Unexpected missing refresh token id")
        return RefreshContext(did=did, jti=jti)

    # Helpers

    def _check_claims(self, claims: dict[str, object]) -> str:
        if "lxm" in claims or "cnf" in claims:  # service-auth or proof-of-possession tokens
            raise InvalidToken("Malformed token")
        if claims.get("aud") != self._service_did:
            raise InvalidToken("Token is for another service")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not _DID.fullmatch(sub):
            raise InvalidToken("Malformed token")
        return sub

    def _find_account(self, identifier: str) -> AccountInfo | None:
        ident = identifier.strip().lower()
        if not ident:
            return None
        if "@" in ident:
            account = self._accounts.by_email(ident)
        elif ident.startswith("did:"):
            account = self._accounts.by_did(ident)
        else:
            account = self._accounts.by_handle(ident)
        if account is None or account.status in GONE_STATUSES:
            return None
        return account

    def _live_account(self, did: str) -> AccountInfo:
        account = self._accounts.by_did(did)
        if account is None or account.status in GONE_STATUSES:
            raise InvalidToken(f"Could not find user info for account: {did}")
        if account.status in TAKEDOWN_STATUSES:
            raise AccountTakedown()
        return account

    def verify_account_password(self, did: str, password: str) -> bool:
        """Does `password` match the account password (never an app password)?

        Too long a password is simply wrong, and an unknown account costs a hash too.
        """
        if len(password) > self._policy.max_login_password:
            return False
        return self._verify_account_password(did, password)

    def revoke_sessions(self, did: str) -> None:
        """End every session of `did` (its refresh tokens; access tokens run out)."""
        self._credentials.revoke_all(did)

    def revoke_credentials(self, did: str) -> None:
        """Revoke the password, every app password and every session of `did`.

        Logging in then fails until a password reset sets a new password. Access tokens are
        checked without a store lookup, so those already issued work until they expire (at
        most `access_ttl`), as after a password change; but they can no longer create app
        passwords or change the email address, either of which would outlive them.
        """
        self._credentials.revoke_credentials(did)

    def credentials_revoked(self, did: str) -> bool:
        """Whether `did` has no password, as after `revoke_credentials` until a reset."""
        return self._credentials.get_password_hash(did) is None

    def _verify_account_password(self, did: str, password: str) -> bool:
        stored = self._credentials.get_password_hash(did)
        if stored is None:
            self._hasher.verify(self._dummy(), password)
            return False
        if not self._hasher.verify(stored, password):
            return False
        if self._hasher.needs_rehash(stored):  # parameters were raised since this was hashed
            self._credentials.set_password_hash(did, self._hasher.hash(password))
        return True

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    def _session(self, account: AccountInfo, scope: str, jti: str, now: int) -> Session:
        common = {"aud": self._service_did, "sub": account.did, "iat": now}
        access = self._tokens.issue(
            {"scope": scope, **common, "exp": now + self._policy.access_ttl}, ACCESS_TYP
        )
        refresh = self._tokens.issue(
            {"scope": REFRESH_SCOPE, **common, "jti": jti, "exp": now + self._policy.refresh_ttl},
            REFRESH_TYP,
        )
        info = _info(account, self.email_confirmed(account.did, account.email))
        return Session(
            did=info.did,
            handle=info.handle,
            email=info.email,
            active=info.active,
            status=info.status,
            email_confirmed=info.email_confirmed,
            access_jwt=access,
            refresh_jwt=refresh,
        )


def _info(account: AccountInfo, email_confirmed: bool = False) -> SessionInfo:
    active = account.status == "active"
    return SessionInfo(
        did=account.did,
        handle=account.handle,
        email=account.email,
        active=active,
        status=None if active else account.status,
        email_confirmed=email_confirmed,
    )


def _scope(app_password_name: str | None, privileged: bool) -> str:
    """The access scope of a session, as the reference's `formatScope`."""
    if app_password_name is None:
        return ACCESS_SCOPE
    return APP_PASS_PRIVILEGED_SCOPE if privileged else APP_PASS_SCOPE


def _app_password_digest(did: str, password: str) -> str:
    """A fast digest is enough: app passwords are 80 random bits, not something to guess.

    Salting with the DID (as the reference salts its app-password scrypt) keeps digests of one
    account useless against another, and determinism lets login find the match in one lookup
    instead of running argon2 against each of the account's app passwords.
    """
    return hashlib.sha256(
        f"quire-app-password\0{did}\0{password}".encode("utf-8", "surrogatepass")
    ).hexdigest()


def _new_jti() -> str:
    return secrets.token_urlsafe(32)


def _datetime(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
