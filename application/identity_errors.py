"""The typed refusals of the identity and account-administration use cases.

Each carries the XRPC `error` name and HTTP `status` the reference PDS answers with, which
`adapters/http/error_mapping.py` reads generically; the CLI prints the message.
"""

from __future__ import annotations


class IdentityRequestError(ValueError):
    """A request the server refuses, with the lexicon's error name (default InvalidRequest)."""

    def __init__(self, message: str, error: str = "InvalidRequest", status: int = 400) -> None:
        super().__init__(message)
        self.error = error
        self.status = status
        self.message = message


def account_not_found(did: str) -> IdentityRequestError:
    """No hosted account has this DID (or it was deleted)."""
    return IdentityRequestError(f"Account not found: {did}", "AccountNotFound")


def upstream_failure(message: str) -> IdentityRequestError:
    """The PLC directory could not be reached or answered nonsense (a 502, retryable)."""
    return IdentityRequestError(message, "UpstreamFailure", 502)
