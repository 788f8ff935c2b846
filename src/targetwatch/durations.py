"""Durations for freshness and age checks: :class:`Span` and :func:`parse_duration`.

Re-exported from :mod:`targetwatch.periods`; import them from there.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

import attrs

from .errors import PeriodError

__all__ = ["Span", "parse_duration"]

_UTC = dt.UTC
_UNITS: dict[str, tuple[int, int]] = {}  # unit word -> (months, seconds) per unit
for _words, _value in (
    (("y", "yr", "yrs", "year", "years"), (12, 0)),
    (("mo", "mon", "mons", "month", "months"), (1, 0)),
    (("w", "wk", "wks", "week", "weeks"), (0, 7 * 86400)),
    (("d", "day", "days"), (0, 86400)),
    (("h", "hr", "hrs", "hour", "hours"), (0, 3600)),
    (("min", "mins", "minute", "minutes"), (0, 60)),
    (("s", "sec", "secs", "second", "seconds"), (0, 1)),
):
    for _word in _words:
        _UNITS[_word] = _value

_PART = re.compile(r"(\d+)\s*([a-z]+)[\s,]*(?:and\s+)?")
_ISO = re.compile(
    r"P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<min>\d+)M)?(?:(?P<s>\d+)S)?)?"
)
_EXPECTED = (
    "expected a duration such as '45d', '6w', '36h', '90min', '2mo', '1y', '1mo15d' or 'P1M'"
)


@attrs.frozen
class Span:
    """A duration: whole calendar ``months`` plus exact ``seconds`` (a day is 86,400 s).

    ``str(span)`` is compact (``45d``, ``2mo``, ``36h``, ``1mo15d``) and parses back to an
    equal span with :func:`parse_duration`.
    """

    months: int = 0
    seconds: int = 0

    def before(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` minus this span, keeping its tzinfo: first the months on the calendar,
        clamping the day (Mar 31 - 1mo = Feb 28/29), then the seconds as real elapsed time."""
        total = moment.year * 12 + moment.month - 1 - self.months
        year, month = divmod(total, 12)
        month += 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        shifted = moment.replace(year=year, month=month, day=day)
        if not self.seconds:
            return shifted
        if shifted.tzinfo is None or shifted.utcoffset() is None:
            return shifted - dt.timedelta(seconds=self.seconds)
        # Aware arithmetic in one zone ignores DST changes; step back in UTC instead.
        return (shifted.astimezone(_UTC) - dt.timedelta(seconds=self.seconds)).astimezone(
            shifted.tzinfo
        )

    def __str__(self) -> str:
        years, months = divmod(self.months, 12)
        text = (f"{years}y" if years else "") + (f"{months}mo" if months else "")
        s = self.seconds
        if s or not text:
            for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
                if s % size == 0:
                    text += f"{s // size}{unit}"
                    break
        return text


def parse_duration(raw: str) -> Span:
    """A positive :class:`Span` from text: ``45d``, ``45 days``, ``6w``, ``36h``, ``90min``,
    ``30s``, ``2mo``, ``1y`` (= 12 months), compounds such as ``1mo15d`` or ``1 month 15 days``,
    or ISO 8601 ``P1M``, ``P45D``, ``PT36H``, ``P1Y2M3D``. ``m`` alone is rejected as ambiguous
    (use ``mo`` or ``min``), and so are bare numbers. Raises PeriodError naming what was found."""
    span: Span
    if isinstance(raw, Span):
        span = raw
    elif isinstance(raw, dt.timedelta):
        span = Span(0, int(raw.total_seconds()))
    elif not isinstance(raw, str):
        kind = (
            "a bare number is ambiguous, add a unit" if isinstance(raw, (int, float)) else "found"
        )
        raise PeriodError(f"{_EXPECTED}; {kind}: {raw!r}")
    else:
        span = _parse_text(raw)
    if span.months < 0 or span.seconds < 0 or (span.months == 0 and span.seconds == 0):
        raise PeriodError(f"{_EXPECTED}, greater than zero; found {raw!r}")
    return span


def _parse_text(raw: str) -> Span:
    text = raw.strip()
    iso = _ISO.fullmatch(text.upper())
    if iso is not None and len(text) > 1 and not text.upper().endswith("T"):
        g = {k: int(v) for k, v in iso.groupdict().items() if v is not None}
        seconds = (
            (g.get("w", 0) * 7 + g.get("d", 0)) * 86400
            + g.get("h", 0) * 3600
            + g.get("min", 0) * 60
        )
        return Span(g.get("y", 0) * 12 + g.get("mo", 0), seconds + g.get("s", 0))
    lowered = text.lower()
    months = seconds = pos = 0
    for m in _PART.finditer(lowered):
        if m.start() != pos:
            break
        unit = _UNITS.get(m.group(2))
        if unit is None:
            hint = (
                " ('m' is ambiguous: use 'mo' for months or 'min' for minutes)"
                if m.group(2) == "m"
                else ""
            )
            raise PeriodError(f"{_EXPECTED}; found unknown unit {m.group(2)!r} in {raw!r}{hint}")
        months += int(m.group(1)) * unit[0]
        seconds += int(m.group(1)) * unit[1]
        pos = m.end()
    if pos == 0 or pos != len(lowered):
        hint = "; a bare number is ambiguous, add a unit" if lowered.isdigit() else ""
        raise PeriodError(f"{_EXPECTED}; found {raw!r}{hint}")
    return Span(months, seconds)
