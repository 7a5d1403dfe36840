"""Lexicon `datetime`: the intersection of RFC 3339, ISO 8601 and WHATWG HTML datetimes.

Two layers, because the spec separates them: `has_datetime_syntax` checks the grammar only
(uppercase `T`, whole seconds, a required `Z` or `+hh:mm` offset, never `-00:00`), while
`is_valid_datetime` / `parse_datetime` also require a real instant: months and days that
exist, hours < 24, no leap second (JS and Go parsers reject `:60` too), and a UTC time in
years 0000-9999. Lexicon validation should use the strict form. Year 0000 is legal, so
this does not lean on `datetime.datetime` (which starts at year 1) for the calendar.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from domain.syntax.errors import InvalidDatetime

MAX_DATETIME_LENGTH = 64

_DATETIME = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?"
    r"(?:Z|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)

_US_PER_DAY = 86_400_000_000


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if _is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (valid for year 0)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


_MIN_EPOCH_US = _days_from_civil(0, 1, 1) * _US_PER_DAY  # 0000-01-01T00:00:00Z
_MAX_EPOCH_US = _days_from_civil(10000, 1, 1) * _US_PER_DAY - 1  # 9999-12-31T23:59:59.999999Z


@dataclass(frozen=True, slots=True)
class AtprotoDatetime:
    """A parsed datetime; keeps the fraction digits so no precision is silently dropped."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    fraction: str
    offset_minutes: int

    @property
    def epoch_us(self) -> int:
        """Microseconds since the Unix epoch, in UTC (fraction truncated to microseconds)."""
        days = _days_from_civil(self.year, self.month, self.day)
        seconds = days * 86_400 + self.hour * 3600 + self.minute * 60 + self.second
        seconds -= self.offset_minutes * 60
        return seconds * 1_000_000 + int((self.fraction + "000000")[:6])

    def to_utc_datetime(self) -> _dt.datetime:
        """As an aware UTC `datetime`; raises `InvalidDatetime` for instants in year 0000."""
        epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
        try:
            return epoch + _dt.timedelta(microseconds=self.epoch_us)
        except OverflowError as exc:
            raise InvalidDatetime("datetime is before year 0001, beyond Python's range") from exc


def has_datetime_syntax(s: str) -> bool:
    """Whether `s` matches the datetime grammar, without checking it names a real instant."""
    return (
        len(s) <= MAX_DATETIME_LENGTH
        and not s.endswith("-00:00")
        and _DATETIME.fullmatch(s) is not None
    )


def parse_datetime(s: str) -> AtprotoDatetime:
    """Parse a Lexicon datetime, checking grammar and semantics; raise `InvalidDatetime`."""
    if len(s) > MAX_DATETIME_LENGTH:
        raise InvalidDatetime(f"datetime is too long ({len(s)} > {MAX_DATETIME_LENGTH} chars)")
    if s.endswith("-00:00"):
        raise InvalidDatetime('datetime can not use "-00:00" for UTC')
    match = _DATETIME.fullmatch(s)
    if match is None:
        raise InvalidDatetime(f"invalid datetime syntax: {s!r}")
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"])
    if not 1 <= month <= 12:
        raise InvalidDatetime(f"month out of range: {s!r}")
    if not 1 <= day <= _days_in_month(year, month):
        raise InvalidDatetime(f"day out of range: {s!r}")
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidDatetime(f"time of day out of range: {s!r}")
    offset = 0
    if match["sign"] is not None:
        off_hour, off_minute = int(match["off_hour"]), int(match["off_minute"])
        if off_hour > 23 or off_minute > 59:
            raise InvalidDatetime(f"timezone offset out of range: {s!r}")
        offset = (off_hour * 60 + off_minute) * (-1 if match["sign"] == "-" else 1)
    parsed = AtprotoDatetime(
        year, month, day, hour, minute, second, match["fraction"] or "", offset
    )
    if not _MIN_EPOCH_US <= parsed.epoch_us <= _MAX_EPOCH_US:
        raise InvalidDatetime(f"datetime normalizes outside years 0000-9999 UTC: {s!r}")
    return parsed


def is_valid_datetime(s: str) -> bool:
    """Whether `s` is a valid Lexicon datetime (grammar and a real instant)."""
    try:
        parse_datetime(s)
    except InvalidDatetime:
        return False
    return True


def ensure_valid_datetime(s: str) -> None:
    """Raise `InvalidDatetime` unless `s` is a valid Lexicon datetime."""
    parse_datetime(s)
