"""The value objects everything else passes around: statuses, labels, series, rules, verdicts."""

from __future__ import annotations

import bisect
import datetime as dt
import enum
import operator
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

if TYPE_CHECKING:
    from .periods import Period

_START = operator.attrgetter("start")

#: Labels of a series: sorted ``(name, value)`` pairs, hashable and cheap to compare.
Labels = tuple[tuple[str, str], ...]


def make_labels(mapping: Mapping[str, object] | Iterable[tuple[str, object]] = ()) -> Labels:
    """Normalise labels from a mapping or pairs into the canonical sorted tuple."""
    items = mapping.items() if isinstance(mapping, Mapping) else mapping
    return tuple(sorted((str(k), str(v)) for k, v in items))


class Status(enum.Enum):
    """Where a target stands. ``UNKNOWN`` means it could not be judged; ``ERROR`` that a plugin failed."""

    OK = "OK"
    WARN = "WARN"
    BREACH = "BREACH"
    UNKNOWN = "UNKNOWN"
    ERROR = "ERROR"

    @property
    def severity(self) -> int:
        """Order for "worst first": BREACH > ERROR > UNKNOWN > WARN > OK."""
        return _SEVERITY[self]

    @property
    def exit_code(self) -> int:
        """The monitoring-plugins exit code for this status: 0 OK, 1 WARN, 2 BREACH, 3 UNKNOWN/ERROR."""
        return _EXIT[self]

    def __str__(self) -> str:
        return self.value


_SEVERITY = {Status.OK: 0, Status.WARN: 1, Status.UNKNOWN: 2, Status.ERROR: 3, Status.BREACH: 4}
_EXIT = {Status.OK: 0, Status.WARN: 1, Status.BREACH: 2, Status.UNKNOWN: 3, Status.ERROR: 3}


def exit_code(statuses: Iterable[Status]) -> int:
    """The exit status of a run: 2 if any BREACH, else 3 if anything could not be judged,
    else 1 if any WARN, else 0."""
    seen = set(statuses)
    if Status.BREACH in seen:
        return 2
    if Status.UNKNOWN in seen or Status.ERROR in seen:
        return 3
    return 1 if Status.WARN in seen else 0


@attrs.frozen
class Matcher:
    """One label condition: equal to one of ``values``, or not equal, or matching a regex."""

    values: tuple[str, ...] = ()
    negate: bool = False
    pattern: re.Pattern[str] | None = None

    def matches(self, value: str | None) -> bool:
        if self.pattern is not None:
            hit = value is not None and self.pattern.fullmatch(value) is not None
        else:
            hit = value in self.values
        return hit != self.negate


@attrs.frozen
class LabelSelector:
    """Which series a rule watches, by their labels (like a Prometheus selector).

    Written in rule files as a table: ``{ district = "田家庵区" }`` (equal),
    ``{ district = ["A", "B"] }`` (one of), ``{ level = { not = "city" } }``,
    ``{ district = { match = ".*区" } }`` (a regular expression, anchored). Empty selects all.
    """

    matchers: tuple[tuple[str, Matcher], ...] = ()

    @classmethod
    def from_mapping(cls, raw: object) -> LabelSelector:
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ValueError(f"found {type(raw).__name__} {raw!r}")
        out = []
        for name, cond in raw.items():
            out.append((str(name), _matcher(str(name), cond)))
        return cls(tuple(sorted(out, key=lambda item: item[0])))

    def matches(self, labels: Labels) -> bool:
        if not self.matchers:  # selects everything (most rules)
            return True
        found = dict(labels)
        return all(m.matches(found.get(name)) for name, m in self.matchers)

    def equalities(self) -> Labels:
        """The labels pinned to a single value (used to label a verdict when no series matched)."""
        return tuple((n, m.values[0]) for n, m in self.matchers if len(m.values) == 1 and not m.negate and m.pattern is None)

    def __str__(self) -> str:
        parts = []
        for name, m in self.matchers:
            if m.pattern is not None:
                parts.append(f"{name}{'!~' if m.negate else '=~'}{m.pattern.pattern!r}")
            else:
                op = "!=" if m.negate else "="
                shown = m.values[0] if len(m.values) == 1 else "|".join(m.values)
                parts.append(f"{name}{op}{shown!r}")
        return "{" + ", ".join(parts) + "}"


