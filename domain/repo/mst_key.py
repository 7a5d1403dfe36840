"""MST keys: repository paths as bytes, their tree heights and shared prefixes.

Keys stay `bytes` everywhere inside the tree: comparisons, `bisect` and hashing then run in C
without an encode per step. A key's height (its layer in the tree) is the number of leading
zero bits of sha256(key) counted in 2-bit steps, giving the atproto fanout of 4.
"""

from __future__ import annotations

import re
from hashlib import sha256
from typing import Final

from domain.repo.errors import RepoError

MAX_KEY_BYTES: Final = 1024
KEY_PATTERN: Final = re.compile(  # two segments; neither may be `.` or `..`
    rb"(?!\.\.?/)[a-zA-Z0-9_~\-:.]+/(?!\.\.?\Z)[a-zA-Z0-9_~\-:.]+"
)


class InvalidMstKey(RepoError):
    """A key is not `collection/rkey` made of the allowed ASCII characters, <= 1024 bytes."""

    def __init__(self, key: object) -> None:
        super().__init__(f"not a valid MST key: {key!r:.120}")
        self.key = key


def is_valid_key(key: bytes) -> bool:
    """The reference `isValidMstKey`: two non-empty segments of `[a-zA-Z0-9_~-:.]`.

    The repository spec additionally rules out the path segments `.` and `..`.
    """
    return len(key) <= MAX_KEY_BYTES and KEY_PATTERN.fullmatch(key) is not None


def key_bytes(key: object) -> bytes:
    """Validate a key given as text or bytes and return its bytes (raises `InvalidMstKey`)."""
    if type(key) is str:
        if not key.isascii():
            raise InvalidMstKey(key)
        raw = key.encode("ascii")
    elif type(key) is bytes:
        raw = key
    else:
        raise InvalidMstKey(key)
    if not is_valid_key(raw):
        raise InvalidMstKey(key)
    return raw


def key_height(key: bytes) -> int:
    """Leading zero bits of sha256(key) // 2: the key's layer (reference `leadingZerosOnHash`)."""
    digest = int.from_bytes(sha256(key).digest(), "big")
    return (256 - digest.bit_length()) >> 1


def common_prefix_len(left: bytes, right: bytes) -> int:
    """Number of leading bytes `left` and `right` share (XOR of big integers, no Python loop)."""
    size = min(len(left), len(right))
    diff = int.from_bytes(left[:size], "big") ^ int.from_bytes(right[:size], "big")
    return size - ((diff.bit_length() + 7) >> 3)
