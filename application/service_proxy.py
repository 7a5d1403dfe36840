"""Service proxying: XRPC calls this server does not serve, forwarded for the account.

Clients send everything to their PDS. For a method the PDS does not implement, the
`atproto-proxy: <did>#<service>` header names where it should go (the AppView, the chat
service, a labeler); without the header, `app.bsky.*` goes to the configured AppView and
`com.atproto.moderation.createReport` to the configured report service. The PDS
resolves the service's DID document, finds the endpoint, and forwards the call with a
service token of the account's (`iss` the account, `aud` the service, `lxm` the method), so
the service knows who asks without ever seeing the account's session.

Which methods and scopes may be proxied follows `ServiceAuth` (no account-management
methods; the privileged ones, chat, only for privileged sessions: the account password or a
privileged app password). A refusal is the reference's 400 `InvalidToken`, "Bad token method".
"""

from __future__ import annotations

from dataclasses import dataclass

from application.ports.identity_resolver import IdentityError, IdentityResolver
from application.service_auth import ServiceAuth, is_privileged_method, is_protected_method
from domain.identity.did_document import MalformedDidDocument, check_did_document, service_endpoint
from domain.syntax import is_valid_did


class ProxyRefused(Exception):
    """A proxy request that cannot be routed; `error`/`status` as the reference answers."""

    def __init__(self, message: str, error: str = "InvalidRequest", status: int = 400) -> None:
        super().__init__(message)
        self.error, self.status = error, status


@dataclass(frozen=True, slots=True)
class ProxyTarget:
    """Where a call goes: the token audience and the service's origin URL.

    `configured` targets come from the operator's settings (and may be private addresses);
    the others were named by a client and are only reached at public addresses.
    """

    aud: str
    origin: str
    configured: bool


CREATE_REPORT = "com.atproto.moderation.createReport"
"""Goes to the configured report (moderation) service by default, as in the reference."""


@dataclass(frozen=True, slots=True)
class DefaultService:
    """A service the operator configured for a method namespace (`prefix` ends with a dot,
    e.g. `app.bsky.` for the AppView) or for one method (`prefix` is its NSID)."""

    prefix: str
    did: str
    origin: str

    def serves(self, nsid: str) -> bool:
        """Is this the default target of `nsid`?"""
        if self.prefix.endswith("."):
            return nsid.startswith(self.prefix)
        return nsid == self.prefix


class ServiceProxy:
    """Routes unserved methods to services and signs their tokens."""

    def __init__(
        self,
        resolver: IdentityResolver,
        service_auth: ServiceAuth,
        defaults: tuple[DefaultService, ...] = (),
    ) -> None:
        self.resolver, self.service_auth, self.defaults = resolver, service_auth, defaults

    def target(self, nsid: str, header: str | None) -> ProxyTarget | None:
        """The target of a call to `nsid`; None when it has none (the method is unknown).

        Account-management methods are refused before anything else, session or not, as the
        reference does (they are served here; only a differently cased name gets this far).
        """
        if is_protected_method(nsid):
            raise ProxyRefused("Bad token method", "InvalidToken")
        if header:
            return self._named(header.strip())
        for default in self.defaults:
            if default.serves(nsid):
                return ProxyTarget(default.did, default.origin.rstrip("/"), configured=True)
        return None

    def _named(self, header: str) -> ProxyTarget:
        did, sep, fragment = header.partition("#")
        if not sep or not fragment or not is_valid_did(did):
            raise ProxyRefused("no service id specified in atproto-proxy header")
        for default in self.defaults:  # the configured AppView, named explicitly
            if default.did == did:
                return ProxyTarget(header, default.origin.rstrip("/"), configured=True)
        try:
            doc = check_did_document(did, self.resolver.resolve_did(did))
        except (IdentityError, MalformedDidDocument) as exc:
            raise ProxyRefused(f"could not resolve proxy did: {did}") from exc
        endpoint = service_endpoint(did, doc, fragment)
        if endpoint is None:
            raise ProxyRefused("could not resolve proxy did service url")
        return ProxyTarget(header, endpoint.rstrip("/"), configured=False)

    def token(self, did: str, target: ProxyTarget, nsid: str, *, privileged: bool) -> str:
        """A one-minute service token for this one call; `privileged` as `ServiceAuth.issue`."""
        if not privileged and is_privileged_method(nsid):
            raise ProxyRefused("Bad token method", "InvalidToken")
        return self.service_auth.issue(did, target.aud, lxm=nsid, privileged=privileged)
