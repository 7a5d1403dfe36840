"""NSID syntax: a reversed domain authority followed by a camel-case name segment.

The limits enforced are the ones the interop vectors pin down: at most 317 chars overall,
every segment 1-63 chars. The spec's separate 253-char cap on the authority part is *not*
enforced, because the interop vectors require a 283-char authority to be accepted.
"""

from __future__ import annotations

import re

from domain.syntax.errors import InvalidNsid

MAX_NSID_LENGTH = 253 + 1 + 63

# First segment (the TLD) starts with a letter; middle segments are hostname labels;
# the name is letters and digits only, not starting with a digit.
_NSID = re.compile(
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+"
    r"\.[a-zA-Z][a-zA-Z0-9]{0,62}"
)


def is_valid_nsid(s: str) -> bool:
    """Whether `s` is NSID syntax (case is preserved; NSIDs are never force-lowercased)."""
    return len(s) <= MAX_NSID_LENGTH and _NSID.fullmatch(s) is not None


def ensure_valid_nsid(s: str) -> None:
    """Raise `InvalidNsid` unless `s` is NSID syntax."""
    if len(s) > MAX_NSID_LENGTH:
        raise InvalidNsid(f"NSID is too long ({len(s)} > {MAX_NSID_LENGTH} chars)")
    if _NSID.fullmatch(s) is None:
        raise InvalidNsid(f"invalid NSID syntax: {s!r}")


def nsid_authority(nsid: str) -> str:
    """The domain authority as a hostname: `com.example.fooBar` -> `example.com`.

    This is the name Lexicon resolution looks up (under `_lexicon.`), hence the reversal.
    """
    ensure_valid_nsid(nsid)
    return ".".join(reversed(nsid.split(".")[:-1]))


def nsid_name(nsid: str) -> str:
    """The final, case-sensitive name segment: `com.example.fooBar` -> `fooBar`."""
    ensure_valid_nsid(nsid)
    return nsid.rpartition(".")[2]
