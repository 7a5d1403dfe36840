"""createAccount: handle rules, a new DID and signing key, the genesis commit, a session."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from application.invite_codes import InviteCodes
from application.ports.did_registrar import DidRegistrar
from application.ports.identity_resolver import IdentityError, IdentityResolver
from application.ports.key_store import KeyStore
from application.ports.repo_views import RepoViews
from application.repo_host.app import RepoHost
from application.reserved_handles import ReservedHandles
from application.sessions import Session, SessionService
from domain.crypto.keys import Keypair
from domain.identity.did_document import pds_endpoint, signing_key
from domain.syntax import is_valid_handle

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AccountError(ValueError):
    """A createAccount input is refused; `error` is the lexicon's error name."""

    status = 400

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


class AccountService:
    """Creates hosted accounts end to end."""

    def __init__(
        self,
        host: RepoHost,
        sessions: SessionService,
        registrar: DidRegistrar,
        views: RepoViews,
        *,
        handle_domains: tuple[str, ...],
        pds_endpoint: str,
        new_keypair: Callable[[], Keypair],
        resolver: IdentityResolver | None = None,
        keys: KeyStore | None = None,
        invites: InviteCodes | None = None,
        reserved: ReservedHandles | None = None,
    ) -> None:
        self.host, self.sessions, self.registrar, self.views = host, sessions, registrar, views
        self.resolver, self.keys, self.invites = resolver, keys, invites
        self.reserved = reserved
        self.handle_domains = tuple(d if d.startswith(".") else f".{d}" for d in handle_domains)
        self.pds_endpoint = pds_endpoint
        self.new_keypair = new_keypair

    def check_handle(self, handle: str, *, allow_reserved: bool = False) -> str:
        """A normalized handle that is valid, under a served domain, not taken and (unless
        the operator is giving it out, `allow_reserved`) not reserved."""
        handle = handle.lower()
        if not is_valid_handle(handle):
            raise AccountError("InvalidHandle", "Input/handle must be a valid handle")
        if not any(handle.endswith(d) and len(handle) > len(d) for d in self.handle_domains):
            raise AccountError("UnsupportedDomain", "Not a supported handle domain")
        label = handle[: -len(next(d for d in self.handle_domains if handle.endswith(d)))]
        if "." in label or not 3 <= len(label) <= 18:
            raise AccountError("InvalidHandle", "Handle must be 3 to 18 characters, one label")
        if self.views.get_account_by_handle(handle) is not None:
            raise AccountError("HandleNotAvailable", "Handle already taken")
        if not allow_reserved and self._reserved(handle):
            raise AccountError("HandleNotAvailable", "Handle is reserved")
        return handle

    def _reserved(self, handle: str) -> bool:
        return self.reserved is not None and self.reserved.is_reserved(handle)

    def _free(self, handle: str) -> bool:
        return self.views.get_account_by_handle(handle) is None and not self._reserved(handle)

    def handle_suggestions(self, handle: str, limit: int = 5) -> list[str] | None:
        """None if `handle` could be created now; else free handles like it, for sign-up forms.

        A handle that is malformed or outside the served domains raises, as `check_handle`.
        """
        try:
            self.check_handle(handle)
            return None
        except AccountError as exc:
            if exc.error != "HandleNotAvailable":
                raise
        handle = handle.lower()
        domain = next(d for d in self.handle_domains if handle.endswith(d))
        label = handle[: -len(domain)][:14]
        suggestions: list[str] = []
        for n in range(1, 1000):
            candidate = f"{label}{n}{domain}"
            if self._free(candidate):
                suggestions.append(candidate)
                if len(suggestions) == limit:
                    break
        return suggestions

    def reserve_signing_key(self, did: str) -> str:
        """A signing key held for a did:web its owner will point at this server (public)."""
        if not did.startswith("did:web:") or self.views.get_account(did) is not None:
            raise AccountError("InvalidRequest", "keys are reserved only for a new did:web")
        if self.keys is None:
            raise AccountError("InvalidRequest", "this server does not host did:web accounts")
        keypair = self.new_keypair()
        self.keys.put(did, keypair)
        return keypair.did()

    def _adopt_did_web(self, did: str) -> Keypair:
        """The reserved key a user's did:web names, if its document points here.

        As the reference's `assertValidDidDocumentForService`: the `#atproto_pds` service must
        be this server and the `#atproto` key one this server reserved for the DID.
        """
        if self.resolver is None or self.keys is None:
            raise AccountError("UnsupportedDomain", "this server does not host did:web accounts")
        if not did.startswith("did:web:"):
            raise AccountError("UnsupportedDomain", "only did:web can be brought to this server")
        if self.views.get_account(did) is not None:
            raise AccountError("AccountAlreadyExists", f"{did} is already hosted here")
        try:
            doc = self.resolver.resolve_did(did, force_refresh=True)
        except IdentityError as exc:
            raise AccountError("UnresolvableDid", f"could not resolve {did}: {exc}") from exc
        endpoint = pds_endpoint(did, doc)
        if endpoint is None or endpoint.rstrip("/") != self.pds_endpoint.rstrip("/"):
            raise AccountError("IncompatibleDidDoc", "DID document does not point at this PDS")
        key = signing_key(did, doc)
        keypair = self.keys.get(did, key) if key else None
        if keypair is None:
            raise AccountError(
                "IncompatibleDidDoc", "DID document's #atproto key was not reserved here"
            )
        return keypair

    def create_account(
        self,
        handle: str,
        email: str | None,
        password: str | None,
        recovery_key: str | None = None,
        did: str | None = None,
        invite_code: str | None = None,
        *,
        by_operator: bool = False,
    ) -> Session:
        """Register (or adopt) the DID, record the account and genesis commit, log in.

        `by_operator` (the `quire account create` command) needs no invite code and may
        take a reserved handle.
        """
        handle = self.check_handle(handle, allow_reserved=by_operator)
        if email is not None:
            email = email.lower()
            if not _EMAIL.fullmatch(email):
                raise AccountError("InvalidEmail", "This email address is not supported")
        if not password:
            raise AccountError("InvalidPassword", "Password is required")
        invites = None if by_operator else self.invites
        claim = invites.claim(invite_code, handle) if invites is not None else None
        try:
            if did is not None:
                keypair = self._adopt_did_web(did)
            else:
                keypair = self.new_keypair()
                did = self.registrar.register(
                    handle=handle,
                    signing_key=keypair.did(),
                    pds_endpoint=self.pds_endpoint,
                    recovery_key=recovery_key,
                )
            self.host.create_account(did, handle, email, keypair)
        except BaseException:
            if claim is not None:
                claim.release()
            raise
        if claim is not None:
            claim.settle(did)
        self.sessions.set_password(did, password)
        return self.sessions.session_for(did)


def session_json(session: Any, did_doc: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of a session response (createAccount, createSession, refreshSession)."""
    body: dict[str, Any] = {"did": session.did, "handle": session.handle}
    if getattr(session, "access_jwt", None):
        body["accessJwt"] = session.access_jwt
        body["refreshJwt"] = session.refresh_jwt
    if session.email is not None:
        body["email"] = session.email
        body["emailConfirmed"] = bool(getattr(session, "email_confirmed", False))
    body["active"] = session.active
    if session.status is not None:
        body["status"] = session.status
    if did_doc is not None:
        body["didDoc"] = did_doc
    return body
