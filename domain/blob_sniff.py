"""MIME types of uploaded blobs, from their first bytes: pure, no I/O.

The reference PDS runs every upload through the `file-type` sniffer and stores the detected
type whenever there is one, falling back to the declared `Content-Type` only when the bytes are
unrecognisable. That keeps the stored type honest: a PNG declared as `image/jpeg` is stored and
later served as `image/png`. Binary magic numbers are therefore *certain* and beat the declared
type; the text/JSON guess is only a guess, used when the client declared nothing useful.
"""

from __future__ import annotations

import json
import re
from typing import Final

SNIFF_BYTES: Final = 4096
"""How much of a blob's head the sniffer needs (the text guess looks at all of it)."""

OCTET_STREAM: Final = "application/octet-stream"
GENERIC_TYPES: Final = frozenset({"*/*", OCTET_STREAM})
"""Declared types that say nothing about the content, so a text guess may replace them."""

_MIME = re.compile(r"[a-z0-9!#$&^_.+-]{1,127}/[a-z0-9!#$&^_.+-]{1,127}")

# (offset, signature, mime): checked in order; the first match wins.
_SIGNATURES: Final[tuple[tuple[int, bytes, str], ...]] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"\x00\x00\x01\x00", "image/x-icon"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"fLaC", "audio/x-flac"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"\x1f\x8b\x08", "application/gzip"),
)

_RIFF_FORMS: Final = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/vnd.avi"}

# ISO base media (`ftyp`) major brands -> MIME, as file-type maps them; anything else is MP4.
_FTYP_BRANDS: Final = {
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"hevc": "image/heic-sequence",
    b"hevx": "image/heic-sequence",
    b"mif1": "image/heif",
    b"msf1": "image/heif-sequence",
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/x-m4a",
    b"M4B ": "audio/mp4",
    b"M4V ": "video/x-m4v",
    b"3g2a": "video/3gpp2",
}

_EBML_MAGIC: Final = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE: Final = b"\x42\x82"
_EBML_DOCTYPES: Final = {b"webm": "video/webm", b"matroska": "video/x-matroska"}

# C0 controls other than tab, LF, FF, CR (and DEL) mark a blob as binary.
_BINARY_BYTES: Final = frozenset(set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D} | {0x7F})


def normalize_mime(declared: str | None) -> str | None:
    """`type/subtype` from a Content-Type value, lower-cased, parameters dropped; None if unusable.

    The reference keeps only the short type too (`text/plain; charset=utf-8` -> `text/plain`).
    Anything that is not a well-formed token pair is refused here, so a stored type can never
    smuggle extra header syntax back out through getBlob.
    """
    if not declared:
        return None
    short = declared.split(";", 1)[0].strip().lower()
    return short if _MIME.fullmatch(short) else None


def sniff_magic(head: bytes) -> str | None:
    """The MIME type a binary signature in `head` proves, or None."""
    for offset, signature, mime in _SIGNATURES:
        if head.startswith(signature, offset):
            return mime
    if head.startswith(b"RIFF") and len(head) >= 12:
        return _RIFF_FORMS.get(head[8:12])
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return _ftyp_mime(head[8:12])
    if head.startswith(_EBML_MAGIC):
        return _ebml_mime(head)
    if head.startswith(b"OggS"):
        return "video/ogg" if b"\x80theora" in head[:64] else "audio/ogg"
    return None


def sniff_text(head: bytes, *, complete: bool) -> str | None:
    """`application/json` or `text/plain` for UTF-8 text without control bytes, else None.

    JSON is claimed only when `complete` (the head is the whole blob) and it parses as an
    object or array: a prefix of a large document cannot be checked, so it stays text.
    """
    if not head or _BINARY_BYTES.intersection(head):
        return None
    text = _decode_utf8_prefix(head, complete=complete)
    if text is None:
        return None
    if complete and text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
        try:
            parsed = json.loads(text.lstrip("\ufeff"))
        except ValueError:
            return "text/plain"
        if isinstance(parsed, dict | list):
            return "application/json"
    return "text/plain"


def choose_mime(declared: str | None, head: bytes, *, complete: bool) -> str:
    """The type to store for an upload: proven magic, else a specific declared type, else a guess.

    This is the reference's order (sniffed type, then the declared encoding), except that a
    declared `*/*` or `application/octet-stream` gives way to the text/JSON guess, since it
    carries no information a client meant to keep.
    """
    magic = sniff_magic(head)
    if magic is not None:
        return magic
    normalized = normalize_mime(declared)
    if normalized is not None and normalized not in GENERIC_TYPES:
        return normalized
    return sniff_text(head, complete=complete) or OCTET_STREAM


def _ftyp_mime(brand: bytes) -> str | None:
    if not all(0x20 <= byte < 0x7F for byte in brand):
        return None  # not a printable four-character brand: not really ISO BMFF
    known = _FTYP_BRANDS.get(brand)
    if known is not None:
        return known
    if brand.startswith(b"3g2"):
        return "video/3gpp2"
    if brand.startswith(b"3g"):
        return "video/3gpp"
    return "video/mp4"


def _ebml_mime(head: bytes) -> str | None:
    """WebM or Matroska from the EBML header's DocType element (ID 0x4282)."""
    pos = head.find(_EBML_DOCTYPE, 4, 64)
    if pos < 0 or pos + 3 > len(head):
        return None
    size_byte = head[pos + 2]
    if not size_byte & 0x80:
        return None  # only the one-byte size form is used for these short strings
    size = size_byte & 0x7F
    doctype = head[pos + 3 : pos + 3 + size].rstrip(b"\x00")
    return _EBML_DOCTYPES.get(doctype)


def _decode_utf8_prefix(head: bytes, *, complete: bool) -> str | None:
    """Decode `head` as UTF-8, forgiving a character cut off at the end of a partial head."""
    cuts = (0,) if complete else (0, 1, 2, 3)
    for cut in cuts:
        try:
            return head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None
