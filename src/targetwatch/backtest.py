"""Replaying rules over past moments: what each target would have said, and who would have
been told, had ``targetwatch check`` run at every step of a range.

Pure: :func:`replay` takes data already loaded (all of its history), the rules, the calendar,
the kinds and, optionally, the alert :class:`~targetwatch.tracker.Tracker` to feed (over an
in-memory state store); it reads no clock, no file and sends nothing.

What a caller may rely on:

- **Availability.** Each step sees exactly what ``targetwatch check --as-of STEP`` sees: an
  observation is available from its ``reported_at`` moment when the source gives one (a
  ``reported_at`` column, read in the configured time zone), otherwise from the start of its
  period — or from the end of its period when the source sets ``available = "period_end"``.
  Both commands call :func:`targetwatch.engine.evaluate`, which applies that one rule, so a
  step's verdicts equal those of ``check --dry-run --as-of STEP`` by construction.
- **Lifecycle.** The verdicts of each step go through the same policy as ``check`` (``for``,
  ``keep_firing_for``, ``repeat`` with back-off, resolved notices, routes), with the step as
  the wall clock: as if ``check`` had run from cron at each step. Silences are not replayed.
- **Steps** are local midnights in the calendar's zone (:func:`steps`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from .engine import CheckResult, evaluate
from .model import Labels, Status

if TYPE_CHECKING:
    from .alerts import EventKind
    from .data import Dataset
    from .kind import RuleKind
    from .model import Indicator, Rule
    from .periods import Calendar
    from .tracker import Tracker

#: How often a replay may step: every day, every Monday, every first of the month.
EVERY = ("day", "week", "month")
#: More steps than this is refused (a daily replay of about thirteen years).
MAX_STEPS = 5000


class StepsError(ValueError):
    """The range or the interval of a replay cannot be used; the text says why."""


def steps(start: dt.date, end: dt.date, every: str, calendar: Calendar, *, limit: int = MAX_STEPS) -> list[dt.datetime]:
    """The moments of a replay: 00:00 local time of every day, every Monday, or every first of
    the month from ``start`` to ``end``, both inclusive (so a weekly replay starts on the first
    Monday on or after ``start``). Raises :class:`StepsError` when ``end`` is before ``start``,
    when no step falls in the range, or when there would be more than ``limit`` steps."""
    if every not in EVERY:
        raise StepsError(f"expected --every to be one of {', '.join(EVERY)}; found {every!r}")
    if end < start:
        raise StepsError(f"--to {end} is before --from {start}")
    days: list[dt.date] = []
    day = start
    if every == "week":
        day += dt.timedelta(days=-day.weekday() % 7)
    elif every == "month" and day.day != 1:
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    while day <= end:
        days.append(day)
        if len(days) > limit:
            raise StepsError(f"{start} to {end} every {every} is more than {limit:,} steps; choose a shorter range or a longer --every")
        if every == "day":
            day += dt.timedelta(days=1)
        elif every == "week":
            day += dt.timedelta(days=7)
        else:
            day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    if not days:
        what = {"week": "no Monday", "month": "no first of a month"}[every]
        raise StepsError(f"there is {what} from {start} to {end}: nothing to replay")
    return [calendar.localize(dt.datetime.combine(d, dt.time())) for d in days]


@attrs.frozen
class Change:
    """A rule on a series had a different status at ``at`` than at the step before (``before``
    is ``None`` at the first step, where every series gets its starting status)."""

    at: dt.datetime
    rule: str
    labels: Labels
    before: Status | None
    after: Status
    value: Decimal | None
    target: Decimal | None
    unit: str | None
    period: str | None
    message: str


@attrs.frozen
class Notice:
    """One event the check at ``at`` would have sent to ``channel`` (within that channel's digest)."""

    at: dt.datetime
    channel: str
    kind: EventKind
    rule: str
    labels: Labels
    status: Status


@attrs.frozen
class FirstOff:
    """When a rule on a series first left OK: the first step it was WARN and the first it was
    BREACH (``None``: never in the range), and its status at the last step."""

    rule: str
    labels: Labels
    first_warn: dt.datetime | None
    first_breach: dt.datetime | None
    final: Status


@attrs.frozen
class Timeline:
    """What a replay found. ``statuses[i]`` maps each (rule, labels) judged at ``steps[i]`` to
    its status; ``changes`` and ``notices`` are in step order; ``firsts`` in rule order."""

    steps: tuple[dt.datetime, ...]
    statuses: tuple[Mapping[tuple[str, Labels], Status], ...]
    changes: tuple[Change, ...]
    notices: tuple[Notice, ...]
    firsts: tuple[FirstOff, ...]


def replay(
    rules: Sequence[Rule],
    data: Dataset,
    moments: Iterable[dt.datetime],
    calendar: Calendar,
    kinds: Mapping[str, RuleKind],
    indicators: Mapping[str, Indicator] | None = None,
    *,
    tracker: Tracker | None = None,
    plugin_of: Callable[[str], str | None] = lambda kind: None,
) -> Timeline:
    """Judge ``rules`` on ``data`` as of each of ``moments`` (in order) and, with a
    ``tracker``, record each step's verdicts with ``now`` = the step, collecting the events
    its channels would have been told. ``data`` should hold all of the history: each step
    sees only what was available then. ``moments`` may be any iterable (a progress bar)."""
    seen: list[dt.datetime] = []
    statuses: list[dict[tuple[str, Labels], Status]] = []
    changes: list[Change] = []
    notices: list[Notice] = []
    order: dict[tuple[str, Labels], None] = {}
    first_warn: dict[tuple[str, Labels], dt.datetime] = {}
    first_breach: dict[tuple[str, Labels], dt.datetime] = {}
    previous: dict[tuple[str, Labels], Status] = {}
    for moment in moments:
        at = calendar.localize(moment)
        verdicts = evaluate(rules, data, at, calendar, kinds, indicators, plugin_of=plugin_of)
        now: dict[tuple[str, Labels], Status] = {}
        for v in verdicts:
            key = (v.rule, v.labels)
            now[key] = v.status
            order.setdefault(key)
            before = previous.get(key)
            if before is not v.status:
                changes.append(Change(at, v.rule, v.labels, before, v.status, v.value, v.target, v.unit,
                                      str(v.period) if v.period else None, v.message))
            if v.status is Status.WARN:
                first_warn.setdefault(key, at)
            elif v.status is Status.BREACH:
                first_breach.setdefault(key, at)
        if tracker is not None:
            recorded = tracker.record(CheckResult(at, tuple(verdicts)), at)
            for channel in sorted(recorded.events):
                notices += [Notice(at, channel, e.kind, e.rule, e.labels, e.status) for e in recorded.events[channel]]
        previous = now
        seen.append(at)
        statuses.append(now)
    firsts = tuple(
        FirstOff(rule, labels, first_warn.get((rule, labels)), first_breach.get((rule, labels)), previous.get((rule, labels), Status.UNKNOWN))
        for rule, labels in order
    )
    return Timeline(tuple(seen), tuple(statuses), tuple(changes), tuple(notices), firsts)


__all__ = ["EVERY", "MAX_STEPS", "Change", "FirstOff", "Notice", "StepsError", "Timeline", "replay", "steps"]
