"""Typed crypto errors; all are `ValueError`s so callers can treat bad input uniformly."""


class CryptoError(ValueError):
    """Key or signature material is unusable."""


class InvalidSignature(CryptoError):
    """A signature does not verify, or is not a strict 64-byte low-S `r||s`."""


class InvalidKey(CryptoError):
    """Key bytes or their text encoding (multibase, did:key) are malformed or off-curve."""


class UnsupportedKeyType(CryptoError):
    """The key is well-formed but of a type atproto does not use (only k256 and p256)."""
