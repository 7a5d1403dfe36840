"""Lexicon `language`: BCP 47 (RFC 5646) language tags.

`is_valid_language` is the Lexicon check: the tag must be *well-formed* per the RFC 5646
grammar, walked subtag by subtag. Following the atproto interop vectors it is stricter than
the bare ABNF in one place: the primary subtag must be a lowercase 2-3 letter ISO 639 code
(so `JA` and the reserved 4-letter / registered 5-8 letter forms such as `jaja` fail), while
private-use (`x`/`X`) and grandfathered tags stay accepted and later subtags are
case-insensitive. `parse_language` additionally applies the *validity* rules that need no
registry (RFC 5646 section 2.2.5 and 2.2.6: no repeated variant, no repeated extension
singleton); the spec asks clients to ignore tags that are well-formed but not valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.syntax.errors import InvalidLanguage

# RFC 5646 section 2.2.8: whole tags that predate the current grammar, compared lowercase.
_GRANDFATHERED: frozenset[str] = frozenset(
    tag.lower()
    for tag in (
        "en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon",
        "i-lux", "i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu",
        "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE",
        "art-lojban", "cel-gaulish", "no-bok", "no-nyn", "zh-guoyu", "zh-hakka",
        "zh-min", "zh-min-nan", "zh-xiang",
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LanguageTag:
    """The subtags of a language tag, exactly as written (no case normalisation)."""

    language: str | None = None
    extlangs: tuple[str, ...] = ()
    script: str | None = None
    region: str | None = None
    variants: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    private_use: str | None = None
    grandfathered: str | None = None


def _is_variant(subtag: str) -> bool:
    return 5 <= len(subtag) <= 8 or (len(subtag) == 4 and subtag[0].isdigit())


def _scan(s: str) -> LanguageTag | None:
    """Split a well-formed tag into its subtags, or return None if it is not well-formed."""
    if not s.isascii():
        return None
    parts = s.split("-")
    if not all(1 <= len(part) <= 8 and part.isalnum() for part in parts):
        return None
    first = parts[0]
    if s.lower() in _GRANDFATHERED and first.islower():
        return LanguageTag(grandfathered=s)
    if first in ("x", "X"):
        return LanguageTag(private_use=s) if len(parts) > 1 else None
    if not (2 <= len(first) <= 3 and first.isalpha() and first.islower()):
        return None

    n, i = len(parts), 1
    extlangs: list[str] = []
    while i < n and len(extlangs) < 3 and len(parts[i]) == 3 and parts[i].isalpha():
        extlangs.append(parts[i])
        i += 1
    script = region = None
    if i < n and len(parts[i]) == 4 and parts[i].isalpha():
        script = parts[i]
        i += 1
    if i < n and (
        (len(parts[i]) == 2 and parts[i].isalpha()) or (len(parts[i]) == 3 and parts[i].isdigit())
    ):
        region = parts[i]
        i += 1
    variants: list[str] = []
    while i < n and _is_variant(parts[i]):
        variants.append(parts[i])
        i += 1
    extensions: list[str] = []
    while i < n and len(parts[i]) == 1 and parts[i] not in ("x", "X"):
        start = i
        i += 1
        while i < n and len(parts[i]) >= 2:
            i += 1
        if i == start + 1:
            return None  # a singleton needs at least one 2-8 char subtag
        extensions.append("-".join(parts[start:i]))
    private_use = None
    if i < n and parts[i] in ("x", "X"):
        if i + 1 == n:
            return None
        private_use = "-".join(parts[i:])
        i = n
    if i != n:
        return None
    return LanguageTag(
        first, tuple(extlangs), script, region, tuple(variants), tuple(extensions), private_use
    )


def _has_duplicates(items: list[str]) -> bool:
    return len(set(items)) != len(items)


def is_valid_language(s: str) -> bool:
    """Whether `s` is a well-formed language tag, as Lexicon validation requires."""
    return _scan(s) is not None


def ensure_valid_language(s: str) -> None:
    """Raise `InvalidLanguage` unless `s` is a well-formed language tag."""
    if _scan(s) is None:
        raise InvalidLanguage(f"not a well-formed BCP 47 language tag: {s!r}")


def parse_language(s: str) -> LanguageTag:
    """Parse a well-formed *and* valid tag (no repeated variants or extension singletons)."""
    tag = _scan(s)
    if tag is None:
        raise InvalidLanguage(f"not a well-formed BCP 47 language tag: {s!r}")
    if _has_duplicates([v.lower() for v in tag.variants]):
        raise InvalidLanguage(f"language tag repeats a variant subtag: {s!r}")
    if _has_duplicates([e[0].lower() for e in tag.extensions]):
        raise InvalidLanguage(f"language tag repeats an extension singleton: {s!r}")
    return tag
