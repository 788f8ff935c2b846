"""Periods as values: the :class:`Period` type, the built-in grains' arithmetic, and the
syntax of period labels and relative specs. The :class:`~targetwatch.periods.Calendar` uses
these; nothing here knows a time zone or a user's terms.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import attrs

from .errors import PeriodError

#: Every grain a single :class:`Period` may have. A span of N consecutive periods has the
#: grain ``"<grain> span"`` (see :mod:`targetwatch.spans`).
GRAINS = ("year", "half", "quarter", "month", "week", "day", "fiscal", "term")
UTC = dt.UTC
ONE_DAY = dt.timedelta(days=1)
MICROSECOND = dt.timedelta(microseconds=1)


@attrs.frozen(eq=True, order=False, cache_hash=True)
class Period:
    """A half-open interval of local calendar days ``[start, end)`` of one grain.

    Periods are immutable and hashable; equal periods have equal fields. They sort by
    ``(start, end, grain)``, so a sorted tuple of periods can be bisected. ``str(p)`` is the
    canonical ``label``, which :meth:`Calendar.parse` turns back into an equal period.

    ``ordinal`` numbers the periods of one grain: consecutive periods differ by exactly 1. A
    span (``2023-04..2023-09``, grain ``"month span"``) has the ordinal of its first period.
    """

    grain: str
    ordinal: int
    start: dt.date
    end: dt.date
    label: str

    def __str__(self) -> str:
        return self.label

    def _key(self) -> tuple[dt.date, dt.date, str]:
        return (self.start, self.end, self.grain)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() >= other._key()

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` lies in the period (``start <= day < end``)."""
        return self.start <= day < self.end

    def contains_period(self, other: Period) -> bool:
        """Whether ``other`` lies entirely within this period (e.g. a month within its half)."""
        return self.start <= other.start and other.end <= self.end

    @property
    def days(self) -> int:
        """The number of days in the period."""
        return (self.end - self.start).days

    @property
    def last_day(self) -> dt.date:
        """The last day inside the period (``end`` minus one day)."""
        return self.end - ONE_DAY


@attrs.frozen
class Term:
    """A user-defined named period, e.g. a school term; ``end`` is exclusive."""

    name: str
    start: dt.date
    end: dt.date


@functools.lru_cache(maxsize=8192)
def builtin_period(grain: str, ordinal: int) -> Period:
    """The period of a calendar-independent grain with that ordinal."""
    try:
        if grain == "year":
            return Period(
                grain, ordinal, dt.date(ordinal, 1, 1), dt.date(ordinal + 1, 1, 1), f"{ordinal:04d}"
            )
        if grain == "month":
            y, m = divmod(ordinal, 12)
            ny, nm = divmod(ordinal + 1, 12)
            return Period(
                grain, ordinal, dt.date(y, m + 1, 1), dt.date(ny, nm + 1, 1), f"{y:04d}-{m + 1:02d}"
            )
        if grain == "quarter":
            y, q = divmod(ordinal, 4)
            ny, nq = divmod(ordinal + 1, 4)
            start, end = dt.date(y, 3 * q + 1, 1), dt.date(ny, 3 * nq + 1, 1)
            return Period(grain, ordinal, start, end, f"{y:04d}-Q{q + 1}")
        if grain == "half":
            y, h = divmod(ordinal, 2)
            ny, nh = divmod(ordinal + 1, 2)
            start, end = dt.date(y, 6 * h + 1, 1), dt.date(ny, 6 * nh + 1, 1)
            return Period(grain, ordinal, start, end, f"{y:04d}-H{h + 1}")
        if grain == "week":
            # date.toordinal() of a Monday is 1 mod 7 (0001-01-01 was a Monday).
            start = dt.date.fromordinal(ordinal * 7 + 1)
            iso = start.isocalendar()
            return Period(
                grain,
                ordinal,
                start,
                start + dt.timedelta(days=7),
                f"{iso.year:04d}-W{iso.week:02d}",
            )
        if grain == "day":
            start = dt.date.fromordinal(ordinal)
            return Period(grain, ordinal, start, start + ONE_DAY, start.isoformat())
    except (ValueError, OverflowError):
        raise PeriodError(
            f"{grain} number {ordinal} is outside the supported years 1..9998"
        ) from None
    raise PeriodError(f"unknown grain {grain!r}; expected one of {', '.join(GRAINS)}")


