"""Reading the atproto parts of a DID document, whatever method resolved it (DID spec).

A resolver hands back untrusted JSON: from a PLC directory, or from any web server for
did:web. So the shape is checked before anything is read, the document must name the DID
that was asked for, and each field is taken the way the spec says: the first syntactically
valid `at://` handle, the first valid `#atproto` key controlled by the DID, the first
`#atproto_pds` service of the right type with an http(s) URL. Ids are accepted both as a
bare fragment (`#atproto`) and fully qualified (`did:...#atproto`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from domain.crypto.did_key import parse_verification_method
from domain.syntax.handle import is_valid_handle, normalize_handle

ATPROTO_KEY_ID: Final = "atproto"
ATPROTO_PDS_ID: Final = "atproto_pds"
ATPROTO_PDS_TYPE: Final = "AtprotoPersonalDataServer"
INVALID_HANDLE: Final = "handle.invalid"

JsonObject = dict[str, Any]


class MalformedDidDocument(ValueError):
    """The document is not a DID document for the DID that was resolved."""


@dataclass(frozen=True, slots=True)
class AtprotoIdentity:
    """The atproto view of a DID document. `handle` is only *claimed*: verify it."""

    did: str
    handle: str | None
    signing_key: str | None
    pds_endpoint: str | None


def check_did_document(did: str, doc: object) -> JsonObject:
    """`doc` as a JSON object if it is a well-shaped DID document whose `id` is `did`."""
    if type(doc) is not dict:
        raise MalformedDidDocument("DID document must be a JSON object")
    if doc.get("id") != did:
        raise MalformedDidDocument(f"DID document is for {str(doc.get('id'))[:80]!r}, not {did}")
    akas = doc.get("alsoKnownAs", [])
    if type(akas) is not list or any(type(a) is not str for a in akas):
        raise MalformedDidDocument("alsoKnownAs must be an array of strings")
    for field in ("verificationMethod", "service"):
        items = doc.get(field, [])
        if type(items) is not list or any(type(i) is not dict for i in items):
            raise MalformedDidDocument(f"{field} must be an array of objects")
    return doc


def atproto_identity(did: str, doc: object) -> AtprotoIdentity:
    """Check `doc` and extract handle, signing key and PDS endpoint (each None if absent)."""
    checked = check_did_document(did, doc)
    return AtprotoIdentity(
        did=did,
        handle=claimed_handle(checked),
        signing_key=signing_key(did, checked),
        pds_endpoint=pds_endpoint(did, checked),
    )


def claimed_handle(doc: JsonObject) -> str | None:
    """The first `at://<handle>` alias with valid handle syntax, lowercased."""
    for aka in doc.get("alsoKnownAs", []):
        if isinstance(aka, str) and aka.startswith("at://"):
            handle = aka[len("at://") :]
            if is_valid_handle(handle):
                return normalize_handle(handle)
    return None


def signing_key(did: str, doc: JsonObject) -> str | None:
    """did:key of the first usable `#atproto` verification method the DID controls."""
    for method in doc.get("verificationMethod", []):
        if not isinstance(method, dict) or not _names(did, method.get("id"), ATPROTO_KEY_ID):
            continue
        controller, kind = method.get("controller"), method.get("type")
        multibase = method.get("publicKeyMultibase")
        if controller != did or not isinstance(kind, str) or not isinstance(multibase, str):
            continue
        try:
            return parse_verification_method(kind, multibase).did()
        except ValueError:  # CryptoError included: an unusable key is skipped
            continue
    return None


def pds_endpoint(did: str, doc: JsonObject) -> str | None:
    """The endpoint of the first `#atproto_pds` service that is a plain http(s) origin URL."""
    for service in doc.get("service", []):
        if not isinstance(service, dict) or not _names(did, service.get("id"), ATPROTO_PDS_ID):
            continue
        endpoint = service.get("serviceEndpoint")
        if service.get("type") == ATPROTO_PDS_TYPE and _is_http_url(endpoint):
            return str(endpoint)
    return None


def service_endpoint(did: str, doc: JsonObject, fragment: str) -> str | None:
    """The endpoint of the service `#<fragment>` if it is a plain http(s) origin URL.

    For service proxying (`atproto-proxy: did:web:api.bsky.app#bsky_appview`), any type.
    """
    for service in doc.get("service", []):
        if not isinstance(service, dict) or not _names(did, service.get("id"), fragment):
            continue
        endpoint = service.get("serviceEndpoint")
        if _is_http_url(endpoint):
            return str(endpoint)
    return None


def _names(did: str, value: object, fragment: str) -> bool:
    return value in (f"#{fragment}", f"{did}#{fragment}")


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
