"""Building signed operations for the accounts quire hosts.

A new account's rotation keys put the user's own recovery key (if they gave one) before the
server's key: lower index means higher authority, so the user can overrule, within 72 hours,
anything the server signs. Every built op is checked against the submission constraints, so a
bad input fails here rather than at the directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.crypto.keys import Keypair
from domain.plc.constraints import check_submission
from domain.plc.did import did_for_genesis
from domain.plc.errors import TombstonedDid
from domain.plc.operation import (
    ATPROTO_KEY,
    ATPROTO_PDS,
    ATPROTO_PDS_TYPE,
    Operation,
    PlcOperation,
    PlcTombstone,
    Service,
    ensure_atproto_prefix,
    ensure_http_prefix,
    normalize,
)
from domain.plc.signing import sign_operation


@dataclass(frozen=True, slots=True)
class Genesis:
    """A signed genesis operation and the DID it defines."""

    did: str
    operation: PlcOperation


def build_genesis(
    *,
    signing_key: str,
    handle: str,
    pds_endpoint: str,
    server_rotation_key: Keypair,
    recovery_key: str | None = None,
) -> Genesis:
    """The genesis op of a new atproto account, signed by the server's rotation key.

    `signing_key` is the did:key of the repository signing key; `recovery_key`, the did:key
    of a key the user holds, ranks first when given.
    """
    rotation_keys = [server_rotation_key.did()]
    if recovery_key is not None:
        rotation_keys.insert(0, recovery_key)
    unsigned = PlcOperation(
        rotation_keys=tuple(rotation_keys),
        verification_methods={ATPROTO_KEY: signing_key},
        also_known_as=(ensure_atproto_prefix(handle),),
        services={ATPROTO_PDS: Service(ATPROTO_PDS_TYPE, ensure_http_prefix(pds_endpoint))},
        prev=None,
    )
    op = sign_operation(unsigned, server_rotation_key)
    check_submission(op)
    return Genesis(did=did_for_genesis(op), operation=op)


def build_update(
    prev: Operation,
    signer: Keypair,
    *,
    signing_key: str | None = None,
    handle: str | None = None,
    pds_endpoint: str | None = None,
    rotation_keys: Sequence[str] | None = None,
    also_known_as: Sequence[str] | None = None,
    verification_methods: Mapping[str, str] | None = None,
    services: Mapping[str, Service] | None = None,
) -> PlcOperation:
    """An update building on `prev` (the standing op), changing only what is given.

    `handle` replaces the first `at://` alias (or is prepended when there is none), and
    `signing_key` / `pds_endpoint` replace the `atproto` key / `atproto_pds` service, as the
    reference `createAtprotoUpdateOp` does. `signer` must hold one of `prev`'s rotation keys.
    """
    if isinstance(prev, PlcTombstone):
        raise TombstonedDid("cannot update a tombstoned DID")
    base = normalize(prev)
    methods = dict(
        base.verification_methods if verification_methods is None else verification_methods
    )
    if signing_key is not None:
        methods[ATPROTO_KEY] = signing_key
    akas = list(base.also_known_as if also_known_as is None else also_known_as)
    if handle is not None:
        akas = _with_handle(akas, ensure_atproto_prefix(handle))
    svcs = dict(base.services if services is None else services)
    if pds_endpoint is not None:
        svcs[ATPROTO_PDS] = Service(ATPROTO_PDS_TYPE, ensure_http_prefix(pds_endpoint))
    unsigned = PlcOperation(
        rotation_keys=tuple(base.rotation_keys if rotation_keys is None else rotation_keys),
        verification_methods=methods,
        also_known_as=tuple(akas),
        services=svcs,
        prev=str(prev.cid()),
    )
    op = sign_operation(unsigned, signer)
    check_submission(op)
    return op


def build_tombstone(prev: Operation, signer: Keypair) -> PlcTombstone:
    """A tombstone deactivating the DID whose standing op is `prev`."""
    if isinstance(prev, PlcTombstone):
        raise TombstonedDid("the DID is already tombstoned")
    op = sign_operation(PlcTombstone(prev=str(prev.cid())), signer)
    check_submission(op)
    return op


def _with_handle(akas: list[str], handle_uri: str) -> list[str]:
    for index, aka in enumerate(akas):
        if aka.startswith("at://"):
            return [*akas[:index], handle_uri, *akas[index + 1 :]]
    return [handle_uri, *akas]
