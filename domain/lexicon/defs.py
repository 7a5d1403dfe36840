"""Typed lexicon definitions: the parsed, checked form of a lexicon JSON document.

Every reference is stored fully qualified as `nsid#name` (`main` spelled out), so the
catalog and validators never need to know which document a ref was written in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, TypeAlias

STRING_FORMATS: Final = frozenset(
    (
        "at-identifier",
        "at-uri",
        "cid",
        "datetime",
        "did",
        "handle",
        "language",
        "nsid",
        "record-key",
        "tid",
        "uri",
    )
)

PRIMARY_TYPES: Final = frozenset(("record", "query", "procedure", "subscription", "permission-set"))


@dataclass(frozen=True, slots=True)
class BooleanDef:
    default: bool | None = None
    const: bool | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class IntegerDef:
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[int, ...] | None = None
    default: int | None = None
    const: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class StringDef:
    format: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_graphemes: int | None = None
    max_graphemes: int | None = None
    known_values: tuple[str, ...] | None = None
    enum: tuple[str, ...] | None = None
    default: str | None = None
    const: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class BytesDef:
    min_length: int | None = None
    max_length: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CidLinkDef:
    description: str | None = None


@dataclass(frozen=True, slots=True)
class BlobDef:
    accept: tuple[str, ...] | None = None
    max_size: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class UnknownDef:
    description: str | None = None


@dataclass(frozen=True, slots=True)
class RefDef:
    ref: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class UnionDef:
    refs: tuple[str, ...]
    closed: bool = False
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ArrayDef:
    items: FieldDef
    min_length: int | None = None
    max_length: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectDef:
    properties: Mapping[str, FieldDef]
    required: tuple[str, ...] = ()
    nullable: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class TokenDef:
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ParamsDef:
    properties: Mapping[str, ParamDef]
    required: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class BodyDef:
    encoding: str
    schema: ObjectDef | RefDef | UnionDef | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorDef:
    name: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class RecordDef:
    key: str
    record: ObjectDef
    description: str | None = None


@dataclass(frozen=True, slots=True)
class QueryDef:
    parameters: ParamsDef | None = None
    output: BodyDef | None = None
    errors: tuple[ErrorDef, ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ProcedureDef:
    parameters: ParamsDef | None = None
    input: BodyDef | None = None
    output: BodyDef | None = None
    errors: tuple[ErrorDef, ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class MessageDef:
    schema: UnionDef
    description: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionDef:
    message: MessageDef
    parameters: ParamsDef | None = None
    errors: tuple[ErrorDef, ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class PermissionDef:
    """One permission; its fields depend on `resource` and are kept as given."""

    resource: str
    fields: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PermissionSetDef:
    permissions: tuple[PermissionDef, ...]
    title: str | None = None
    title_lang: Mapping[str, str] | None = None
    detail: str | None = None
    detail_lang: Mapping[str, str] | None = None
    description: str | None = None


PrimitiveDef: TypeAlias = BooleanDef | IntegerDef | StringDef | UnknownDef
ParamDef: TypeAlias = PrimitiveDef | ArrayDef
FieldDef: TypeAlias = (
    PrimitiveDef | BytesDef | CidLinkDef | BlobDef | RefDef | UnionDef | ArrayDef | ObjectDef
)
DataDef: TypeAlias = (
    BooleanDef | IntegerDef | StringDef | BytesDef | CidLinkDef | BlobDef | ArrayDef | ObjectDef
)
"""What a named definition can be besides a primary type or a token."""
PrimaryDef: TypeAlias = RecordDef | QueryDef | ProcedureDef | SubscriptionDef | PermissionSetDef
UserDef: TypeAlias = PrimaryDef | DataDef | TokenDef
"""Anything that can appear under `defs` in a lexicon document."""


@dataclass(frozen=True, slots=True)
class LexiconDoc:
    id: str
    defs: Mapping[str, UserDef]
    revision: int | None = None
    description: str | None = None

    def ref(self, name: str) -> str:
        """The fully qualified reference of the definition `name` in this document."""
        return f"{self.id}#{name}"
