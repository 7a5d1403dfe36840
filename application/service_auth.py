"""`com.atproto.server.getServiceAuth`: a short-lived token signed with the account's key.

The rules are the reference PDS's: at most an hour ahead, at most a minute without a method
binding (`lxm`), never for the methods that manage the account itself (a leaked token must not
reset a password or mint app passwords), and only a privileged session (the account password,
or an app password created `privileged`) may bind one to the privileged methods (direct
messages, creating an account elsewhere). Methods are compared case-insensitively, as the
reference's `LxmSet` does.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Final

from domain.crypto.service_jwt import JwtSigner, ServiceClaims, sign_service_jwt

MINUTE: Final = 60
HOUR: Final = 3600

PROTECTED_METHODS: Final = frozenset(
    {
        "com.atproto.admin.sendEmail",
        "com.atproto.identity.requestPlcOperationSignature",
        "com.atproto.identity.signPlcOperation",
        "com.atproto.identity.updateHandle",
        "com.atproto.server.activateAccount",
        "com.atproto.server.confirmEmail",
        "com.atproto.server.createAppPassword",
        "com.atproto.server.deactivateAccount",
        "com.atproto.server.getAccountInviteCodes",
        "com.atproto.server.getSession",
        "com.atproto.server.listAppPasswords",
        "com.atproto.server.requestAccountDelete",
        "com.atproto.server.requestEmailConfirmation",
        "com.atproto.server.requestEmailUpdate",
        "com.atproto.server.revokeAppPassword",
        "com.atproto.server.updateEmail",
    }
)
"""Account management: no service token may be bound to these."""

PRIVILEGED_PREFIXES: Final = ("chat.bsky.",)
PRIVILEGED_METHODS: Final = frozenset({"com.atproto.server.createAccount"})
"""What only a privileged session may bind a token to. The reference lists the chat methods
one by one; the prefix also covers those added since (groups, reactions), never fewer."""

_PROTECTED: Final = frozenset(lxm.lower() for lxm in PROTECTED_METHODS)
_PRIVILEGED: Final = frozenset(lxm.lower() for lxm in PRIVILEGED_METHODS)


def is_protected_method(lxm: str) -> bool:
    """Is `lxm` an account-management method, never bound to a service token?"""
    return lxm.lower() in _PROTECTED


def is_privileged_method(lxm: str) -> bool:
    """Is `lxm` a method only privileged sessions may reach through another service?"""
    lowered = lxm.lower()
    return lowered in _PRIVILEGED or lowered.startswith(PRIVILEGED_PREFIXES)


class ServiceAuthRefused(Exception):
    """A token request the rules refuse; `error` is the XRPC error name."""

    status = 400

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


class ServiceAuth:
    """Issues service tokens for the accounts hosted here."""

    def __init__(
        self,
        keypair_of: Callable[[str], JwtSigner],
        clock: Callable[[], float],
        random_hex: Callable[[int], str] = secrets.token_hex,
    ) -> None:
        self._keypair_of = keypair_of
        self._clock = clock
        self._random_hex = random_hex

    def issue(
        self,
        did: str,
        aud: str,
        *,
        exp: int | None = None,
        lxm: str | None = None,
        privileged: bool = True,
    ) -> str:
        """A token from `did` to `aud`, valid until `exp` (default a minute), for `lxm`.

        `privileged` says whether the session asking may reach the privileged methods (it
        may unless it is a non-privileged app-password session).
        """
        now = int(self._clock())
        # The reference's order: privilege, then expiry, then protected methods.
        if lxm is not None and not privileged and is_privileged_method(lxm):
            raise ServiceAuthRefused(
                "InvalidRequest",
                f"insufficient access to request a service auth token for the following "
                f"method: {lxm}",
            )
        if exp is not None:
            _check_expiry(exp - now, method_bound=lxm is not None)
        if lxm is not None and is_protected_method(lxm):
            raise ServiceAuthRefused(
                "InvalidRequest",
                f"cannot request a service auth token for the following protected method: {lxm}",
            )
        claims = ServiceClaims(
            iss=did,
            aud=aud,
            iat=now,
            exp=now + MINUTE if exp is None else exp,
            jti=self._random_hex(16),
            lxm=lxm,
        )
        return sign_service_jwt(self._keypair_of(did), claims)


def _check_expiry(ahead: int, *, method_bound: bool) -> None:
    if ahead < 0:
        raise ServiceAuthRefused("BadExpiration", "expiration is in past")
    if ahead > HOUR:
        raise ServiceAuthRefused(
            "BadExpiration",
            "cannot request a token with an expiration more than an hour in the future",
        )
    if not method_bound and ahead > MINUTE:
        raise ServiceAuthRefused(
            "BadExpiration",
            "cannot request a method-less token with an expiration more than a minute in the "
            "future",
        )
