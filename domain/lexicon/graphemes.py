"""Count extended grapheme clusters (UAX #29) with `unicodedata` and a few code-point ranges.

`maxGraphemes` limits are what users see as characters, so an emoji family or a flag must
count as one. Without a third-party segmenter this implements the UAX #29 break rules over
classes derived from general categories plus the ranges the categories miss (Hangul jamo,
regional indicators, emoji modifiers, tags, Extended_Pictographic) and the Unicode 15.1 Indic
conjunct rule (GB9c) for the six scripts it covers, as `Intl.Segmenter` in the reference does.
"""

from __future__ import annotations

import unicodedata
from typing import Final

_OTHER: Final = 0
_CR: Final = 1
_LF: Final = 2
_CONTROL: Final = 3
_EXTEND: Final = 4
_ZWJ: Final = 5
_SPACING: Final = 6
_PREPEND: Final = 7
_RI: Final = 8
_L: Final = 9
_V: Final = 10
_T: Final = 11
_LV: Final = 12
_LVT: Final = 13
_PICT: Final = 14
_CONSONANT: Final = 15  # InCB=Consonant: otherwise like Other
_LINKER: Final = 16  # InCB=Linker (virama): otherwise like Extend

_BREAK_AROUND: Final = frozenset((_CONTROL, _CR, _LF))
_NO_BREAK_BEFORE: Final = frozenset((_EXTEND, _ZWJ, _SPACING, _LINKER))
_CONJUNCT_EXTEND: Final = frozenset((_EXTEND, _ZWJ, _LINKER))
_AFTER_L: Final = frozenset((_L, _V, _LV, _LVT))
_PREPEND_POINTS: Final = frozenset(
    (*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD)
)
_SPACING_LO: Final = frozenset((0x0E33, 0x0EB3))  # Thai/Lao SARA AM: Lo, yet SpacingMark
_LINKERS: Final = frozenset((0x094D, 0x09CD, 0x0ACD, 0x0B4D, 0x0C4D, 0x0D4D))
# InCB=Consonant in Devanagari, Bengali, Gujarati, Oriya, Telugu and Malayalam (UCD 15.1).
_CONSONANT_RANGES: Final = (
    (0x0915, 0x0939),
    (0x0958, 0x095F),
    (0x0978, 0x097F),
    (0x0995, 0x09A8),
    (0x09AA, 0x09B0),
    (0x09B2, 0x09B2),
    (0x09B6, 0x09B9),
    (0x09DC, 0x09DD),
    (0x09DF, 0x09DF),
    (0x09F0, 0x09F1),
    (0x0A95, 0x0AA8),
    (0x0AAA, 0x0AB0),
    (0x0AB2, 0x0AB3),
    (0x0AB5, 0x0AB9),
    (0x0AF9, 0x0AF9),
    (0x0B15, 0x0B28),
    (0x0B2A, 0x0B30),
    (0x0B32, 0x0B33),
    (0x0B35, 0x0B39),
    (0x0B5C, 0x0B5D),
    (0x0B5F, 0x0B5F),
    (0x0B71, 0x0B71),
    (0x0C15, 0x0C28),
    (0x0C2A, 0x0C39),
    (0x0C58, 0x0C5A),
    (0x0D15, 0x0D3A),
)

# Extended_Pictographic, coalesced from emoji-data.txt (unassigned code points in these
# blocks are pictographic too, so future emoji segment correctly).
_PICT_RANGES: Final = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x2605),
    (0x2607, 0x2612),
    (0x2614, 0x2685),
    (0x2690, 0x2705),
    (0x2708, 0x2712),
    (0x2714, 0x2714),
    (0x2716, 0x2716),
    (0x271D, 0x271D),
    (0x2721, 0x2721),
    (0x2728, 0x2728),
    (0x2733, 0x2734),
    (0x2744, 0x2744),
    (0x2747, 0x2747),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2763, 0x2767),
    (0x2795, 0x2797),
    (0x27A1, 0x27A1),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F0FF),
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)

_CACHE_LIMIT: Final = 1 << 14
_cache: dict[str, int] = {}


def _in_ranges(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    for low, high in ranges:
        if cp < low:
            return False
        if cp <= high:
            return True
    return False


def _classify(ch: str) -> int:
    cp = ord(ch)
    if cp == 0x0D:
        return _CR
    if cp == 0x0A:
        return _LF
    if cp == 0x200D:
        return _ZWJ
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return _RI
    if 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F or cp == 0x200C:
        return _EXTEND  # emoji modifiers, tag characters, ZWNJ
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return _L
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return _V
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return _T
    if 0xAC00 <= cp <= 0xD7A3:
        return _LV if (cp - 0xAC00) % 28 == 0 else _LVT
    if cp in _PREPEND_POINTS:
        return _PREPEND
    if cp in _SPACING_LO:
        return _SPACING
    if 0x0900 <= cp <= 0x0D7F:
        if cp in _LINKERS:
            return _LINKER
        if _in_ranges(cp, _CONSONANT_RANGES):
            return _CONSONANT
    elif cp >= 0xA9 and _in_ranges(cp, _PICT_RANGES):
        return _PICT
    category = unicodedata.category(ch)
    if category in ("Mn", "Me"):
        return _EXTEND
    if category == "Mc":
        return _SPACING
    if category in ("Cc", "Cf", "Zl", "Zp", "Cs"):
        return _CONTROL
    return _OTHER


def _class_of(ch: str) -> int:
    found = _cache.get(ch)
    if found is None:
        found = _classify(ch)
        if len(_cache) < _CACHE_LIMIT:
            _cache[ch] = found
    return found


def grapheme_count(text: str) -> int:
    """The number of extended grapheme clusters in `text`."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    count = 0
    prev = -1
    pict_run = False  # inside ExtPict Extend*
    zwj_after_pict = False  # previous char is the ZWJ of ExtPict Extend* ZWJ
    ri_odd = False  # an odd number of regional indicators precedes
    conjunct = 0  # 1: after Consonant [Extend Linker]*; 2: and a Linker was among them
    for ch in text:
        cls = _class_of(ch)
        if prev < 0 or (
            _breaks(prev, cls, zwj_after_pict, ri_odd) and not (cls == _CONSONANT and conjunct == 2)
        ):
            count += 1
        zwj_after_pict = cls == _ZWJ and pict_run
        pict_run = cls == _PICT or (pict_run and cls == _EXTEND)
        ri_odd = cls == _RI and not ri_odd
        if cls == _CONSONANT:
            conjunct = 1
        elif cls == _LINKER and conjunct:
            conjunct = 2
        elif cls not in _CONJUNCT_EXTEND:
            conjunct = 0
        prev = cls
    return count


def _breaks(prev: int, cls: int, zwj_after_pict: bool, ri_odd: bool) -> bool:
    """Whether UAX #29 puts a boundary between a `prev`-class and a `cls`-class character."""
    if prev == _CR and cls == _LF:
        return False  # GB3
    if prev in _BREAK_AROUND or cls in _BREAK_AROUND:
        return True  # GB4, GB5
    if prev == _L:
        if cls in _AFTER_L:
            return False  # GB6
    elif prev in (_LV, _V):
        if cls in (_V, _T):
            return False  # GB7
    elif prev in (_LVT, _T) and cls == _T:
        return False  # GB8
    if cls in _NO_BREAK_BEFORE or prev == _PREPEND:
        return False  # GB9, GB9a, GB9b
    if cls == _PICT and zwj_after_pict:
        return False  # GB11
    return not (cls == _RI and ri_odd)  # GB12, GB13; else GB999
