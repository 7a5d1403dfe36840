"""createAccount: handle rules, a new DID and signing key, the genesis commit, a session."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from application.ports.did_registrar import DidRegistrar
from application.ports.repo_views import RepoViews
from application.repo_host.app import RepoHost
from application.sessions import Session, SessionService
from domain.crypto.keys import Keypair
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
    ) -> None:
        self.host, self.sessions, self.registrar, self.views = host, sessions, registrar, views
        self.handle_domains = tuple(d if d.startswith(".") else f".{d}" for d in handle_domains)
        self.pds_endpoint = pds_endpoint
        self.new_keypair = new_keypair

    def check_handle(self, handle: str) -> str:
        """A normalized handle that is valid, under a served domain and not taken."""
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
        return handle

    def create_account(
        self, handle: str, email: str | None, password: str | None, recovery_key: str | None = None
    ) -> Session:
        """Register the DID, record the account and its genesis commit, log the user in."""
        handle = self.check_handle(handle)
        if email is not None:
            email = email.lower()
            if not _EMAIL.fullmatch(email):
                raise AccountError("InvalidEmail", "This email address is not supported")
        if not password:
            raise AccountError("InvalidPassword", "Password is required")
        keypair = self.new_keypair()
        did = self.registrar.register(
            handle=handle,
            signing_key=keypair.did(),
            pds_endpoint=self.pds_endpoint,
            recovery_key=recovery_key,
        )
        self.host.create_account(did, handle, email, keypair)
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
        body["emailConfirmed"] = False
    body["active"] = session.active
    if session.status is not None:
        body["status"] = session.status
    if did_doc is not None:
        body["didDoc"] = did_doc
    return body
