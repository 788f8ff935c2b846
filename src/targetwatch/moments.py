"""Moments in a calendar's time zone: local wall time, the moments a period starts and ends,
the share of a period elapsed, and moments read from text."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from fractions import Fraction

from .errors import PeriodError
from .grains import MICROSECOND, UTC, Period


class ZonedMoments:
    """The moment arithmetic of a :class:`~targetwatch.periods.Calendar`, in its zone
    ``tzinfo``."""

    tzinfo: zoneinfo.ZoneInfo


    def localize(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` in the calendar's zone: aware moments are converted, naive ones are taken
        to be local wall time in the calendar's zone (not UTC); an ambiguous wall time (DST
        fold) is the first occurrence, a skipped one (DST gap) is moved forward by the gap."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            # Round-trip through UTC so a wall time in a DST gap becomes a real one.
            return moment.replace(tzinfo=self.tzinfo).astimezone(UTC).astimezone(self.tzinfo)
        return moment.astimezone(self.tzinfo)

    def start_moment(self, period: Period) -> dt.datetime:
        """Local midnight at the start of ``period``, an aware datetime in the calendar's zone
        (where a DST change skips midnight, the first moment of that day)."""
        return self.localize(dt.datetime.combine(period.start, dt.time()))

    def end_moment(self, period: Period) -> dt.datetime:
        """Local midnight at the (exclusive) end of ``period``."""
        return self.localize(dt.datetime.combine(period.end, dt.time()))

    def elapsed_fraction(self, period: Period, as_of: dt.datetime) -> Fraction:
        """The exact share of ``period`` elapsed at ``as_of``, by real elapsed time (so a DST
        change is counted as it happened), to the microsecond: 0 at or before the start, 1 at or
        after the end, non-decreasing in ``as_of``. Naive ``as_of`` is local time."""
        # Same-tzinfo datetime subtraction ignores DST offsets, so subtract UTC instants.
        start = self.start_moment(period).astimezone(UTC)
        total = (self.end_moment(period).astimezone(UTC) - start) // MICROSECOND
        done = (self.localize(as_of).astimezone(UTC) - start) // MICROSECOND
        return Fraction(min(max(done, 0), total), total)

    def moment(self, text: str) -> dt.datetime:
        """A moment from text (``2023-10-15`` = local midnight, ``2023-10-15T09:30``,
        ``2023-10-15 09:30:00+08:00`` ...): naive text is local time in the calendar's zone,
        read as :meth:`localize` reads naive datetimes; the result is a stdlib aware datetime
        in the calendar's zone."""
        import pendulum

        expected = (
            f"expected a date or moment such as 2023-10-15 or 2023-10-15T09:30; found {text!r}"
        )
        try:
            if not isinstance(text, str) or not text.strip():
                raise ValueError(text)
            # tz=None keeps naive text naive, so it is localized exactly as localize() does
            # (pendulum would read it as UTC, or pick the other side of a DST fold).
            parsed = pendulum.parse(text.strip(), tz=None, strict=False)
            if not isinstance(parsed, dt.datetime):
                if not isinstance(parsed, dt.date):  # a bare time or a duration
                    raise TypeError(text)
                return self.localize(dt.datetime.combine(parsed, dt.time()))
            p = parsed
            plain = dt.datetime(p.year, p.month, p.day, p.hour, p.minute, p.second, p.microsecond)
            offset = p.utcoffset()
            if offset is not None:
                plain = (plain - offset).replace(tzinfo=UTC)
            return self.localize(plain)
        except (ValueError, TypeError, OverflowError):  # pendulum's ParserError is a ValueError
            raise PeriodError(expected) from None
