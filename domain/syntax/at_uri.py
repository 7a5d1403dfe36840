"""AT-URIs in the restricted form Lexicon `at-uri` uses: `at://AUTHORITY[/NSID[/RKEY]]`.

No query, fragment, trailing slash or percent-encoding: none of the allowed characters of a
handle, DID, NSID or record key can introduce one, so checking the parts checks the whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.syntax.at_identifier import is_valid_at_identifier
from domain.syntax.errors import InvalidAtUri
from domain.syntax.nsid import is_valid_nsid
from domain.syntax.record_key import is_valid_record_key

MAX_AT_URI_LENGTH = 8 * 1024

_AT_URI = re.compile(r"at://(?P<authority>[^/]+)(?:/(?P<collection>[^/]+)(?:/(?P<rkey>[^/]+))?)?")


@dataclass(frozen=True, slots=True)
class AtUri:
    """A parsed AT-URI; construction validates, so every instance is a valid `at-uri`."""

    authority: str
    collection: str | None = None
    rkey: str | None = None

    def __post_init__(self) -> None:
        if not is_valid_at_identifier(self.authority):
            raise InvalidAtUri(f"AT-URI authority is not a DID or handle: {self.authority!r}")
        if self.collection is None:
            if self.rkey is not None:
                raise InvalidAtUri("AT-URI with a record key needs a collection")
            return
        if not is_valid_nsid(self.collection):
            raise InvalidAtUri(f"AT-URI collection is not an NSID: {self.collection!r}")
        if self.rkey is not None and not is_valid_record_key(self.rkey):
            raise InvalidAtUri(f"AT-URI record key is invalid: {self.rkey!r}")

    def __str__(self) -> str:
        uri = f"at://{self.authority}"
        if self.collection is not None:
            uri += f"/{self.collection}"
            if self.rkey is not None:
                uri += f"/{self.rkey}"
        return uri


def parse_at_uri(s: str) -> AtUri:
    """Split and validate an AT-URI; raise `InvalidAtUri` if it is not one."""
    if len(s) > MAX_AT_URI_LENGTH:
        raise InvalidAtUri(f"AT-URI is too long ({len(s)} > {MAX_AT_URI_LENGTH} chars)")
    match = _AT_URI.fullmatch(s)
    if match is None:
        raise InvalidAtUri(f"invalid AT-URI syntax: {s!r}")
    return AtUri(match["authority"], match["collection"], match["rkey"])


def is_valid_at_uri(s: str) -> bool:
    """Whether `s` is an AT-URI in the restricted Lexicon form."""
    try:
        parse_at_uri(s)
    except InvalidAtUri:
        return False
    return True


def ensure_valid_at_uri(s: str) -> None:
    """Raise `InvalidAtUri` unless `s` is an AT-URI in the restricted Lexicon form."""
    parse_at_uri(s)
