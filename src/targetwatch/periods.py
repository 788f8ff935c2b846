"""Calendar periods (year, half, quarter, month, ISO week, day, fiscal year, named terms, and
spans of N consecutive periods of one grain) and the :class:`Calendar` that parses, resolves
and measures them in one configured time zone.

A :class:`Period` is a half-open date interval ``[start, end)`` plus an integer ``ordinal``:
consecutive periods of one grain differ by exactly 1, so the hot path can work on integers.
Building a period is plain stdlib date arithmetic; pendulum is imported only to parse moments.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import zoneinfo
from collections.abc import Sequence
from typing import Any

from .durations import Span, parse_duration
from .errors import PeriodError
from .grains import (
    GRAINS,
    LABELS,
    Period,
    Term,
    builtin_ordinal,
    builtin_period,
    iso_weeks,
    minus_year,
    parse_last_n,
    parse_relative,
)
from .moments import ZonedMoments
from .spans import (
    check_last_n,
    last_n,
    parse_span,
    shift_span,
    span_unit,
    span_year_ago,
)

__all__ = ["GRAINS", "Calendar", "Period", "PeriodError", "Span", "Term", "parse_duration"]

class Calendar(ZonedMoments):
    """Parses, resolves and measures periods in one time zone, with optional fiscal years and
    user-defined terms. Immutable after construction; safe to share between threads."""

    def __init__(
        self,
        timezone: str = "UTC",
        *,
        terms: Sequence[Term] = (),
        fiscal_year_start: int = 1,
        fiscal_year_named_by: str = "start",
    ) -> None:
        try:
            self.tzinfo: zoneinfo.ZoneInfo = zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise PeriodError(
                f"expected an IANA time zone such as 'Asia/Shanghai'; found {timezone!r}"
            ) from None
        self.timezone: str = timezone
        if not isinstance(fiscal_year_start, int) or not 1 <= fiscal_year_start <= 12:
            raise PeriodError(
                f"expected fiscal_year_start, a month 1..12; found {fiscal_year_start!r}"
            )
        if fiscal_year_named_by not in ("start", "end"):
            raise PeriodError(
                f"expected fiscal_year_named_by 'start' or 'end'; found {fiscal_year_named_by!r}"
            )
        self.fiscal_year_start = fiscal_year_start
        self.fiscal_year_named_by = fiscal_year_named_by
        self.terms: tuple[Term, ...] = tuple(sorted(terms, key=lambda t: (t.start, t.end)))
        self._term_index: dict[str, int] = {}
        for i, term in enumerate(self.terms):
            if not term.start < term.end:
                raise PeriodError(
                    f"term {term.name!r} must start before it ends; found {term.start}..{term.end}"
                )
            if term.name in self._term_index:
                raise PeriodError(f"term names must be unique; found {term.name!r} twice")
            if (
                self._match_label(term.name.strip()) is not None
                or parse_relative(term.name) is not None
                or parse_last_n(term.name) is not None
                or ".." in term.name
            ):
                raise PeriodError(
                    f"term name {term.name!r} would be read as a built-in period or a span "
                    f"(FIRST..LAST); choose another"
                )
            if i and self.terms[i - 1].end > term.start:
                prev = self.terms[i - 1]
                raise PeriodError(
                    f"terms must not overlap; found {prev.name!r} ({prev.start}..{prev.end}, "
                    f"end exclusive) overlapping {term.name!r} ({term.start}..{term.end})"
                )
            self._term_index[term.name] = i
        self._term_starts = [t.start for t in self.terms]
        self._parsed: dict[str, Period] = {}

    def __repr__(self) -> str:
        return (
            f"Calendar({self.timezone!r}, terms={len(self.terms)}, "
            f"fiscal_year_start={self.fiscal_year_start}, "
            f"fiscal_year_named_by={self.fiscal_year_named_by!r})"
        )

    # -- building periods -------------------------------------------------------------------

    def period(self, grain: str, ordinal: int) -> Period:
        """The period of ``grain`` with ``ordinal`` (see :class:`Period` for what ordinals mean)."""
        if grain == "fiscal":
            start_month = self.fiscal_year_start
            named = ordinal + (1 if self.fiscal_year_named_by == "end" and start_month != 1 else 0)
            try:
                start, end = dt.date(ordinal, start_month, 1), dt.date(ordinal + 1, start_month, 1)
            except (ValueError, OverflowError):
                raise PeriodError(
                    f"fiscal year {ordinal} is outside the supported years 1..9998"
                ) from None
            return Period("fiscal", ordinal, start, end, f"FY{named:04d}")
        if grain == "term":
            if not 0 <= ordinal < len(self.terms):
                raise PeriodError(self._no_term(f"no term number {ordinal}"))
            t = self.terms[ordinal]
            return Period("term", ordinal, t.start, t.end, t.name)
        return builtin_period(grain, ordinal)

    def containing(self, grain: str, day: dt.date) -> Period:
        """The period of ``grain`` that contains ``day``; for terms, PeriodError if none does.
        Spans do not divide the calendar: no span grain contains a day."""
        if grain == "fiscal":
            return self.period(
                grain, day.year if day.month >= self.fiscal_year_start else day.year - 1
            )
        if grain == "term":
            i = bisect.bisect_right(self._term_starts, day) - 1
            if i < 0 or not day < self.terms[i].end:
                raise PeriodError(self._no_term(f"{day} falls in no term"))
            return self.period("term", i)
        if span_unit(grain) is not None:
            raise PeriodError(
                f"spans of consecutive periods do not divide the calendar: no {grain} "
                f"contains {day}; name one as FIRST..LAST or 'last N ...'"
            )
        return builtin_period(grain, builtin_ordinal(grain, day))

    def shift(self, period: Period, n: int) -> Period:
        """The period ``n`` steps later (earlier if negative) of the same grain; terms step along
        the configured term list and raise PeriodError past either end. A span of N periods
        moves by n × N periods (``previous`` is the window right before it)."""
        if span_unit(period.grain) is not None:
            return shift_span(self, period, n)
        if period.grain == "term":
            self._own_term(period)
            if not 0 <= period.ordinal + n < len(self.terms):
                raise PeriodError(
                    self._no_term(
                        f"no term {abs(n)} {'after' if n > 0 else 'before'} {period.label!r}"
                    )
                )
        return self.period(period.grain, period.ordinal + n)

    def next(self, period: Period) -> Period:
        """The period right after ``period`` (same grain)."""
        return self.shift(period, 1)

    def previous(self, period: Period) -> Period:
        """The period right before ``period`` (same grain)."""
        return self.shift(period, -1)

    def year_ago(self, period: Period) -> Period:
        """The same period one year earlier: 2023-H2 -> 2022-H2, 2024-02-29 -> 2023-02-28,
        ISO week 53 -> week 52 where the year before has none, FY2023 -> FY2022; a term
        ``2023-autumn`` -> ``2022-autumn`` if configured, else the term containing the day a
        year before its start, else PeriodError. A span gives the span of the same length ending a
        year before it ends."""
        g, o = period.grain, period.ordinal
        steps = {"year": 1, "fiscal": 1, "half": 2, "quarter": 4, "month": 12}
        if g in steps:
            return self.period(g, o - steps[g])
        if g == "day":
            return self.containing("day", minus_year(period.start))
        if g == "week":
            iso = period.start.isocalendar()
            weeks = iso_weeks(iso.year - 1) if iso.year > 1 else 0
            if weeks == 0:
                raise PeriodError(f"no ISO year before {period.label}")
            return self.containing(
                "week", dt.date.fromisocalendar(iso.year - 1, min(iso.week, weeks), 1)
            )
        if span_unit(g) is not None:
            return span_year_ago(self, period)
        self._own_term(period)
        m = re.match(r"\d{4}", period.label)
        if m is not None:
            name = f"{int(m.group()) - 1:04d}{period.label[4:]}"
            if name in self._term_index:
                return self.period("term", self._term_index[name])
        try:
            return self.containing("term", minus_year(period.start))
        except PeriodError:
            raise PeriodError(f"no term a year before {period.label!r} ({period.start})") from None

    def _own_term(self, period: Period) -> None:
        i = period.ordinal
        if not (0 <= i < len(self.terms) and self.terms[i].name == period.label):
            raise PeriodError(
                self._no_term(f"term {period.label!r} is not one of this calendar's terms")
            )

    def _no_term(self, what: str) -> str:
        names = ", ".join(t.name for t in self.terms[:8]) + (", ..." if len(self.terms) > 8 else "")
        return f"{what} (terms configured: {names or 'none'})"

    # -- parsing ----------------------------------------------------------------------------

    def parse(self, text: str) -> Period:
        """The period an absolute label names: ``2023``, ``2023-H2``, ``2023-Q3``, ``2023-07``,
        ``2023-W27``, ``2023-07-15``, ``FY2023``, a configured term name (matched exactly), or
        a span ``FIRST..LAST`` of two such labels of one grain other than term
        (``2023-04..2023-09``, ``2022-Q4..2023-Q3``).

        Lenient about case and separators (``2023h2``, ``2023 Q3``, ``2023-7``); the result's
        label is always canonical. Results are cached per distinct string."""
        hit = self._parsed.get(text)
        if hit is not None:
            return hit
        period = self._parse(text)
        if period is None:
            raise PeriodError(self._expected(text, relative=False))
        if len(self._parsed) >= 100_000:  # bound memory against unbounded distinct junk
            self._parsed.clear()
        self._parsed[text] = period
        return period

    def _parse(self, text: Any) -> Period | None:
        if not isinstance(text, str):
            return None
        period = self.parse_label(text)
        if period is None and ".." in text:  # raises PeriodError saying what is wrong
            return parse_span(self, text.strip())
        return period

    def parse_label(self, text: str) -> Period | None:
        """The single period (not a span) ``text`` names, or None; not cached."""
        if text in self._term_index:
            return self.period("term", self._term_index[text])
        stripped = text.strip()
        if stripped in self._term_index:
            return self.period("term", self._term_index[stripped])
        match = self._match_label(stripped)
        if match is None:
            return None
        grain, m = match
        year = int(m["y"])
        try:
            if grain == "year":
                return builtin_period("year", year)
            if grain == "fiscal":
                by_end = self.fiscal_year_named_by == "end" and self.fiscal_year_start != 1
                return self.period("fiscal", year - 1 if by_end else year)
            if grain == "day":
                return self.containing("day", dt.date(year, int(m["m"]), int(m["d"])))
            n = int(m["n"])
            if grain == "week":
                if not 1 <= n <= iso_weeks(year):
                    return None
                return self.containing("week", dt.date.fromisocalendar(year, n, 1))
            if not 1 <= n <= {"month": 12, "quarter": 4, "half": 2}[grain]:
                return None
            return builtin_period(grain, year * {"month": 12, "quarter": 4, "half": 2}[grain] + n - 1)
        except (ValueError, OverflowError):
            return None

    @staticmethod
    def _match_label(text: str) -> tuple[str, re.Match[str]] | None:
        for grain, pattern in LABELS:
            m = pattern.fullmatch(text)
            if m is not None:
                return grain, m
        return None

    def _expected(self, text: object, *, relative: bool) -> str:
        names = ", ".join(t.name for t in self.terms[:4]) + (", ..." if len(self.terms) > 4 else "")
        terms = f"a term name ({names})" if names else "a term name (none configured)"
        if relative:
            more = (
                ", a span such as 2023-04..2023-09, or a relative period such as 'current half', "
                "'previous year', '2 quarters ago', 'last 6 months'"
            )
        else:
            more = ", or a span such as 2023-04..2023-09"
        return (
            "expected a period such as 2023, 2023-H2, 2023-Q3, 2023-07, 2023-W27, 2023-07-15, "
            f"FY2023, {terms}{more}; found {text!r}"
        )

    def is_relative(self, text: str) -> bool:
        """Whether ``text`` is a relative spec (``current half``, ``2 quarters ago``,
        ``last 6 months``)."""
        return isinstance(text, str) and (
            parse_relative(text) is not None or parse_last_n(text) is not None
        )

    def check_spec(self, text: str) -> None:
        """Raise PeriodError unless ``text`` is an absolute label or a relative spec this
        calendar can resolve (a relative term spec needs terms configured)."""
        rel = parse_relative(text) if isinstance(text, str) else None
        span = parse_last_n(text) if isinstance(text, str) and rel is None else None
        if span is not None:
            check_last_n(text, *span)
            return
        if rel is not None:
            if rel[0] == "term" and not self.terms:
                raise PeriodError(f"{text!r} needs terms, but no terms are configured")
            return
        if self._parse(text) is None:
            raise PeriodError(self._expected(text, relative=True))

    def resolve(self, spec: str, as_of: dt.datetime) -> Period:
        """An absolute label, or a relative spec resolved against ``as_of`` in the calendar's
        zone: ``current|this|previous|last|next <grain>`` or ``N <grain>s ago``, grain one of
        year, half, quarter, month, week, day, fiscal (year), term. ``last`` means previous.
        ``last N <grain>s`` (not terms) is the span of the N periods that end where the
        current one begins, all closed; ``last 1 month`` is ``previous month``.
        Between terms, ``previous term`` is the one that ended last and ``next term`` the one
        that starts next; ``current term`` raises PeriodError."""
        rel = parse_relative(spec) if isinstance(spec, str) else None
        span = parse_last_n(spec) if isinstance(spec, str) and rel is None else None
        if span is not None:
            check_last_n(spec, *span)
            grain, n = span
            try:
                return last_n(self, self.containing(grain, self.localize(as_of).date()), n)
            except PeriodError as exc:
                raise PeriodError(f"{spec.strip()!r} as of {self.localize(as_of).date()}: {exc}") from None
        if rel is None:
            period = self._parse(spec)
            if period is None:
                raise PeriodError(self._expected(spec, relative=True))
            return period
        grain, offset = rel
        day = self.localize(as_of).date()
        if grain != "term":
            return self.shift(self.containing(grain, day), offset)
        i = bisect.bisect_right(self._term_starts, day) - 1
        if i >= 0 and day < self.terms[i].end:
            return self.shift(self.period("term", i), offset)
        if offset == 0:
            before = f"after {self.terms[i].name!r} ended" if i >= 0 else "before the first term"
            if 0 <= i < len(self.terms) - 1:
                before += f", {self.terms[i + 1].name!r} starts {self.terms[i + 1].start}"
            raise PeriodError(self._no_term(f"as of {day} there is no current term ({before})"))
        # In a gap: the previous term is term i, the next is term i + 1.
        j = i + offset + (1 if offset < 0 else 0)
        if not 0 <= j < len(self.terms):
            raise PeriodError(self._no_term(f"as of {day} there is no term {spec.strip()!r}"))
        return self.period("term", j)
