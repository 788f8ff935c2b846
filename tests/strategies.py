"""Reusable hypothesis strategies for targetwatch tests."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from targetwatch.periods import Calendar, Period

#: Grains whose periods need no configured terms.
BUILTIN_GRAINS = ("year", "half", "quarter", "month", "week", "day", "fiscal")

#: Zones with and without DST, including 30-minute DST (Lord Howe) and DST at midnight (Santiago).
TIMEZONES = (
    "UTC",
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
)


def dates(min_year: int = 1900, max_year: int = 2200) -> st.SearchStrategy[dt.date]:
    """Calendar dates in ``min_year``..``max_year``."""
    return st.dates(dt.date(min_year, 1, 1), dt.date(max_year, 12, 31))


def calendars() -> st.SearchStrategy[Calendar]:
    """Calendars without terms: any of :data:`TIMEZONES`, any fiscal-year start and naming."""
    return st.builds(
        lambda tz, start, named: Calendar(tz, fiscal_year_start=start, fiscal_year_named_by=named),
        st.sampled_from(TIMEZONES),
        st.integers(1, 12),
        st.sampled_from(("start", "end")),
    )


def periods(grain: str, calendar: Calendar | None = None) -> st.SearchStrategy[Period]:
    """Periods of a built-in ``grain`` containing a date in 1900..2200."""
    cal = calendar or Calendar()
    return dates().map(lambda d: cal.containing(grain, d))


def moments(min_year: int = 1900, max_year: int = 2200) -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes (in UTC) between the given years, to the microsecond."""
    return st.datetimes(
        dt.datetime(min_year, 1, 1),
        dt.datetime(max_year, 12, 31),
        timezones=st.just(dt.UTC),
    )
