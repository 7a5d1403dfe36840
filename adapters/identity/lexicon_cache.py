"""Resolved lexicons, kept briefly: a schema changes rarely, a resolution costs DNS and HTTP.

Short lifetimes because the spec asks resolvers not to hold `_lexicon` DNS answers long
(they move authorities between repositories and no event announces it): fresh for a minute,
then served while one background refresh runs, gone after five. Failures are not kept, so
a lexicon published a moment ago resolves on the next try.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Final

from adapters.identity.swr_cache import CachePolicy, SwrCache
from application.lexicon_resolution import LexiconResolver, ResolvedLexicon

LEXICON_CACHE: Final = CachePolicy(stale_after=60, expire_after=300, max_entries=2_000)


class CachedLexicons:
    """`LexiconResolver.resolve` behind a stale-while-revalidate cache; `close()` it."""

    def __init__(self, resolver: LexiconResolver, policy: CachePolicy = LEXICON_CACHE) -> None:
        self.resolver = resolver
        self.refresher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lexicon-swr")
        self.cache: SwrCache[str, ResolvedLexicon] = SwrCache(policy, self.refresher)

    def resolve(self, nsid: str) -> ResolvedLexicon:
        """The verified schema record of `nsid` (`LexiconResolutionError` if none)."""
        return self.cache.get(nsid, lambda: self.resolver.resolve(nsid))

    def close(self) -> None:
        """Stop background refreshes."""
        self.refresher.shutdown(wait=False, cancel_futures=True)
