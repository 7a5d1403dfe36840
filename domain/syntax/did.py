"""DID syntax, the generic form atproto accepts for any method (method support is separate).

Percent-encoding is allowed but, as the spec permits, not checked for well-formedness; only
a trailing '%' (or ':') is rejected.
"""

from __future__ import annotations

import re

from domain.syntax.errors import InvalidDid

MAX_DID_LENGTH = 2048

_DID = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]")


def is_valid_did(s: str) -> bool:
    """Whether `s` is DID syntax acceptable in atproto (case-sensitive, at most 2048 chars)."""
    return len(s) <= MAX_DID_LENGTH and _DID.fullmatch(s) is not None


def ensure_valid_did(s: str) -> None:
    """Raise `InvalidDid` unless `s` is DID syntax."""
    if len(s) > MAX_DID_LENGTH:
        raise InvalidDid(f"DID is too long ({len(s)} > {MAX_DID_LENGTH} chars)")
    if _DID.fullmatch(s) is None:
        raise InvalidDid(f"invalid DID syntax: {s!r}")


def did_method(did: str) -> str:
    """The method name of a valid DID (`plc` for `did:plc:...`)."""
    ensure_valid_did(did)
    return did.split(":", 2)[1]
