"""atproto identifier and Lexicon string-format syntax: pure, exact checks per the specs.

Each concept offers `is_valid_X` (a cheap bool) and `ensure_valid_X` (raises a typed
`InvalidSyntax` subclass), plus the few helpers callers need to pull identifiers apart.
"""

from domain.syntax.at_identifier import (
    ensure_valid_at_identifier,
    is_did_identifier,
    is_valid_at_identifier,
)
from domain.syntax.at_uri import AtUri, ensure_valid_at_uri, is_valid_at_uri, parse_at_uri
from domain.syntax.cid_syntax import ensure_valid_cid_string, is_valid_cid_string
from domain.syntax.datetime_syntax import (
    AtprotoDatetime,
    ensure_valid_datetime,
    has_datetime_syntax,
    is_valid_datetime,
    parse_datetime,
)
from domain.syntax.did import did_method, ensure_valid_did, is_valid_did
from domain.syntax.errors import (
    InvalidAtIdentifier,
    InvalidAtUri,
    InvalidCidString,
    InvalidDatetime,
    InvalidDid,
    InvalidHandle,
    InvalidLanguage,
    InvalidNsid,
    InvalidRecordKey,
    InvalidSyntax,
    InvalidTid,
    InvalidUri,
)
from domain.syntax.handle import (
    DISALLOWED_TLDS,
    ensure_valid_handle,
    has_disallowed_tld,
    is_valid_handle,
    normalize_handle,
)
from domain.syntax.language import (
    LanguageTag,
    ensure_valid_language,
    is_valid_language,
    parse_language,
)
from domain.syntax.nsid import ensure_valid_nsid, is_valid_nsid, nsid_authority, nsid_name
from domain.syntax.record_key import ensure_valid_record_key, is_valid_record_key
from domain.syntax.tid import ensure_valid_tid, is_valid_tid
from domain.syntax.uri import ensure_valid_uri, is_valid_uri

__all__ = [
    "DISALLOWED_TLDS",
    "AtUri",
    "AtprotoDatetime",
    "InvalidAtIdentifier",
    "InvalidAtUri",
    "InvalidCidString",
    "InvalidDatetime",
    "InvalidDid",
    "InvalidHandle",
    "InvalidLanguage",
    "InvalidNsid",
    "InvalidRecordKey",
    "InvalidSyntax",
    "InvalidTid",
    "InvalidUri",
    "LanguageTag",
    "did_method",
    "ensure_valid_at_identifier",
    "ensure_valid_at_uri",
    "ensure_valid_cid_string",
    "ensure_valid_datetime",
    "ensure_valid_did",
    "ensure_valid_handle",
    "ensure_valid_language",
    "ensure_valid_nsid",
    "ensure_valid_record_key",
    "ensure_valid_tid",
    "ensure_valid_uri",
    "has_datetime_syntax",
    "has_disallowed_tld",
    "is_did_identifier",
    "is_valid_at_identifier",
    "is_valid_at_uri",
    "is_valid_cid_string",
    "is_valid_datetime",
    "is_valid_did",
    "is_valid_handle",
    "is_valid_language",
    "is_valid_nsid",
    "is_valid_record_key",
    "is_valid_tid",
    "is_valid_uri",
    "normalize_handle",
    "nsid_authority",
    "nsid_name",
    "parse_at_uri",
    "parse_datetime",
    "parse_language",
]
