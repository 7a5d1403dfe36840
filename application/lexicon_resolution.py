"""`com.atproto.lexicon.resolveLexicon`: an NSID to its published schema record, verified.

Per the Lexicon spec, the NSID's authority (`app.toy.record` -> `toy.app`) names a DID in the
TXT record `_lexicon.<authority>`, with no walking up or down the DNS tree, and that DID's
repository holds the schema as `com.atproto.lexicon.schema/<nsid>`. The record counts only
with its proof: a `sync.getRecord` CAR whose commit the DID document's signing key signed.
A repository hosted here is read locally (its proof built from the views, no HTTP) and
verified the same way, so the answer does not depend on where it was read (ADR 0016).
Every failure is `LexiconNotFound`, the one error the method defines, as the reference
resolver folds every failure into one error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from application.ports.identity_resolver import IdentityError
from application.ports.lexicon_authority import LexiconAuthorities
from application.ports.record_proofs import RecordProofUnavailable, RemoteRecordProofs
from application.views import AccountRow
from domain.data import atjson, dag_cbor
from domain.data.cid import CID
from domain.identity.did_document import pds_endpoint, signing_key
from domain.lexicon.errors import InvalidLexicon
from domain.lexicon.schema_record import SCHEMA_COLLECTION, check_schema_record
from domain.repo.errors import RecordNotFound, RepoError
from domain.repo.record_proof import InvalidRecordProof, verify_record_proof
from domain.syntax import is_valid_nsid, nsid_authority


class LexiconResolutionError(Exception):
    """The NSID's schema could not be found or did not verify (the lexicon's one error)."""

    status = 400
    error = "LexiconNotFound"


@dataclass(frozen=True, slots=True)
class ResolvedLexicon:
    """The output of `resolveLexicon`: where the schema record is, its CID, the record."""

    uri: str
    cid: CID
    schema: dag_cbor.Value

    def to_json(self) -> dict[str, Any]:
        return {"uri": self.uri, "cid": str(self.cid), "schema": atjson.to_json(self.schema)}


class DidDocuments(Protocol):
    """DID resolution (the caching identity resolver)."""

    def resolve_did(self, did: str, *, force_refresh: bool = False) -> dict[str, Any]: ...


class HostedRepos(Protocol):
    """The accounts and takedowns views, for repositories hosted here."""

    def get_account(self, did: str) -> AccountRow | None: ...

    def get_record_takedown(self, did: str, collection: str, rkey: str) -> str | None: ...


LocalProof = Callable[[str, str, str], bytes]
"""(did, collection, rkey) -> the `sync.getRecord` CAR of a hosted repo."""


class LexiconResolver:
    """DNS authority -> DID -> DID document -> proof of the schema record -> checked schema."""

    def __init__(
        self,
        authorities: LexiconAuthorities,
        dids: DidDocuments,
        hosted: HostedRepos,
        local_proof: LocalProof,
        remote: RemoteRecordProofs,
    ) -> None:
        self.authorities, self.dids, self.hosted = authorities, dids, hosted
        self.local_proof, self.remote = local_proof, remote

    def resolve(self, nsid: str) -> ResolvedLexicon:
        """The verified schema record of `nsid`, or `LexiconResolutionError`."""
        if not is_valid_nsid(nsid):
            raise LexiconResolutionError(f"Invalid NSID: {nsid[:300]}")
        did = self.authorities.lexicon_did(nsid_authority(nsid))
        if did is None:
            raise LexiconResolutionError(f"No _lexicon DNS record names a repository for {nsid}")
        account = self.hosted.get_account(did)
        doc = self._document(did, fresh=account is not None)
        key = signing_key(did, doc)
        if key is None:
            raise LexiconResolutionError(f"The DID document of {did} has no signing key")
        car = self._hosted_proof(account, nsid) if account else self._remote_proof(did, doc, nsid)
        try:
            proven = verify_record_proof(car, did, SCHEMA_COLLECTION, nsid, key)
        except RecordNotFound as exc:
            raise LexiconResolutionError(f"{did} publishes no schema for {nsid}") from exc
        except InvalidRecordProof as exc:
            raise LexiconResolutionError(f"The schema record of {nsid} is unproven: {exc}") from exc
        try:
            check_schema_record(nsid, proven.value)
        except InvalidLexicon as exc:
            raise LexiconResolutionError(f"Invalid lexicon schema record: {exc}") from exc
        uri = f"at://{did}/{SCHEMA_COLLECTION}/{nsid}"
        return ResolvedLexicon(uri, proven.cid, proven.value)

    def _document(self, did: str, *, fresh: bool) -> dict[str, Any]:
        """A hosted DID's document is read fresh: a key rotated here must count at once."""
        try:
            return self.dids.resolve_did(did, force_refresh=fresh)
        except IdentityError as exc:
            raise LexiconResolutionError(f"Could not resolve {did}: {exc}") from exc

    def _hosted_proof(self, account: AccountRow, nsid: str) -> bytes:
        if account.status != "active":
            raise LexiconResolutionError(f"The repository of {account.did} is {account.status}")
        if self.hosted.get_record_takedown(account.did, SCHEMA_COLLECTION, nsid) is not None:
            raise LexiconResolutionError(f"The schema record of {nsid} is taken down")
        try:
            return self.local_proof(account.did, SCHEMA_COLLECTION, nsid)
        except RepoError as exc:
            raise LexiconResolutionError(f"No repository for {account.did}") from exc

    def _remote_proof(self, did: str, doc: dict[str, Any], nsid: str) -> bytes:
        pds = pds_endpoint(did, doc)
        if pds is None:
            raise LexiconResolutionError(f"The DID document of {did} names no PDS")
        try:
            return self.remote.get_record_proof(pds, did, SCHEMA_COLLECTION, nsid)
        except RecordProofUnavailable as exc:
            raise LexiconResolutionError(f"Could not fetch the schema of {nsid}: {exc}") from exc
