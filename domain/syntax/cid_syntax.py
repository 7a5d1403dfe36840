"""CID string syntax for the Lexicon `cid` format: a shape check only, not a CID decode.

Any multibase-looking token of 8-256 chars is accepted, so records stay valid whatever
base a CID string uses; only legacy CIDv0 (`Qm...`, bare base58 multihash) is refused.
Decoding and codec/hash checks belong to `domain.data.cid`.
"""

from __future__ import annotations

import re

from domain.syntax.errors import InvalidCidString

_CID_STRING = re.compile(r"[a-zA-Z0-9+=]{8,256}")


def is_valid_cid_string(s: str) -> bool:
    """Whether `s` looks like a CIDv1 in some multibase encoding."""
    return _CID_STRING.fullmatch(s) is not None and not s.startswith("Qm")


def ensure_valid_cid_string(s: str) -> None:
    """Raise `InvalidCidString` unless `s` looks like a CIDv1 string."""
    if s.startswith("Qm"):
        raise InvalidCidString("CIDv0 strings are not allowed in atproto")
    if _CID_STRING.fullmatch(s) is None:
        raise InvalidCidString(f"invalid CID string syntax: {s[:100]!r}")
