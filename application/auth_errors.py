"""Authentication failures, each carrying the XRPC error name the reference PDS sends.

`error` and `status` are read by the HTTP edge (`adapters/http/error_mapping.py` maps any
exception with both), so the use cases can raise these without knowing about HTTP. The
statuses are the reference's: token problems are 400 (clients refresh on `ExpiredToken`),
missing or refused credentials are 401.
"""

from __future__ import annotations


class AuthError(Exception):
    """Base of every authentication failure."""

    error = "AuthenticationRequired"
    status = 401

    def __init__(self, message: str = "Authentication Required") -> None:
        super().__init__(message)
        self.message = message


class AuthenticationRequired(AuthError):
    """No usable credentials were presented."""


class AuthenticationFailed(AuthenticationRequired):
    """Wrong identifier or password; one message for both so accounts cannot be enumerated."""

    def __init__(self, message: str = "Invalid identifier or password") -> None:
        super().__init__(message)


class AccountTakedown(AuthError):
    """The credentials are right but the account has been taken down or suspended."""

    error = "AccountTakedown"

    def __init__(self, message: str = "Account has been taken down") -> None:
        super().__init__(message)


class InvalidToken(AuthError):
    """The token is malformed, badly signed, of the wrong kind or for another service."""

    error = "InvalidToken"
    status = 400

    def __init__(self, message: str = "Token could not be verified") -> None:
        super().__init__(message)


class ExpiredToken(AuthError):
    """The token has expired or (for refresh tokens) been revoked."""

    error = "ExpiredToken"
    status = 400

    def __init__(self, message: str = "Token has expired") -> None:
        super().__init__(message)


class InvalidCredentialRequest(Exception):
    """A credential change the server refuses (password too long, app password name taken)."""

    error = "InvalidRequest"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
