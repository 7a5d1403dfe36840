"""Generic URI syntax for the Lexicon `uri` format: an RFC 3986 scheme, ':', then more.

Deliberately as permissive as the reference implementations past the scheme (any visible
ASCII, so percent-encoding is not checked), because a stricter PDS would reject records
the rest of the network accepts. Non-empty content after ':' is required (`http:` is out).
"""

from __future__ import annotations

import re

from domain.syntax.errors import InvalidUri

MAX_URI_LENGTH = 8 * 1024

_URI = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:[!-~]+")


def is_valid_uri(s: str) -> bool:
    """Whether `s` is a URI: scheme, ':', and 1+ visible ASCII chars, at most 8 KiB."""
    return len(s) <= MAX_URI_LENGTH and _URI.fullmatch(s) is not None


def ensure_valid_uri(s: str) -> None:
    """Raise `InvalidUri` unless `s` is a URI acceptable to the Lexicon `uri` format."""
    if len(s) > MAX_URI_LENGTH:
        raise InvalidUri(f"URI is too long ({len(s)} > {MAX_URI_LENGTH} chars)")
    if _URI.fullmatch(s) is None:
        raise InvalidUri(f"invalid URI syntax: {s[:100]!r}")