def _matcher(name: str, cond: object) -> Matcher:
    if isinstance(cond, (str, int)) and not isinstance(cond, bool):
        return Matcher((str(cond),))
    if isinstance(cond, (list, tuple)) and cond and all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in cond):
        return Matcher(tuple(str(c) for c in cond))
    if isinstance(cond, Mapping) and len(cond) == 1:
        ((op, arg),) = cond.items()
        if op == "not" and isinstance(arg, (str, list)):
            values = (arg,) if isinstance(arg, str) else tuple(str(a) for a in arg)
            return Matcher(values, negate=True)
        if op == "match" and isinstance(arg, str):
            try:
                return Matcher(pattern=re.compile(arg))
            except re.error as exc:
                raise ValueError(f"label {name!r}: invalid regular expression {arg!r}: {exc}") from None
    raise ValueError(f"label {name!r}: found {cond!r}")


class Record(NamedTuple):
    """One observation as a source yields it, before periods are parsed.

    ``origin`` says where it came from (``data.csv:17``) for error messages. ``reported_at``
    is the aware moment the figure became available, when the source knows it (a
    ``reported_at`` column, or ``available = "period_end"``); ``None`` means "as soon as its
    period starts" (see :meth:`Series.visible`).
    """

    indicator: str
    period: str
    value: Decimal
    labels: Labels = ()
    origin: str | None = None
    reported_at: dt.datetime | None = None


@attrs.frozen(eq=False)
class Series:
    """One indicator for one set of labels: observations sorted by period (start, then end).

    ``reported``, when not ``None``, runs parallel to ``values``: the aware moment each
    observation became available (``None`` for one available from the start of its period).
    """

    indicator: str
    labels: Labels
    periods: tuple[Period, ...]
    values: tuple[Decimal, ...]
    #: The name of the source it came from, when known (shown by ``explain``).
    source: str | None = None
    reported: tuple[dt.datetime | None, ...] | None = None

    def __len__(self) -> int:
        return len(self.periods)

    def __iter__(self) -> Iterator[tuple[Period, Decimal]]:
        return iter(zip(self.periods, self.values))

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def latest(self) -> tuple[Period, Decimal] | None:
        """The newest observation, or ``None`` for an empty series."""
        return (self.periods[-1], self.values[-1]) if self.periods else None

    def value_at(self, period: Period) -> Decimal | None:
        """The value observed for exactly ``period``, or ``None``."""
        periods = self.periods
        start = period.start
        # Observations sort by start first: bisect on the start (a C-level key), then look at
        # those starting the same day.
        i = bisect.bisect_left(periods, start, key=_START)
        n = len(periods)
        while i < n:
            found = periods[i]
            if found.start != start:
                return None
            if found is period or found == period:
                return self.values[i]
            i += 1
        return None

    def within(self, period: Period) -> list[tuple[Period, Decimal]]:
        """Observations whose period lies entirely inside ``period`` (e.g. months of a half)."""
        periods = self.periods
        # Only those starting from period.start through period.end can lie inside it.
        lo = bisect.bisect_left(periods, period.start, key=_START)
        hi = bisect.bisect_right(periods, period.end, lo=lo, key=_START)
        end = period.end
        return [(periods[i], self.values[i]) for i in range(lo, hi) if periods[i].end <= end]

    def visible(self, as_of: dt.datetime | dt.date) -> Series:
        """The series as it could be known at ``as_of``: the observations available by then.

        An observation is available at its ``reported`` moment when it has one, else at the
        start of its period. ``as_of`` is an aware moment (the engine passes the check's
        moment in the calendar's zone); a plain date means the start of that day. An
        observation with no reported moment is visible when its period starts on or before
        ``as_of``'s date; one with a reported moment when that moment is at or before
        ``as_of``. The order of the observations is kept.
        """
        if isinstance(as_of, dt.datetime):
            day = as_of.date()
        else:
            day = as_of
        if self.reported is None:
            if not self.periods or self.periods[-1].start <= day:  # nothing to cut (the usual case)
                return self
            cut = bisect.bisect_right(self.periods, day, key=_START)
            if cut == len(self.periods):
                return self
            return Series(self.indicator, self.labels, self.periods[:cut], self.values[:cut], self.source)
        moment = as_of if isinstance(as_of, dt.datetime) else None
        keep = []
        for i, (period, reported) in enumerate(zip(self.periods, self.reported)):
            if reported is None:
                seen = period.start <= day
            else:
                if moment is None:  # a date: the start of that day, in the zone of the moments
                    moment = dt.datetime.combine(day, dt.time(), tzinfo=reported.tzinfo)
                seen = reported <= moment
            if seen:
                keep.append(i)
        if len(keep) == len(self.periods):
            return self
        return Series(
            self.indicator, self.labels, tuple(self.periods[i] for i in keep), tuple(self.values[i] for i in keep),
            self.source, tuple(self.reported[i] for i in keep),
        )


