"""Which repository speaks for an NSID's authority: the `_lexicon.` DNS TXT record."""

from __future__ import annotations

from typing import Protocol


class LexiconAuthorities(Protocol):
    """Authority domain -> DID, by `_lexicon.<authority>` TXT `did=<DID>`."""

    def lexicon_did(self, authority: str) -> str | None:
        """The one DID the authority's TXT records name; None if none, several, or no DNS."""
        ...
