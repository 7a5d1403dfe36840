"""Reference spelling: `#name`, `nsid#name` and `nsid` all become `nsid#name`.

Schemas write references three ways and data writes `$type` two ways (`nsid` for `main`,
`nsid#name` otherwise); one canonical form lets lookups be plain dict hits.
"""

from __future__ import annotations

from domain.syntax import is_valid_nsid


def qualify_ref(ref: str, base_nsid: str) -> str:
    """The canonical `nsid#name` of `ref` as written in document `base_nsid` (ValueError if bad)."""
    nsid, hash_, name = ref.partition("#")
    if hash_ and (not name or "#" in name):
        raise ValueError(f"ref {ref!r} must have exactly one non-empty #fragment")
    if not nsid:
        if not hash_:
            raise ValueError("ref must not be empty")
        nsid = base_nsid
    elif not is_valid_nsid(nsid):
        raise ValueError(f"ref {ref!r} does not start with a valid NSID")
    return f"{nsid}#{name or 'main'}"


def type_names(ref: str) -> tuple[str, ...]:
    """The `$type` spellings that select canonical `ref`: `nsid` (and `nsid#main`) for main.

    The spec says `$type` must not carry `#main`, but the reference implementation matches
    union variants either way, and rejecting data it accepts would break interop.
    """
    if ref.endswith("#main"):
        return (ref[:-5], ref)
    return (ref,)


def display_ref(ref: str) -> str:
    """How a canonical ref is written in `$type` and in messages (`#main` dropped)."""
    return ref[:-5] if ref.endswith("#main") else ref
