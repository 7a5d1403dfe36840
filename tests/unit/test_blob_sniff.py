"""The blob MIME sniffer: magic numbers are certain, text is a guess, declared types in between."""

from __future__ import annotations

import pytest

from domain.blob_sniff import (
    OCTET_STREAM,
    choose_mime,
    normalize_mime,
    sniff_magic,
    sniff_text,
)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20


def ftyp(brand: bytes) -> bytes:
    return b"\x00\x00\x00\x20ftyp" + brand + b"\x00\x00\x00\x00isommp41" + b"\x00" * 16


def ebml(doctype: bytes) -> bytes:
    body = b"\x42\x86\x81\x01" + b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67"


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"),
        (ftyp(b"isom"), "video/mp4"),
        (ftyp(b"mp42"), "video/mp4"),
        (ftyp(b"avif"), "image/avif"),
        (ftyp(b"heic"), "image/heic"),
        (ftyp(b"mif1"), "image/heif"),
        (ftyp(b"qt  "), "video/quicktime"),
        (ftyp(b"3gp4"), "video/3gpp"),
        (ebml(b"webm"), "video/webm"),
        (ebml(b"matroska"), "video/x-matroska"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "application/pdf"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis", "audio/ogg"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
    ],
)
def test_magic_numbers_identify_binary_formats(head: bytes, mime: str) -> None:
    assert sniff_magic(head) == mime


@pytest.mark.parametrize(
    "head",
    [b"", b"\xff\xd8", b"RIFF\x00\x00", b"hello world", b"\x00\x00\x00\x20ftyp\x00\x01\x02\x03"],
)
def test_truncated_or_unknown_heads_prove_nothing(head: bytes) -> None:
    assert sniff_magic(head) is None


def test_an_ebml_file_of_another_doctype_is_not_called_webm() -> None:
    assert sniff_magic(ebml(b"other")) is None


def test_complete_json_objects_and_arrays_are_json() -> None:
    assert sniff_text(b'{"a": [1, 2]}', complete=True) == "application/json"
    assert sniff_text(b"  [1, 2]\n", complete=True) == "application/json"


def test_json_is_not_claimed_from_a_prefix_or_a_bare_scalar() -> None:
    assert sniff_text(b'{"a": [1, 2', complete=False) == "text/plain"
    assert sniff_text(b"{not json", complete=True) == "text/plain"
    assert sniff_text(b"42", complete=True) == "text/plain"


def test_utf8_text_is_plain_text_even_when_cut_mid_character() -> None:
    snowman = "☃".encode()
    assert sniff_text(b"caf\xc3\xa9 au lait", complete=True) == "text/plain"
    assert sniff_text(b"abc" + snowman[:2], complete=False) == "text/plain"
    assert sniff_text(b"abc" + snowman[:2], complete=True) is None


def test_control_bytes_or_invalid_utf8_are_not_text() -> None:
    assert sniff_text(b"abc\x00def", complete=True) is None
    assert sniff_text(b"\xff\xfe\xfd", complete=True) is None
    assert sniff_text(b"", complete=True) is None


def test_proven_magic_beats_the_declared_type_as_in_the_reference() -> None:
    assert choose_mime("image/jpeg", PNG, complete=True) == "image/png"
    assert choose_mime("text/plain", JPEG, complete=False) == "image/jpeg"


def test_a_specific_declared_type_beats_a_text_guess() -> None:
    assert choose_mime("text/markdown", b"# title", complete=True) == "text/markdown"
    assert choose_mime("application/ld+json", b"{}", complete=True) == "application/ld+json"


@pytest.mark.parametrize("declared", [None, "", "*/*", "application/octet-stream", "nonsense"])
def test_a_generic_or_missing_declared_type_gives_way_to_the_guess(declared: str | None) -> None:
    assert choose_mime(declared, b'{"x": 1}', complete=True) == "application/json"
    assert choose_mime(declared, b"plain words", complete=True) == "text/plain"
    assert choose_mime(declared, b"\x00\x01\x02", complete=True) == OCTET_STREAM


def test_declared_types_are_reduced_to_a_lower_case_short_type() -> None:
    assert normalize_mime("Text/Plain; charset=UTF-8") == "text/plain"
    assert normalize_mime(" image/svg+xml ") == "image/svg+xml"


@pytest.mark.parametrize(
    "declared", [None, "", "text", "text/", "/plain", "text/plain\r\nx-evil: 1", "a b/c"]
)
def test_malformed_declared_types_are_unusable(declared: str | None) -> None:
    assert normalize_mime(declared) is None
