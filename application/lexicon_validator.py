"""`RecordValidator` over a lexicon catalog: records of known types are checked on write."""

from __future__ import annotations

from typing import Any

from application.ports.record_validator import InvalidRecord
from domain.lexicon.catalog import LexiconCatalog
from domain.lexicon.errors import LexiconError, LexiconNotFound, ValidationError
from domain.lexicon.validate import validate_record, validate_record_key


class LexiconRecordValidator:
    """Validates records whose collection the catalog knows; unknown ones are "unknown"."""

    def __init__(self, catalog: LexiconCatalog) -> None:
        self.catalog = catalog

    def validate(self, collection: str, rkey: str, record: Any, validate: bool | None) -> str:
        """ "valid" or "unknown"; `InvalidRecord` on a mismatch or a required unknown schema."""
        if validate is False:
            return "unknown"
        if collection not in self.catalog:
            if validate:
                raise InvalidRecord(f"Lexicon not found: {collection}")
            return "unknown"
        try:
            validate_record_key(self.catalog, collection, rkey)
            validate_record(self.catalog, collection, record)
        except LexiconNotFound as exc:
            if validate:
                raise InvalidRecord(str(exc)) from exc
            return "unknown"
        except (ValidationError, LexiconError) as exc:
            raise InvalidRecord(str(exc)) from exc
        return "valid"
