"""Typed syntax errors, so edges can map each bad identifier to a precise protocol error."""


class InvalidSyntax(ValueError):
    """A string does not match the atproto syntax required for its role."""


class InvalidHandle(InvalidSyntax):
    """Not a syntactically valid handle (hostname)."""


class InvalidDid(InvalidSyntax):
    """Not a syntactically valid DID, in the subset atproto allows."""


class InvalidNsid(InvalidSyntax):
    """Not a syntactically valid Namespaced Identifier."""


class InvalidRecordKey(InvalidSyntax):
    """Not a syntactically valid record key."""


class InvalidAtUri(InvalidSyntax):
    """Not an AT-URI in the restricted form Lexicon `at-uri` allows."""


class InvalidAtIdentifier(InvalidSyntax):
    """Neither a valid handle nor a valid DID."""


class InvalidDatetime(InvalidSyntax):
    """Not a valid Lexicon `datetime` (bad syntax, or not a real instant)."""


class InvalidLanguage(InvalidSyntax):
    """Not a well-formed (or, when parsing, not a valid) BCP 47 language tag."""


class InvalidTid(InvalidSyntax):
    """Not a syntactically valid TID."""


class InvalidCidString(InvalidSyntax):
    """Not a plausible CID in string form."""


class InvalidUri(InvalidSyntax):
    """Not a generic URI as the Lexicon `uri` format allows."""
