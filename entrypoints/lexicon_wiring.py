"""Lexicon resolution wiring: DNS and DID resolution from the identity resolver, proofs
from the local exporter or, for other servers, the resolver's guarded HTTP client."""

from __future__ import annotations

from adapters.identity.lexicon_cache import CachedLexicons
from adapters.identity.record_proof_client import HttpRecordProofs
from adapters.identity.resolver import Resolver
from application.lexicon_resolution import HostedRepos, LexiconResolver
from application.repo_export import RepoExporter


def build_lexicons(
    resolver: Resolver, hosted: HostedRepos, exporter: RepoExporter
) -> CachedLexicons:
    """The cached `resolveLexicon` use case."""
    remote = HttpRecordProofs(resolver.http, timeout=resolver.config.timeout)
    return CachedLexicons(
        LexiconResolver(resolver, resolver, hosted, exporter.record_proof, remote)
    )
