"""Lexicon schemas: parse documents, hold them in a catalog, validate data against them.

Typical use: ``catalog = LexiconCatalog(documents)``, then
``validate_record(catalog, "app.bsky.feed.post", record)`` (raises `ValidationError`) or
``validate_params(catalog, "com.atproto.repo.listRecords", {"limit": "10"})`` (gives
``{"limit": 10, ...}``).
"""

from domain.lexicon.catalog import LexiconCatalog
from domain.lexicon.defs import LexiconDoc
from domain.lexicon.errors import InvalidLexicon, LexiconError, LexiconNotFound, ValidationError
from domain.lexicon.graphemes import grapheme_count
from domain.lexicon.schema import parse_lexicon, parse_lexicon_text
from domain.lexicon.validate import (
    record_key_type,
    validate_input,
    validate_message,
    validate_output,
    validate_params,
    validate_record,
    validate_record_key,
    validate_value,
)

__all__ = [
    "InvalidLexicon",
    "LexiconCatalog",
    "LexiconDoc",
    "LexiconError",
    "LexiconNotFound",
    "ValidationError",
    "grapheme_count",
    "parse_lexicon",
    "parse_lexicon_text",
    "record_key_type",
    "validate_input",
    "validate_message",
    "validate_output",
    "validate_params",
    "validate_record",
    "validate_record_key",
    "validate_value",
]
