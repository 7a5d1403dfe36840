"""Confirmation tokens for sensitive identity requests (`requestPlcOperationSignature`).

Tokens follow the reference's shape and lifetime (`xxxxx-xxxxx` in base32, upper case, 15
minutes, one outstanding per account and purpose, single use) but travel through a
`TokenChannel` chosen by the operator rather than email. Only a digest is stored, salted
with the DID and purpose, so a copy of the table is no use for approving anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from application.identity_errors import IdentityRequestError
from application.ports.operator_tokens import OperatorTokenStore, TokenChannel, TokenRecord

PLC_OPERATION = "plc_operation"
TOKEN_TTL = 15 * 60
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


class OperatorTokens:
    """Issues, checks and spends confirmation tokens."""

    def __init__(
        self,
        store: OperatorTokenStore,
        channel: TokenChannel,
        clock: Callable[[], float],
        *,
        ttl: int = TOKEN_TTL,
    ) -> None:
        self.store, self.channel, self.clock, self.ttl = store, channel, clock, ttl

    def issue(self, did: str, handle: str, purpose: str, *, findable: bool = False) -> None:
        """Make a new token (replacing any outstanding one) and deliver it, never return it.

        A `findable` token names its account by itself (`redeem`), for requests that carry
        only the token, as `resetPassword` does; its digest is salted by purpose alone.
        """
        chars = "".join(secrets.choice(_ALPHABET) for _ in range(10)).upper()
        token = f"{chars[:5]}-{chars[5:]}"
        expires_at = int(self.clock()) + self.ttl
        salt = "" if findable else did
        self.store.put(did, purpose, _digest(salt, purpose, token), expires_at)
        self.channel.deliver(did, handle, purpose, token, expires_at)

    def find(self, purpose: str, token: str) -> tuple[str, TokenRecord]:
        """The account a `findable` token belongs to, checked as `check` does."""
        did = self.store.find(purpose, _digest("", purpose, token.strip().upper()))
        if did is None:
            raise IdentityRequestError("Token is invalid", "InvalidToken")
        record = self.store.get(did, purpose)
        if record is None:  # spent in between
            raise IdentityRequestError("Token is invalid", "InvalidToken")
        if record.expires_at <= int(self.clock()):
            raise IdentityRequestError("Token is expired", "ExpiredToken")
        return did, record

    def check(self, did: str, purpose: str, token: str) -> TokenRecord:
        """The record `token` matches: `InvalidToken` if none does, `ExpiredToken` if late."""
        record = self.store.get(did, purpose)
        digest = _digest(did, purpose, token.strip().upper())
        if record is None or not hmac.compare_digest(record.digest, digest):
            raise IdentityRequestError("Token is invalid", "InvalidToken")
        if record.expires_at <= int(self.clock()):
            raise IdentityRequestError("Token is expired", "ExpiredToken")
        return record

    def spend(self, did: str, purpose: str, record: TokenRecord) -> None:
        """Use up a checked token; `InvalidToken` if a concurrent request used it first."""
        if not self.store.take(did, purpose, record.digest):
            raise IdentityRequestError("Token is invalid", "InvalidToken")

    def forget(self, did: str) -> None:
        """Drop every outstanding token of `did`."""
        self.store.delete_all(did)


def _digest(did: str, purpose: str, token: str) -> str:
    return hashlib.sha256(f"quire-operator-token\0{did}\0{purpose}\0{token}".encode()).hexdigest()