def builtin_ordinal(grain: str, day: dt.date) -> int:
    if grain == "year":
        return day.year
    if grain == "half":
        return day.year * 2 + (day.month - 1) // 6
    if grain == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    if grain == "month":
        return day.year * 12 + day.month - 1
    if grain == "week":
        return (day.toordinal() - day.weekday()) // 7
    if grain == "day":
        return day.toordinal()
    raise PeriodError(f"unknown grain {grain!r}; expected one of {', '.join(GRAINS)}")


def iso_weeks(year: int) -> int:
    """52 or 53: the number of ISO weeks in ``year`` (Dec 28 is always in the last one)."""
    return dt.date(year, 12, 28).isocalendar().week


def minus_year(day: dt.date) -> dt.date:
    """The same day one year earlier, Feb 29 clamped to Feb 28."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


_YEAR = r"(?P<y>\d{4})"
_SEP = r"[-\s_/.]*"
LABELS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (grain, re.compile(pattern, re.IGNORECASE))
    for grain, pattern in (
        ("year", rf"{_YEAR}"),
        ("half", rf"{_YEAR}{_SEP}H(?P<n>[12])"),
        ("quarter", rf"{_YEAR}{_SEP}Q(?P<n>[1-4])"),
        ("week", rf"{_YEAR}{_SEP}W(?P<n>\d{{1,2}})"),
        ("month", rf"{_YEAR}[-\s/.](?P<n>\d{{1,2}})"),
        ("day", rf"{_YEAR}(?P<sep>[-/.])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}})"),
        ("day", rf"{_YEAR}(?P<m>\d{{2}})(?P<d>\d{{2}})"),
        ("fiscal", rf"FY{_SEP}{_YEAR}"),
    )
)
_SINGULAR = {
    "year": "year", "half": "half", "half year": "half", "half-year": "half", "quarter": "quarter",
    "month": "month", "week": "week", "day": "day", "fiscal": "fiscal", "fiscal year": "fiscal",
    "term": "term",
}  # fmt: skip
_PLURAL = {
    "years": "year", "halves": "half", "half years": "half", "half-years": "half",
    "quarters": "quarter", "months": "month", "weeks": "week", "days": "day",
    "fiscal years": "fiscal", "terms": "term",
}  # fmt: skip
_OFFSETS = {"current": 0, "this": 0, "previous": -1, "last": -1, "next": 1}
_RELATIVE = re.compile(
    r"(?P<word>current|this|previous|last|next)\s+(?P<grain>[a-z][a-z -]*?)", re.IGNORECASE
)
_AGO = re.compile(r"(?P<n>\d+)\s+(?P<grain>[a-z][a-z -]*?)\s+ago", re.IGNORECASE)
_LAST_N = re.compile(r"last\s+(?P<n>\d+)\s+(?P<grain>[a-z][a-z -]*?)", re.IGNORECASE)


def parse_relative(text: str) -> tuple[str, int] | None:
    """(grain, offset) for a relative spec, or None if ``text`` is not one."""
    text = " ".join(text.split()).lower()
    m = _RELATIVE.fullmatch(text)
    if m is not None and m["grain"] in _SINGULAR:
        return _SINGULAR[m["grain"]], _OFFSETS[m["word"]]
    m = _AGO.fullmatch(text)
    if m is not None:
        grain = _SINGULAR.get(m["grain"]) or _PLURAL.get(m["grain"])
        if grain is not None:
            return grain, -int(m["n"])
    return None


def parse_last_n(text: str) -> tuple[str, int] | None:
    """(grain, N) for ``last N <grain>s`` (a span of the N periods before the current one),
    or None if ``text`` is not of that form. N and the grain are not checked here."""
    m = _LAST_N.fullmatch(" ".join(text.split()).lower())
    if m is None:
        return None
    grain = _SINGULAR.get(m["grain"]) or _PLURAL.get(m["grain"])
    return None if grain is None else (grain, int(m["n"]))
