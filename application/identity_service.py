"""Identity use cases of a hosted did:plc account: handle, PLC operations, signing key.

The DID document lives in the PLC directory and the account's facts live in the log, and
the two must agree: consumers check a commit's signature against the `#atproto` key the
document names, and a handle against the document's `alsoKnownAs`. So every change goes to
the directory first and is recorded (`#identity`) only once the directory has accepted it; a
failure in between leaves the log as it was, and repeating the request finishes the job
(a handle already in the document is not re-submitted, and a key is stored before any
document names it).

The checks on operations a user submits follow the reference PDS (`submitPlcOperation.ts`):
the operation must keep this server's rotation key, PDS endpoint, the account's handle and
its signing key, or a signing key this server holds for the account, in which case the repo
switches to it (`RepoHost.rotate_signing_key`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from application.auth_errors import AccountTakedown
from application.handle_policy import HandlePolicy
from application.identity_errors import (
    IdentityRequestError,
    account_not_found,
    upstream_failure,
)
from application.operator_tokens import PLC_OPERATION, OperatorTokens
from application.plc_changes import PlcChanges
from application.ports.key_store import KeyStore
from application.ports.plc_client import (
    PlcClient,
    PlcClientError,
    PlcDidDeactivated,
    PlcDidNotFound,
    PlcOperationRejected,
)
from application.repo_host.account_aggregate import ACTIVE
from application.repo_host.app import RepoHost
from application.views import AccountRow
from domain.crypto.keys import Keypair
from domain.plc.builder import build_update
from domain.plc.errors import PlcError
from domain.plc.operation import (
    ATPROTO_KEY,
    ATPROTO_PDS,
    ATPROTO_PDS_TYPE,
    PlcOperation,
    ensure_http_prefix,
    parse_operation,
)

T = TypeVar("T")
TAKEDOWN_STATUSES = frozenset({"takendown", "suspended"})


class AccountViews(Protocol):
    """The accounts view: read fresh, since another process (`quire account`) may have
    changed an account since this one last loaded it."""

    def get_account(self, did: str) -> AccountRow | None:
        """The account row of `did`."""
        ...


class IdentityService:
    """updateHandle, the PLC operation flow, DID credentials and signing-key rotation."""

    def __init__(
        self,
        host: RepoHost,
        views: AccountViews,
        keys: KeyStore,
        plc: PlcClient,
        handles: HandlePolicy,
        tokens: OperatorTokens,
        *,
        rotation_key: Keypair,
        pds_endpoint: str,
        new_keypair: Callable[[], Keypair],
    ) -> None:
        self.host, self.views, self.keys, self.plc = host, views, keys, plc
        self.handles, self.tokens = handles, tokens
        self.rotation_key = rotation_key
        self.pds_endpoint = ensure_http_prefix(pds_endpoint)
        self.new_keypair = new_keypair

    # -- accounts ---------------------------------------------------------------------------

    def account(self, did: str, *, allow_takendown: bool = False) -> AccountRow:
        """The hosted account of `did`; AccountNotFound, or AccountTakedown unless allowed."""
        account = self.views.get_account(did)
        if account is None or account.status == "deleted":
            raise account_not_found(did)
        if not allow_takendown and account.status in TAKEDOWN_STATUSES:
            raise AccountTakedown()
        return account

    # -- handle -----------------------------------------------------------------------------

    def update_handle(self, did: str, handle: str, *, by_operator: bool = False) -> str:
        """Point the DID document at `handle`, then record it (`#identity`); return it.

        `by_operator` (`admin.updateAccountHandle`) may give out a reserved handle.
        """
        self.account(did)
        handle = self.handles.check_update(did, handle, allow_reserved=by_operator)
        _require_plc(did)
        if self._plc(lambda: self.plc.get_data(did)).handle != handle:
            last = self._plc(lambda: self.plc.get_last_op(did))
            op = self._build(lambda: build_update(last, self.rotation_key, handle=handle))
            self._submit(did, op)
        self.host.change_handle(did, handle)
        return handle

    # -- the PLC operation flow (migration, recovery) ----------------------------------------

    def recommended_credentials(self, did: str) -> dict[str, Any]:
        """What a DID document must say for this server to host `did`."""
        account = self.account(did)
        return {
            "rotationKeys": [self.rotation_key.did()],
            "alsoKnownAs": [f"at://{account.handle}"],
            "verificationMethods": {ATPROTO_KEY: account.signing_key},
            "services": {
                ATPROTO_PDS: {"type": ATPROTO_PDS_TYPE, "endpoint": self.pds_endpoint},
            },
        }

    def request_operation_signature(self, did: str) -> None:
        """Send a confirmation token for `sign_operation` through the operator's channel.

        Taken-down accounts may ask, as in the reference: moving away is their way out.
        """
        account = self.account(did, allow_takendown=True)
        _require_plc(did)
        self.tokens.issue(did, account.handle, PLC_OPERATION)

    def sign_operation(self, did: str, token: str | None, changes: PlcChanges) -> dict[str, Any]:
        """An update op with `changes`, signed by the server's rotation key, not submitted.

        The token is spent only once the operation is built, so a malformed request can be
        corrected and retried with the same token.
        """
        self.account(did, allow_takendown=True)
        _require_plc(did)
        if not token:
            raise IdentityRequestError(
                "A confirmation token (requestPlcOperationSignature) is required to sign "
                "PLC operations"
            )
        record = self.tokens.check(did, PLC_OPERATION, token)
        last = self._plc(lambda: self.plc.get_last_op(did))
        op = self._build(
            lambda: build_update(
                last,
                self.rotation_key,
                rotation_keys=changes.rotation_keys,
                also_known_as=changes.also_known_as,
                verification_methods=changes.verification_methods,
                services=changes.services,
            )
        )
        self.tokens.spend(did, PLC_OPERATION, record)
        return op.to_value()

    def submit_operation(self, did: str, value: object) -> None:
        """Check a signed op keeps this server in charge, submit it, then `#identity`."""
        account = self.account(did)
        _require_plc(did)
        try:
            op = parse_operation(value)
        except PlcError as exc:
            raise IdentityRequestError(f"Invalid operation: {exc}") from exc
        if not isinstance(op, PlcOperation):
            raise IdentityRequestError("Invalid operation: only plc_operation can be submitted")
        new_key = self._check_keeps_this_server(did, account, op)
        if new_key is not None and account.status != ACTIVE:
            raise IdentityRequestError(
                f"Account is {account.status}: activate it before changing its signing key"
            )
        self._submit(did, op)
        if new_key is not None:
            self.host.rotate_signing_key(did, new_key)
        else:
            self.host.change_handle(did, account.handle)

    def _check_keeps_this_server(
        self, did: str, account: AccountRow, op: PlcOperation
    ) -> Keypair | None:
        """Refuse an op that would cut this server off; the new signing key, if any."""
        if self.rotation_key.did() not in op.rotation_keys:
            raise IdentityRequestError("Rotation keys do not include server's rotation key")
        pds = op.services.get(ATPROTO_PDS)
        if pds is None or pds.type != ATPROTO_PDS_TYPE:
            raise IdentityRequestError("Incorrect type on atproto_pds service")
        if pds.endpoint != self.pds_endpoint:
            raise IdentityRequestError("Incorrect endpoint on atproto_pds service")
        if op.also_known_as[:1] != (f"at://{account.handle}",):
            raise IdentityRequestError("Incorrect handle in alsoKnownAs")
        signing_key = op.verification_methods.get(ATPROTO_KEY)
        if signing_key == account.signing_key:
            return None
        held = self.keys.get(did, signing_key) if signing_key else None
        if held is None:
            raise IdentityRequestError("Incorrect signing key")
        return held

    # -- signing keys -----------------------------------------------------------------------

    def reserve_signing_key(self, did: str) -> str:
        """A new signing key held for `did`, unused until a submitted op names it."""
        self.account(did)
        keypair = self.new_keypair()
        self.keys.put(did, keypair)
        return keypair.did()

    def rotate_signing_key(self, did: str) -> str:
        """Operator rotation: new key, PLC update naming it, then the re-signed commit."""
        account = self.account(did, allow_takendown=True)
        _require_plc(did)
        _require_active(account)
        keypair = self.new_keypair()
        self.keys.put(did, keypair)  # held before the directory names it
        self._switch_signing_key(did, keypair)
        return keypair.did()

    def use_reserved_signing_key(self, did: str, signing_key: str) -> None:
        """Switch the repo to a key reserved for `did` (`admin.updateAccountSigningKey`).

        Only a key this server holds will do (`reserveSigningKey`): the repo must be signed
        with it. The current key is a no-op. A did:plc document is updated first; a did:web
        document is its owner's to update, so only the log's key changes here.
        """
        account = self.account(did, allow_takendown=True)
        if account.signing_key == signing_key:
            return
        keypair = self.keys.get(did, signing_key)
        if keypair is None:
            raise IdentityRequestError(
                f"Signing key {signing_key} is not held by this server for {did}: reserve one "
                "with com.atproto.server.reserveSigningKey"
            )
        _require_active(account)
        self._switch_signing_key(did, keypair)

    def _switch_signing_key(self, did: str, keypair: Keypair) -> None:
        """Name the held `keypair` in a did:plc document (unless it already does), then
        record it and re-sign the repo (`#identity`, commit)."""
        plc = did.startswith("did:plc:")
        if plc and self._plc(lambda: self.plc.get_data(did)).signing_key != keypair.did():
            last = self._plc(lambda: self.plc.get_last_op(did))
            op = self._build(
                lambda: build_update(last, self.rotation_key, signing_key=keypair.did())
            )
            self._submit(did, op)
        self.host.rotate_signing_key(did, keypair)

    # -- the DID document as this server needs it --------------------------------------------

    def did_problem(self, did: str) -> str | None:
        """Why the DID document does not let this server host `did`, or None if it does.

        The reference's `assertValidDidDocumentForService`: our rotation key, our endpoint
        and the signing key the log says is current.
        """
        account = self.account(did, allow_takendown=True)
        if not did.startswith("did:plc:"):
            return "Only did:plc identities are supported"
        try:
            data = self.plc.get_data(did)
        except PlcDidNotFound:
            return "DID is not registered with the PLC directory (or is tombstoned)"
        except PlcClientError as exc:
            raise upstream_failure(f"PLC directory unavailable: {exc}") from exc
        if self.rotation_key.did() not in data.rotation_keys:
            return "Server rotation key not included in PLC DID data"
        if data.pds_endpoint != self.pds_endpoint:
            return "DID document atproto_pds service endpoint does not match PDS public url"
        if data.signing_key != account.signing_key:
            return "DID document verification method does not match expected signing key"
        return None

    # -- directory plumbing -----------------------------------------------------------------

    def _plc(self, read: Callable[[], T]) -> T:
        try:
            return read()
        except PlcDidDeactivated as exc:
            raise IdentityRequestError("DID is tombstoned") from exc
        except PlcDidNotFound as exc:
            raise IdentityRequestError("DID is not registered with the PLC directory") from exc
        except PlcClientError as exc:
            raise upstream_failure(f"PLC directory unavailable: {exc}") from exc

    def _submit(self, did: str, op: PlcOperation) -> None:
        try:
            self.plc.submit(did, op)
        except PlcOperationRejected as exc:
            raise IdentityRequestError(f"PLC directory refused the operation: {exc}") from exc
        except PlcClientError as exc:
            raise upstream_failure(f"PLC directory unavailable: {exc}") from exc

    @staticmethod
    def _build(build: Callable[[], PlcOperation]) -> PlcOperation:
        try:
            return build()
        except PlcError as exc:
            raise IdentityRequestError(f"Invalid PLC operation: {exc}") from exc


def _require_active(account: AccountRow) -> None:
    if account.status != ACTIVE:
        raise IdentityRequestError(f"Account is {account.status}: activate it first")


def _require_plc(did: str) -> None:
    if not did.startswith("did:plc:"):
        raise IdentityRequestError("Only did:plc identities can be updated through this server")
