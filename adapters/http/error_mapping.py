"""Domain and application errors -> XRPC errors, in one place at the edge."""

from __future__ import annotations

from adapters.http.xrpc_errors import XrpcError
from application.repo_host.app import AccountNotActive, RepoAlreadyExists
from domain.data.errors import DataModelError
from domain.repo.errors import (
    InvalidSwap,
    InvalidWrite,
    RecordAlreadyExists,
    RecordNotFound,
    RepoError,
    RepoNotFound,
)

_STATUS_ERRORS = {
    "deactivated": "RepoDeactivated",
    "takendown": "RepoTakendown",
    "suspended": "RepoSuspended",
    "deleted": "RepoNotFound",
}


def to_xrpc(exc: Exception) -> XrpcError | None:
    """The XRPC error for a known failure, or None for an unexpected one (a 500)."""
    if isinstance(exc, XrpcError):
        return exc
    if isinstance(exc, AccountNotActive):
        return XrpcError(400, _STATUS_ERRORS.get(exc.status, "RepoDeactivated"), str(exc))
    if isinstance(exc, RepoNotFound):
        return XrpcError(404, "RepoNotFound", str(exc))
    if isinstance(exc, RecordNotFound):
        return XrpcError(400, "RecordNotFound", str(exc))
    if isinstance(exc, InvalidSwap):
        return XrpcError(400, "InvalidSwap", str(exc))
    if isinstance(exc, RecordAlreadyExists):
        return XrpcError(409, "RecordAlreadyExists", str(exc))
    if isinstance(exc, RepoAlreadyExists):
        return XrpcError(400, "AccountAlreadyExists", str(exc))
    if isinstance(exc, InvalidWrite | RepoError | DataModelError):
        return XrpcError(400, "InvalidRequest", str(exc))
    name = getattr(exc, "error", None)
    status = getattr(exc, "status", None)
    if isinstance(name, str) and isinstance(status, int):
        return XrpcError(status, name, str(exc))
    return None
