"""TID syntax: 13 base32-sortable chars whose first char keeps the 64-bit top bit clear."""

from __future__ import annotations

import re

from domain.syntax.errors import InvalidTid

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_LENGTH = 13

_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


def is_valid_tid(s: str) -> bool:
    """Whether `s` is TID syntax (case-sensitive; the legacy dashed form is rejected)."""
    return _TID.fullmatch(s) is not None


def ensure_valid_tid(s: str) -> None:
    """Raise `InvalidTid` unless `s` is TID syntax."""
    if len(s) != TID_LENGTH:
        raise InvalidTid(f"TID must be {TID_LENGTH} chars, got {len(s)}")
    if _TID.fullmatch(s) is None:
        raise InvalidTid(f"invalid TID syntax: {s!r}")
