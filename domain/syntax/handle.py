"""Handle syntax: a DNS hostname with at least two labels and a TLD that starts with a letter.

Reserved TLDs (`.local`, `.onion`, ...) are syntactically valid by design: the spec wants
them to pass Lexicon validation and fail only at registration or resolution, so that check
lives in `has_disallowed_tld`, separate from syntax.
"""

from __future__ import annotations

import re

from domain.syntax.errors import InvalidHandle

MAX_HANDLE_LENGTH = 253

# Labels are 1-63 chars of [A-Za-z0-9-], not starting or ending with '-'; the last label
# (TLD) must start with a letter, which is also what rules out IPv4 addresses.
_HANDLE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)

DISALLOWED_TLDS: frozenset[str] = frozenset(
    {"alt", "arpa", "example", "internal", "invalid", "local", "localhost", "onion"}
)

_ASCII_LOWER = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "abcdefghijklmnopqrstuvwxyz",
)


def is_valid_handle(s: str) -> bool:
    """Whether `s` is handle syntax (any case; normalisation is a separate step)."""
    return len(s) <= MAX_HANDLE_LENGTH and _HANDLE.fullmatch(s) is not None


def ensure_valid_handle(s: str) -> None:
    """Raise `InvalidHandle` unless `s` is handle syntax."""
    if len(s) > MAX_HANDLE_LENGTH:
        raise InvalidHandle(f"handle is too long ({len(s)} > {MAX_HANDLE_LENGTH} chars)")
    if _HANDLE.fullmatch(s) is None:
        raise InvalidHandle(f"invalid handle syntax: {s!r}")


def normalize_handle(s: str) -> str:
    """Lowercase ASCII letters only: handles are case-insensitive and stored lowercase."""
    return s.translate(_ASCII_LOWER)


def has_disallowed_tld(handle: str) -> bool:
    """Whether the handle's TLD is one atproto refuses to register or resolve."""
    return normalize_handle(handle).rpartition(".")[2] in DISALLOWED_TLDS
