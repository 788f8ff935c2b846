"""The period scorecard (``targetwatch report``) as a pure data model.

:func:`judging_moment` says as of when a period is judged; :func:`build_report` turns an
engine's rules, the data and a :class:`~targetwatch.engine.CheckResult` into a
:class:`Report`: summary counts, the targets grouped by their first tag (untagged last),
each with its figures formatted for people and the chart to draw. Nothing here reads a
file, the clock or the network; :mod:`.html` and :mod:`.markdown` render a report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

import attrs

from ..i18n import _, ngettext
from ..model import Status
from ..numbers import format_number
from .chartspec import Chart
from .figures import FigureInput, figure

if TYPE_CHECKING:
    from ..data import Dataset
    from ..engine import CheckResult, Engine
    from ..model import Verdict
    from ..periods import Calendar, Period

#: Where the moment asked for came from: ``--as-of``, the config's ``as_of``, or the clock.
Basis = Literal["option", "config", "now"]

#: A symbol beside every status word, so that a status never depends on colour alone.
STATUS_SYMBOL: Final = {"OK": "✓", "WARN": "!", "BREACH": "✗", "UNKNOWN": "?", "ERROR": "⚠"}

UNTAGGED: Final = "untagged"


def _basis_text(basis: Basis) -> str:
    """Where the moment came from, in words of the current locale."""
    return {"option": "--as-of", "config": _("the config's as_of"), "now": _("now")}[basis]


def judging_moment(period: Period, requested: dt.datetime, calendar: Calendar) -> tuple[dt.datetime, bool]:
    """The moment a report on ``period`` judges as of, and whether the period has closed: the
    end of the period once ``requested`` is at or after it (a closed period is judged on
    its final figures), else ``requested`` itself."""
    end = calendar.end_moment(period)
    closed = calendar.localize(requested) >= end
    return (end if closed else calendar.localize(requested)), closed


@attrs.frozen
class Entry:
    """One rule on one series: what a row of the scorecard says, already in words."""

    rule: str
    title: str
    kind: str
    status: str
    symbol: str
    series: str
    indicator: str
    indicator_title: str | None
    period: str
    value: str
    target: str
    margin: str
    #: ``-1`` short of the target, ``1`` room to spare, ``0`` exactly on it or unknown.
    margin_sign: int
    message: str
    severity: str
    description: str | None
    chart: Chart | None
    chart_id: str


@attrs.frozen
class Group:
    """The targets sharing a first tag (``tag`` is ``None`` for the untagged), worst first."""

    tag: str | None
    title: str
    entries: tuple[Entry, ...]
    summary: Mapping[str, int]


@attrs.frozen
class Report:
    """Everything a rendering needs; every text is user text to be escaped when rendered."""

    title: str
    subtitle: str
    period: str
    period_start: dt.date
    period_last_day: dt.date
    as_of: dt.datetime
    #: Why this moment: the period's end (closed) or the moment asked for, and where that came from.
    as_of_note: str
    closed: bool
    #: The share of the period elapsed at ``as_of``, 0 to 1.
    elapsed: float
    summary: Mapping[str, int]
    groups: tuple[Group, ...]
    problems: tuple[str, ...]
    rule_count: int
    indicator_count: int

    @property
    def entries(self) -> list[Entry]:
        return [e for g in self.groups for e in g.entries]

    @property
    def attention(self) -> list[Entry]:
        """The entries not OK, worst first (as they appear in the groups otherwise)."""
        bad = [e for e in self.entries if e.status != "OK"]
        return sorted(bad, key=lambda e: -Status(e.status).severity)

    @property
    def summary_text(self) -> str:
        """``12 OK, 4 WARN, 2 BREACH`` in the current locale (``no targets`` for none)."""
        from ..default_plugins.outputs import counts_text

        return counts_text(self.summary) or _("no targets")


def build_report(
    engine: Engine,
    data: Dataset,
    result: CheckResult,
    period: Period,
    *,
    requested: dt.datetime | None = None,
    basis: Basis = "option",
    title: str | None = None,
    origin: str | None = None,
) -> Report:
    """The report on ``period`` from the verdicts of ``result`` (judged as of ``result.as_of``)
    and ``data`` (all the observations loaded; what was not visible at ``as_of`` is not drawn).

    ``requested`` is the moment asked for and ``basis`` where it came from (``--as-of``, the
    config's ``as_of`` or now), both only for the note saying which moment was used; ``title``
    replaces the default heading; ``origin`` (e.g. the config file) is named under it.
    Pure: no I/O, no clock.
    """
    cal = engine.calendar
    as_of = cal.localize(result.as_of)
    closed = as_of >= cal.end_moment(period)
    visible = data.visible(as_of)
    rules = {r.id: r for r in engine.rules}
    entries: dict[str | None, list[Entry]] = {}
    order: list[str | None] = []
    for i, v in enumerate(result.verdicts):
        rule = rules.get(v.rule)
        tag = v.tags[0] if v.tags else None
        if tag not in entries:
            entries[tag] = []
            order.append(tag)
        series = visible.get(v.indicator, v.labels)
        inp = FigureInput(v, rule, series, visible, cal, as_of, engine.indicators)
        entries[tag].append(_entry(v, engine, figure(inp), f"chart-{i + 1}", rule.description if rule else None))
    order.sort(key=lambda t: t is None)  # untagged last, tags in the order rules first use them
    groups = tuple(_group(tag, entries[tag]) for tag in order)
    indicators = {name for r in engine.rules if r.id in {v.rule for v in result.verdicts} for name in r.indicators}
    count = len({v.rule for v in result.verdicts})
    targets = ngettext("{n} target", "{n} targets", count).format(n=count)
    subtitle = ngettext("{targets} on {n} indicator", "{targets} on {n} indicators", len(indicators)).format(targets=targets, n=len(indicators))
    if origin:
        subtitle += f" · {origin}"
    return Report(
        title=title or _("Targets scorecard {period}").format(period=period),
        subtitle=subtitle,
        period=period.label,
        period_start=period.start,
        period_last_day=period.last_day,
        as_of=as_of,
        as_of_note=_as_of_note(period, as_of, closed, requested, basis, cal),
        closed=closed,
        elapsed=float(cal.elapsed_fraction(period, as_of)),
        summary=dict(result.summary),
        groups=groups,
        problems=tuple(str(p) for p in result.problems),
        rule_count=count,
        indicator_count=len(indicators),
    )


def _as_of_note(period: Period, as_of: dt.datetime, closed: bool, requested: dt.datetime | None, basis: Basis, cal: Calendar) -> str:
    when, source = _when(as_of), _basis_text(basis)
    asked = _("{moment}, {source}").format(moment=_when(requested), source=source) if requested is not None else source
    if closed:
        return _("{period} has closed: judged as of its end, {moment}, on its final figures (asked for {asked}).").format(period=period, moment=when, asked=asked)
    if as_of < cal.start_moment(period):
        return _("Judged as of {moment}, {source}: {period} has not started yet.").format(moment=when, source=source, period=period)
    share = format_number(_share(period, as_of, cal), "%")
    return _("Judged as of {moment}, {source}: {period} is still open, {share} of it elapsed.").format(moment=when, source=source, period=period, share=share)


def _when(moment: dt.datetime) -> str:
    """``2023-10-16 00:00 (UTC+08:00)``: the zone as an offset, never an ambiguous abbreviation."""
    offset = moment.strftime("%z")
    zone = f" (UTC{offset[:3]}:{offset[3:]})" if offset else ""
    return f"{moment:%Y-%m-%d %H:%M}{zone}"


def _share(period: Period, as_of: dt.datetime, cal: Calendar) -> Decimal:
    fraction = cal.elapsed_fraction(period, as_of)
    return (Decimal(fraction.numerator) / Decimal(fraction.denominator)).quantize(Decimal("0.0001"))


def _entry(v: Verdict, engine: Engine, chart: Chart | None, chart_id: str, description: str | None) -> Entry:
    info = engine.indicators.get(v.indicator)
    sign = 0 if v.margin is None or v.margin == 0 else (1 if v.margin > 0 else -1)
    margin = format_number(v.margin, v.unit)
    return Entry(
        rule=v.rule, title=v.title or v.rule, kind=v.kind, status=v.status.value, symbol=STATUS_SYMBOL[v.status.value],
        series=", ".join(f"{k}={val}" for k, val in v.labels), indicator=v.indicator,
        indicator_title=info.title if info else None, period=_period_text(v),
        value=format_number(v.value, v.unit), target=format_number(v.target, v.unit),
        margin=("+" + margin) if sign > 0 else margin, margin_sign=sign, message=v.message, severity=v.severity,
        description=description, chart=chart, chart_id=chart_id,
    )


def _period_text(v: Verdict) -> str:
    """The period a verdict judged; for a window (progress) its first and last day."""
    if v.period is not None:
        return str(v.period)
    details = v.details
    if details.get("start") and details.get("deadline"):
        return f"{details['start']} – {details['deadline']}"
    return str(details.get("period") or "—")


def _group(tag: str | None, entries: Sequence[Entry]) -> Group:
    ordered = sorted(entries, key=lambda e: -Status(e.status).severity)  # stable: rule order within a status
    counts = {s.value: sum(1 for e in entries if e.status == s.value) for s in Status}
    return Group(tag, tag if tag is not None else _("untagged"), tuple(ordered), counts)


__all__ = ["Basis", "Entry", "Group", "Report", "build_report", "judging_moment"]
