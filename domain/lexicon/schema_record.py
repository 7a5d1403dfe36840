"""`com.atproto.lexicon.schema` records: lexicon documents published in a repository.

A published schema is only the NSID's if the record is a lexicon document (the same rules
as the bundled files) whose `id` is that NSID: the record key alone proves nothing, since
an authority's repo could hold a record keyed by one NSID that defines another.
"""

from __future__ import annotations

from typing import Final

from domain.lexicon.defs import LexiconDoc
from domain.lexicon.errors import InvalidLexicon
from domain.lexicon.schema import parse_lexicon

SCHEMA_COLLECTION: Final = "com.atproto.lexicon.schema"


def check_schema_record(nsid: str, value: object) -> LexiconDoc:
    """The lexicon document `value` holds, or `InvalidLexicon` if it is not `nsid`'s."""
    if type(value) is not dict or value.get("$type") != SCHEMA_COLLECTION:
        raise InvalidLexicon(f"not a {SCHEMA_COLLECTION} record")
    doc = parse_lexicon(value)
    if doc.id != nsid:
        raise InvalidLexicon(f"the schema record defines {doc.id}, not {nsid}")
    return doc
