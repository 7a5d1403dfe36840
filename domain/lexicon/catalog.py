"""A set of lexicon documents, with every definition addressable by its canonical ref.

Refs are resolved lazily (at validation time), so a catalog may hold documents whose refs
point outside it — the interop vectors do — and `check_refs` reports the dangling ones
for callers, like the bundled-lexicon loader, that want a closed world.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from domain.lexicon.defs import (
    ArrayDef,
    BodyDef,
    FieldDef,
    LexiconDoc,
    ObjectDef,
    ParamsDef,
    ProcedureDef,
    QueryDef,
    RecordDef,
    RefDef,
    SubscriptionDef,
    TokenDef,
    UnionDef,
    UserDef,
)
from domain.lexicon.errors import InvalidLexicon, LexiconError, LexiconNotFound
from domain.lexicon.schema import parse_lexicon

_D = TypeVar("_D")
_NOT_DATA = (TokenDef, QueryDef, ProcedureDef, SubscriptionDef)


class LexiconCatalog:
    """Lexicon documents by NSID; add-only, so compiled validators never go stale."""

    def __init__(self, docs: Iterable[LexiconDoc | Mapping[str, Any]] = ()) -> None:
        self._docs: dict[str, LexiconDoc] = {}
        self._defs: dict[str, UserDef] = {}
        self.compiled: dict[Any, Any] = {}
        """Validator cache owned by `domain.lexicon.validate`; keyed by what it compiles."""
        for doc in docs:
            self.add(doc)

    def add(self, doc: LexiconDoc | Mapping[str, Any]) -> LexiconDoc:
        """Add a parsed document, or parse a raw one first; an NSID can be added only once."""
        parsed = doc if isinstance(doc, LexiconDoc) else parse_lexicon(dict(doc))
        if parsed.id in self._docs:
            raise LexiconError(f"lexicon {parsed.id} is already in the catalog")
        self._docs[parsed.id] = parsed
        for name, definition in parsed.defs.items():
            self._defs[parsed.ref(name)] = definition
        return parsed

    def __contains__(self, nsid: object) -> bool:
        return nsid in self._docs

    def __iter__(self) -> Iterator[LexiconDoc]:
        return iter(self._docs.values())

    def __len__(self) -> int:
        return len(self._docs)

    def doc(self, nsid: str) -> LexiconDoc:
        """The document `nsid` (raise `LexiconNotFound` if absent)."""
        try:
            return self._docs[nsid]
        except KeyError:
            raise LexiconNotFound(f"lexicon not found: {nsid}") from None

    def get_def(self, ref: str) -> UserDef | None:
        """The definition at canonical `ref` (`nsid#name`), or at `nsid`'s main."""
        return self._defs.get(ref if "#" in ref else f"{ref}#main")

    def resolve(self, ref: str) -> UserDef:
        """Like `get_def`, but raise `LexiconNotFound` if nothing is there."""
        found = self.get_def(ref)
        if found is None:
            raise LexiconNotFound(f"lexicon definition not found: {ref}")
        return found

    def main(self, nsid: str, kind: type[_D]) -> _D:
        """The main definition of `nsid`, which must be a `kind` (e.g. `RecordDef`)."""
        found = self.resolve(f"{nsid}#main")
        if not isinstance(found, kind):
            raise LexiconError(f"{nsid} is not a {kind.__name__.removesuffix('Def').lower()}")
        return found

    def record_key_type(self, nsid: str) -> str:
        """The record key type of record `nsid`: `tid`, `nsid`, `any` or `literal:<key>`."""
        return self.main(nsid, RecordDef).key

    def check_refs(self) -> None:
        """Raise `InvalidLexicon` naming every ref that is dangling or points at the wrong kind.

        A `ref` may not point at a token or an XRPC definition; a union variant must be an
        object or a record (the lexicon spec's rules for where data can be described).
        """
        problems: list[str] = []
        for doc in self._docs.values():
            for name, definition in doc.defs.items():
                for ref, in_union in _refs_of_def(definition):
                    target = self.get_def(ref)
                    where = doc.ref(name)
                    if target is None:
                        problems.append(f"{where}: {ref} is not defined")
                    elif in_union and not isinstance(target, ObjectDef | RecordDef):
                        problems.append(f"{where}: union variant {ref} is not an object or record")
                    elif isinstance(target, _NOT_DATA):
                        problems.append(f"{where}: ref {ref} does not describe data")
        if problems:
            raise InvalidLexicon("; ".join(problems))


def _refs_of_def(definition: UserDef) -> Iterator[tuple[str, bool]]:
    if isinstance(definition, RecordDef):
        yield from _refs_of_field(definition.record)
    elif isinstance(definition, QueryDef | ProcedureDef | SubscriptionDef):
        yield from _refs_of_params(definition.parameters)
        if isinstance(definition, SubscriptionDef):
            yield from _refs_of_field(definition.message.schema)
        else:
            if isinstance(definition, ProcedureDef):
                yield from _refs_of_body(definition.input)
            yield from _refs_of_body(definition.output)
    elif isinstance(definition, ArrayDef | ObjectDef):
        yield from _refs_of_field(definition)


def _refs_of_params(params: ParamsDef | None) -> Iterator[tuple[str, bool]]:
    if params is not None:
        for prop in params.properties.values():
            yield from _refs_of_field(prop)


def _refs_of_body(body: BodyDef | None) -> Iterator[tuple[str, bool]]:
    if body is not None and body.schema is not None:
        yield from _refs_of_field(body.schema)


def _refs_of_field(field: FieldDef) -> Iterator[tuple[str, bool]]:
    if isinstance(field, RefDef):
        yield field.ref, False
    elif isinstance(field, UnionDef):
        for ref in field.refs:
            yield ref, True
    elif isinstance(field, ArrayDef):
        yield from _refs_of_field(field.items)
    elif isinstance(field, ObjectDef):
        for prop in field.properties.values():
            yield from _refs_of_field(prop)
