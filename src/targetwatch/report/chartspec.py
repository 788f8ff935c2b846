"""What a report chart shows, as plain data: the builders in :mod:`.figures` decide what to
draw from a verdict and its series, :mod:`.charts` draws it as SVG. Nothing here knows SVG.

Two shapes cover every kind: a :class:`TimeChart` (values over calendar time: observations,
a cumulative total, target and pace lines, shaded periods, markers) and a :class:`BarChart`
(one value per peer series for one period: rank and share).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

import attrs

#: How a line is drawn: the observations, a running total, the target, a warning level, the
#: straight pace line (target × elapsed), and the straight-line forecast.
LineRole = Literal["series", "cumulative", "target", "warn", "pace", "forecast"]
#: A point worth marking: a breach, or where the total is expected to be by now.
MarkerRole = Literal["breach", "expected"]
#: A vertical line: the moment judged, a deadline, the day data goes stale.
RuleRole = Literal["as_of", "deadline", "stale"]
#: A shaded stretch of time: the period judged, or the base it is compared with.
BandRole = Literal["judged", "base"]


@attrs.frozen
class Point:
    """One plotted value: a day on the time axis, the value, and how people name it (the
    observation's period label, or a date)."""

    x: dt.date
    y: Decimal
    label: str


@attrs.frozen
class Line:
    """A polyline (with dots at its points when ``dots``), named in the legend by ``label``."""

    role: LineRole
    label: str
    points: tuple[Point, ...]
    dots: bool = False


@attrs.frozen
class Marker:
    role: MarkerRole
    label: str
    point: Point


@attrs.frozen
class VRule:
    role: RuleRole
    label: str
    x: dt.date


@attrs.frozen
class Band:
    role: BandRole
    label: str
    start: dt.date
    end: dt.date


@attrs.frozen
class TimeChart:
    """Values over ``[start, end)`` (days). ``zero`` asks for a value axis that includes 0
    (totals and counts); levels such as rates are drawn on a range fitted to the data."""

    caption: str
    unit: str | None
    start: dt.date
    end: dt.date
    lines: tuple[Line, ...] = ()
    markers: tuple[Marker, ...] = ()
    rules: tuple[VRule, ...] = ()
    bands: tuple[Band, ...] = ()
    zero: bool = False

    @property
    def has_data(self) -> bool:
        return any(line.points for line in self.lines)


@attrs.frozen
class Bar:
    """One peer's value; ``own`` is the series the verdict is about, ``breach`` marks it failing."""

    label: str
    value: Decimal
    own: bool = False
    breach: bool = False


@attrs.frozen
class Reference:
    """A horizontal reference across a bar chart (e.g. 30 % of the total)."""

    label: str
    value: Decimal


@attrs.frozen
class BarChart:
    caption: str
    unit: str | None
    bars: tuple[Bar, ...]
    references: tuple[Reference, ...] = ()

    @property
    def has_data(self) -> bool:
        return bool(self.bars)


Chart = TimeChart | BarChart
