"""Record key syntax: 1-512 URI-path-safe ASCII chars, never `.` or `..` (path traversal)."""

from __future__ import annotations

import re

from domain.syntax.errors import InvalidRecordKey

MAX_RECORD_KEY_LENGTH = 512

_RECORD_KEY = re.compile(r"[a-zA-Z0-9._:~-]{1,512}")


def is_valid_record_key(s: str) -> bool:
    """Whether `s` is a record key of the general (`any`) syntax."""
    return _RECORD_KEY.fullmatch(s) is not None and s != "." and s != ".."


def ensure_valid_record_key(s: str) -> None:
    """Raise `InvalidRecordKey` unless `s` is record key syntax."""
    if not 1 <= len(s) <= MAX_RECORD_KEY_LENGTH:
        raise InvalidRecordKey(f"record key must be 1-{MAX_RECORD_KEY_LENGTH} chars")
    if s in (".", ".."):
        raise InvalidRecordKey(f"record key can not be {s!r}")
    if _RECORD_KEY.fullmatch(s) is None:
        raise InvalidRecordKey(f"invalid record key syntax: {s!r}")
