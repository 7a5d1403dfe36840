"""Which handles an existing account may switch to (`com.atproto.identity.updateHandle`).

The rules are the reference PDS's `normalizeAndValidateHandle` for an account that already
has a DID: valid syntax and an allowed TLD; under one of this server's domains, a single
label of 3 to 18 characters; under any other domain, the handle must already resolve (DNS
TXT or HTTPS) to the account's DID. A handle another account holds here is refused; the
account's own current handle is accepted, so an update can be retried or re-announced. A
handle the operator reserved (`application/reserved_handles.py`) is refused unless the
operator is the one giving it out.
"""

from __future__ import annotations

from typing import Protocol

from application.identity_errors import IdentityRequestError
from application.ports.handle_resolver import HandleResolver
from application.reserved_handles import ReservedHandles
from application.views import AccountRow
from domain.syntax.handle import has_disallowed_tld, is_valid_handle, normalize_handle

MIN_LABEL, MAX_LABEL = 3, 18


class HandleOwners(Protocol):
    """Who holds a handle on this server (the accounts view)."""

    def get_account_by_handle(self, handle: str) -> AccountRow | None:
        """The account row with this lower-cased handle."""
        ...


class HandlePolicy:
    """Normalizes and checks a requested handle for one DID."""

    def __init__(
        self,
        owners: HandleOwners,
        resolver: HandleResolver | None,
        handle_domains: tuple[str, ...],
        reserved: ReservedHandles | None = None,
    ) -> None:
        self.owners, self.resolver, self.reserved = owners, resolver, reserved
        self.domains = tuple(d if d.startswith(".") else f".{d}" for d in handle_domains)

    def check_update(self, did: str, handle: str, *, allow_reserved: bool = False) -> str:
        """The normalized handle `did` may take, or an `IdentityRequestError` saying why not.

        `allow_reserved`: the operator is giving the handle out, so a reservation is no bar.
        """
        handle = normalize_handle(handle.strip())
        if not is_valid_handle(handle):
            raise IdentityRequestError("Input/handle must be a valid handle", "InvalidHandle")
        if has_disallowed_tld(handle):
            raise IdentityRequestError("Handle TLD is invalid or disallowed", "InvalidHandle")
        domain = next((d for d in self.domains if handle.endswith(d)), None)
        if domain is not None:
            _check_label(handle[: -len(domain)])
        holder = self.owners.get_account_by_handle(handle)
        if holder is not None and holder.did != did:
            raise IdentityRequestError(f"Handle already taken: {handle}", "HandleNotAvailable")
        if holder is None and not allow_reserved and self._reserved(handle):
            raise IdentityRequestError(f"Handle is reserved: {handle}", "HandleNotAvailable")
        if domain is None and not self._resolves_to(handle, did):
            raise IdentityRequestError("External handle did not resolve to DID")
        return handle

    def _reserved(self, handle: str) -> bool:
        return self.reserved is not None and self.reserved.is_reserved(handle)

    def _resolves_to(self, handle: str, did: str) -> bool:
        if self.resolver is None:
            return False
        return self.resolver.resolve_handle(handle, force_refresh=True) == did


def _check_label(label: str) -> None:
    if "." in label:
        raise IdentityRequestError("Invalid characters in handle", "InvalidHandle")
    if len(label) < MIN_LABEL:
        raise IdentityRequestError("Handle too short", "InvalidHandle")
    if len(label) > MAX_LABEL:
        raise IdentityRequestError("Handle too long", "InvalidHandle")
