"""Grapheme counting: what users see as one character counts once."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.lexicon import grapheme_count

CASES = [
    ("", 0),
    ("hello", 5),
    ("a\r\nb", 3),  # CR LF is one cluster
    ("\n\r", 2),
    ("e\u0301", 1),  # combining acute
    ("🇩🇪🇫🇷", 2),  # regional indicator pairs
    ("🇩🇪🇫", 2),  # a lone indicator stands alone
    ("🏳️‍🌈", 1),  # flag + VS16 + ZWJ + rainbow
    ("👩‍👩‍👦‍👦", 1),  # ZWJ family
    ("👍🏽", 1),  # emoji modifier
    ("❤️", 1),  # variation selector
    ("1️⃣", 1),  # keycap: digit + VS16 + enclosing keycap
    ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 1),  # tag sequence
    ("a\u200db", 2),  # ZWJ joins only pictographs
    ("한국어", 3),  # precomposed Hangul
    ("\u1100\u1161\u11a8", 1),  # conjoining jamo L V T
    ("नमस्ते", 3),  # Devanagari conjunct (GB9c)
    ("অক্ষর", 3),  # Bengali conjunct
    ("กำ", 1),  # Thai SARA AM is a spacing mark
    ("\u0600\u0661", 1),  # Arabic number sign prepends
    ("a\u0000b", 3),  # controls stand alone
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[repr(t) for t, _ in CASES])
def test_grapheme_count_matches_uax29(text: str, expected: int) -> None:
    assert grapheme_count(text) == expected


@given(st.text())
def test_grapheme_count_is_between_one_per_text_and_one_per_code_point(text: str) -> None:
    count = grapheme_count(text)
    assert (1 if text else 0) <= count <= len(text)


@given(st.text(), st.text())
def test_concatenation_never_adds_a_boundary(left: str, right: str) -> None:
    assert grapheme_count(left + right) <= grapheme_count(left) + grapheme_count(right)
