"""base58btc multibase (`z...`) and the multicodec varint prefixes of atproto public keys.

Written here rather than taken from `multiformats` because did:key parsing sits on the
commit-verification path, and for 35-byte keys the generic library is 10-50x slower.
Encoding is canonical: leading zero bytes map to leading `1`s and back, one to one.
"""

from __future__ import annotations

from typing import Final

from domain.crypto.errors import InvalidKey

ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BASE58BTC_PREFIX: Final = "z"

SECP256K1_PUB: Final = 0xE7
P256_PUB: Final = 0x1200

# Two base58 digits per step halves the Python-level loop in both directions.
_PAIR: Final = 58 * 58
_PAIRS: Final = tuple(a + b for a in ALPHABET for b in ALPHABET)
_PAIR_VALUE: Final = {pair: i for i, pair in enumerate(_PAIRS)}
_DIGIT_VALUE: Final = {c: i for i, c in enumerate(ALPHABET)}


def b58encode(data: bytes) -> str:
    """base58btc (bitcoin alphabet) of `data`, keeping one `1` per leading zero byte."""
    body = data.lstrip(b"\0")
    n = int.from_bytes(body, "big")
    chunks: list[str] = []
    while n:
        n, rem = divmod(n, _PAIR)
        chunks.append(_PAIRS[rem])
    digits = "".join(reversed(chunks)).lstrip("1")
    return "1" * (len(data) - len(body)) + digits


def b58decode(text: str) -> bytes:
    """Inverse of `b58encode`; any character outside the alphabet is an `InvalidKey`."""
    body = text.lstrip("1")
    n = 0
    try:
        if len(body) % 2:
            n = _DIGIT_VALUE[body[0]]
            body = body[1:]
        for i in range(0, len(body), 2):
            n = n * _PAIR + _PAIR_VALUE[body[i : i + 2]]
    except KeyError as exc:
        raise InvalidKey(f"not base58btc: {text[:80]!r}") from exc
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + n.to_bytes((n.bit_length() + 7) // 8, "big")


def multibase_encode(data: bytes) -> str:
    """`z` + base58btc, the only multibase atproto uses for keys."""
    return BASE58BTC_PREFIX + b58encode(data)


def multibase_decode(text: str) -> bytes:
    """Decode a `z`-prefixed multibase string; other bases are rejected, not guessed."""
    if not text.startswith(BASE58BTC_PREFIX):
        raise InvalidKey(f"multibase must be base58btc ('z' prefix): {text[:80]!r}")
    return b58decode(text[1:])


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128, as multicodec prefixes are written."""
    if value < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes) -> tuple[int, int]:
    """(value, bytes used) of the leading varint; rejects non-minimal and overlong forms.

    Non-minimal encodings (a trailing 0x00 continuation) would let two strings name one key.
    """
    value = 0
    for i, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise InvalidKey("multicodec varint is not minimally encoded")
            return value, i + 1
    raise InvalidKey("multicodec varint is truncated or too long")


K256_PREFIX: Final = encode_varint(SECP256K1_PUB)
P256_PREFIX: Final = encode_varint(P256_PUB)