@attrs.frozen
class Indicator:
    """A declared indicator: its name, a title in any language, its unit (``%`` shows a share
    as a percentage) and a description."""

    name: str
    title: str | None = None
    unit: str | None = None
    description: str | None = None


@attrs.frozen
class Rule:
    """A declared target. ``params`` is an instance of the kind's params class."""

    id: str
    title: str
    kind: str
    params: Any
    indicators: tuple[str, ...]
    selector: LabelSelector = LabelSelector()
    severity: str = "critical"
    tags: tuple[str, ...] = ()
    message: str | None = None
    description: str | None = None
    file: str | None = None
    line: int | None = None
    enabled: bool = True
    #: The rule's own alerting keys (``for``, ``repeat``, ``notify``...), ``None`` to inherit all.
    alerting: Any = None

    @property
    def indicator(self) -> str:
        """The indicator each verdict is about (the first one the kind reads)."""
        return self.indicators[0]


@attrs.frozen
class Judgement:
    """What a rule kind says about one series. The engine adds the rule's metadata.

    ``value``/``target`` are in ``unit`` (``None`` means the indicator's own unit; ``"%"`` a
    ratio shown as a percentage; ``""`` a bare number such as a rank). ``margin`` is signed:
    positive is room to spare, negative is how far short. ``details`` holds each step of the
    computation by name (used by message templates and ``explain``).
    """

    status: Status
    message: str
    value: Decimal | None = None
    target: Decimal | None = None
    margin: Decimal | None = None
    period: Period | None = None
    unit: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Verdict:
    """One rule on one series as of a moment."""

    rule: str
    title: str
    kind: str
    indicator: str
    labels: Labels
    status: Status
    message: str
    value: Decimal | None = None
    target: Decimal | None = None
    margin: Decimal | None = None
    period: Period | None = None
    unit: str | None = None
    severity: str = "critical"
    tags: tuple[str, ...] = ()
    details: Mapping[str, Any] = attrs.field(factory=dict)
    #: Why this verdict sends nothing (the silence's reason and expiry), when it is silenced.
    silenced: str | None = None

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def series_key(self) -> str:
        """A stable text key of the series: ``district=田家庵区,level=x`` (empty for no labels)."""
        return ",".join(f"{k}={v}" for k, v in self.labels)


def worst(statuses: Sequence[Status]) -> Status:
    """The most severe status (``OK`` for none)."""
    return max(statuses, key=lambda s: s.severity, default=Status.OK)
