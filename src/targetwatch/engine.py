"""Evaluating rules against data as of a moment.

:func:`evaluate` is the pure core: rules, data and a moment in, verdicts out; no clock, no
I/O. :class:`Engine` is the facade an embedding program uses: it loads data through its
sources (each indicator once, for all the rules that read it) and calls :func:`evaluate`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gc
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from . import i18n, templates
from .data import Dataset
from .errors import ConfigError, Problem, SourceError, TargetwatchError
from .kind import EvalContext, RuleKind
from .model import Indicator, Judgement, Rule, Status, Verdict, exit_code
from .numbers import exact_context
from .progress import Progress, counted
from .source import CallableSource, RowsSource, Source, SourceContext, SourceRequest

if TYPE_CHECKING:
    from .config import Config
    from .periods import Calendar
    from .plugins import Registry


@attrs.frozen
class CheckResult:
    """The verdicts of one check, the moment they hold for, and any problems met on the way
    (skipped rows, a source that failed): a problem makes the run exit 3 unless it breached."""

    as_of: dt.datetime
    verdicts: tuple[Verdict, ...]
    problems: tuple[Problem, ...] = ()
    #: Verdicts per status, counted once (outputs, state and the exit status all ask).
    _counts: Counter[Status] = attrs.field(init=False, repr=False, eq=False)

    @_counts.default
    def _count(self) -> Counter[Status]:
        return Counter(map(attrgetter("status"), self.verdicts))

    @property
    def summary(self) -> dict[str, int]:
        return {status.value: self._counts.get(status, 0) for status in Status}

    @property
    def exit_code(self) -> int:
        code = exit_code(status for status, n in self._counts.items() if n)
        return 3 if self.problems and code != 2 else code


def evaluate(
    rules: Sequence[Rule],
    data: Dataset,
    as_of: dt.datetime,
    calendar: Calendar,
    kinds: Mapping[str, RuleKind],
    indicators: Mapping[str, Indicator] | None = None,
    *,
    plugin_of: Callable[[str], str | None] = lambda kind: None,
    progress: Progress | None = None,
) -> list[Verdict]:
    """Judge every rule on every series it selects, as of ``as_of`` (pure: no clock, no I/O;
    ``progress``, when given, hears ``("rules judged", done, total)`` after each rule).

    Only observations available at ``as_of`` are seen: from their ``reported_at`` moment
    when the source gives one, else from the start of their period (see
    :meth:`~targetwatch.model.Series.visible`). A rule that selects no
    series gives one ``UNKNOWN`` verdict saying so; a kind that raises gives ``ERROR``
    verdicts naming the plugin.
    """
    # Judging makes hundreds of thousands of objects that live on (the verdicts) and no
    # reference cycles: the cyclic collector, left running, would walk the whole dataset and
    # every verdict so far again and again. It is paused meanwhile (nothing changes for the
    # caller: its state is restored, and garbage is freed by reference counting as usual).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _evaluate(rules, data, as_of, calendar, kinds, indicators, plugin_of, progress)
    finally:
        if collecting:
            gc.enable()


def _evaluate(
    rules: Sequence[Rule],
    data: Dataset,
    as_of: dt.datetime,
    calendar: Calendar,
    kinds: Mapping[str, RuleKind],
    indicators: Mapping[str, Indicator] | None,
    plugin_of: Callable[[str], str | None],
    progress: Progress | None,
) -> list[Verdict]:
    as_of = calendar.localize(as_of)
    visible = data.visible(as_of)
    ctx = EvalContext(as_of, calendar, visible, dict(indicators or {}))
    verdicts: list[Verdict] = []
    for done, rule in enumerate(rules, start=1):
        if progress is not None:
            progress("rules judged", done - 1, len(rules))
        kind = kinds[rule.kind]
        selected = visible.select(rule.indicator, rule.selector)
        if not selected:
            what = f"{rule.indicator} {rule.selector}" if rule.selector.matchers else rule.indicator
            judgement = Judgement(Status.UNKNOWN, i18n._("no data for {what} up to {today}").format(what=what, today=ctx.today))
            verdicts.append(_verdict(rule, rule.selector.equalities(), judgement, ctx))
            continue
        try:
            with decimal.localcontext(exact_context()):
                judgements = kind.evaluate_batch(rule, selected, ctx)
            if len(judgements) != len(selected):
                raise RuntimeError(f"returned {len(judgements)} judgements for {len(selected)} series")
        except Exception as exc:  # noqa: BLE001 - a failing kind must not take the others down
            plugin = plugin_of(rule.kind) or rule.kind
            message = f"rule kind {rule.kind!r} (plugin {plugin}) failed: {type(exc).__name__}: {exc}"
            judgements = [Judgement(Status.ERROR, message) for _ in selected]
        if rule.message:
            verdicts.extend(_verdict(rule, series.labels, j, ctx) for series, j in zip(selected, judgements))
            continue
        # What _verdict does, with the rule's part looked up once (this loop runs per series).
        rule_id, title, kind_name, indicator, severity, tags = rule.id, rule.title, rule.kind, rule.indicator, rule.severity, rule.tags
        unit = ctx.unit(indicator)
        verdicts.extend(
            Verdict(rule_id, title, kind_name, indicator, series.labels, j.status, j.message, j.value, j.target, j.margin,
                    j.period, unit if j.unit is None else j.unit, severity, tags, dict(j.details))
            for series, j in zip(selected, judgements)
        )
    return verdicts


def _verdict(rule: Rule, labels: tuple[tuple[str, str], ...], j: Judgement, ctx: EvalContext) -> Verdict:
    unit = ctx.unit(rule.indicator) if j.unit is None else j.unit
    message = j.message
    # An UNKNOWN or ERROR verdict keeps the reason it could not be judged: a user template
    # written for judged values would hide it behind "n/a".
    if rule.message and j.status not in (Status.ERROR, Status.UNKNOWN):
        fields: dict[str, Any] = {**j.details}
        fields.update(
            rule=rule.id, title=rule.title, kind=rule.kind, indicator=rule.indicator, status=j.status.value,
            value=j.value, target=j.target, margin=j.margin, period=str(j.period) if j.period else None,
            unit=unit, severity=rule.severity, message=j.message,
            series=", ".join(f"{k}={v}" for k, v in labels) or None,
        )
        fields.update({f"label.{k}": v for k, v in labels})
        units = {"value": unit, "target": unit, "margin": unit}
        message = templates.render(rule.message, fields, units)
    return Verdict(
        rule=rule.id, title=rule.title, kind=rule.kind, indicator=rule.indicator, labels=labels,
        status=j.status, message=message, value=j.value, target=j.target, margin=j.margin,
        period=j.period, unit=unit, severity=rule.severity, tags=rule.tags, details=dict(j.details),
    )


SourceLike = Source | Callable[[Collection[str] | None], Iterable[Any]] | Iterable[Mapping[str, Any]]


class Engine:
    """Rules, sources and a calendar, ready to :meth:`check` as of any moment.

    >>> engine = Engine.from_config("targetwatch.toml")        # doctest: +SKIP
    >>> result = engine.check(as_of="2023-10-16")              # doctest: +SKIP

    ``sources`` may be opened sources, Python callables ``fn(indicators) -> rows``, or
    in-memory rows (mappings with ``indicator``, ``period``, ``value`` and labels).
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        sources: Sequence[SourceLike] | Mapping[str, SourceLike] = (),
        *,
        calendar: Calendar | None = None,
        indicators: Mapping[str, Indicator] | None = None,
        registry: Registry | None = None,
        default_as_of: str | None = None,
    ) -> None:
        from .periods import Calendar
        from .plugins import Registry, provided_by

        self.rules = tuple(rules)
        self.calendar = calendar or Calendar("UTC")
        self.indicators = dict(indicators or {})
        self.registry = registry or Registry()
        self.default_as_of = default_as_of
        named = sources.items() if isinstance(sources, Mapping) else ((f"source-{i + 1}", s) for i, s in enumerate(sources))
        self.sources: dict[str, Source] = {name: _as_source(name, s) for name, s in named}
        self.skipped: list[Problem] = []
        self._plugin_of = lambda kind: provided_by(self.registry, "kind", kind)
        missing = sorted({r.kind for r in self.rules} - set(self.registry.kinds))
        if missing:
            raise ConfigError(f"unknown rule kind(s): {', '.join(missing)}")

    @classmethod
    def from_config(cls, path: str | Path | Config, *, registry: Registry | None = None) -> Engine:
        """Load a config file (or a loaded :class:`~targetwatch.config.Config`), its rules and sources."""
        from .config import Config, load_config
        from .plugins import Registry
        from .rules import load_rules

        registry = registry or Registry()
        config = path if isinstance(path, Config) else load_config(path, registry)
        rules = load_rules(config.rule_paths, registry.kinds, calendar=config.calendar, indicators=config.indicators)
        engine = cls(rules, calendar=config.calendar, indicators=config.indicators, registry=registry, default_as_of=config.as_of)
        for sc in config.sources:
            context = SourceContext(sc.name, config.base_dir, engine._skipper(sc.name), config.calendar)
            try:
                engine.sources[sc.name] = registry.sources[sc.type].open(sc.params, context)
            except TargetwatchError:
                raise
            except Exception as exc:  # noqa: BLE001 - name the failing source plugin
                raise SourceError(f"could not open: {type(exc).__name__}: {exc}", source=sc.name) from exc
        return engine

    def _skipper(self, source: str) -> Callable[[Problem], None]:
        def skip(problem: Problem) -> None:
            self.skipped.append(attrs.evolve(problem, message=f"source {source!r}: {problem.message}"))

        return skip

    def select(self, rule_ids: Collection[str] = (), tags: Collection[str] = ()) -> list[Rule]:
        """The enabled rules whose id matches one of ``rule_ids`` (shell-style patterns) and that
        carry one of ``tags`` (either filter empty means all)."""
        from fnmatch import fnmatchcase

        out = []
        for rule in self.rules:
            if not rule.enabled:
                continue
            if rule_ids and not any(fnmatchcase(rule.id, pattern) for pattern in rule_ids):
                continue
            if tags and not set(tags) & set(rule.tags):
                continue
            out.append(rule)
        return out

    def request(self, rules: Sequence[Rule], as_of: dt.datetime) -> SourceRequest:
        """What the sources must provide for ``rules`` as of ``as_of``: each indicator once, and
        no older than the earliest day any rule reading it can use."""
        earliest: dict[str, dt.date | None] = {}
        for rule in rules:
            first = self.registry.kinds[rule.kind].earliest(rule, as_of, self.calendar)
            for name in rule.indicators:
                known = earliest.get(name, first)
                earliest[name] = None if known is None or first is None else min(known, first)
        since = {name: day for name, day in earliest.items() if day is not None}
        return SourceRequest(frozenset(earliest), as_of.date(), since)

    def load(self, indicators: Collection[str] | SourceRequest | None = None, *, progress: Progress | None = None) -> tuple[Dataset, list[Problem]]:
        """Read what is asked (indicator names, a :class:`SourceRequest`, or everything for
        ``None``) from every source, each indicator once.

        A source that fails is a problem named after it; the others still load.
        """
        request = indicators if isinstance(indicators, SourceRequest) else SourceRequest(None if indicators is None else frozenset(indicators))
        data = Dataset()
        problems: list[Problem] = []
        self.skipped.clear()
        for name, source in self.sources.items():
            try:
                read_dataset = getattr(source, "read_dataset", None)
                if callable(read_dataset):
                    loaded = read_dataset(request, _stage(progress, f"rows read from {name}"))
                else:
                    read_request = getattr(source, "read_request", None)
                    records = read_request(request) if callable(read_request) else source.read(request.indicators)
                    loaded = Dataset.from_records(counted(records, progress, f"rows read from {name}"), self.calendar, source=name)
                data = data.merged(loaded)
            except SourceError as exc:
                problems.append(Problem(str(exc) if exc.source else f"source {name!r}: {exc}"))
            except Exception as exc:  # noqa: BLE001 - one failing source never takes the others down
                problems.append(Problem(f"source {name!r} failed: {type(exc).__name__}: {exc}"))
        problems += [attrs.evolve(p, message=f"skipped bad row: {p.message}") for p in self.skipped]
        return data, problems

    def moment(self, as_of: str | dt.datetime | dt.date | None) -> dt.datetime:
        """``as_of`` as an aware moment in the calendar's zone; ``None`` means the config's pinned
        moment, else now (the only clock read)."""
        if as_of is None:
            as_of = self.default_as_of
        if as_of is None:
            return dt.datetime.now(self.calendar.tzinfo)
        if isinstance(as_of, str):
            return self.calendar.moment(as_of)
        if not isinstance(as_of, dt.datetime):
            as_of = dt.datetime.combine(as_of, dt.time())
        return self.calendar.localize(as_of)

    def check(
        self,
        as_of: str | dt.datetime | dt.date | None = None,
        *,
        rules: Sequence[Rule] | None = None,
        data: Dataset | None = None,
        progress: Progress | None = None,
    ) -> CheckResult:
        """Load the data the rules need and judge them as of ``as_of`` (``progress`` hears how
        many rows were read and rules judged, for a progress display)."""
        moment = self.moment(as_of)
        chosen = list(self.select() if rules is None else rules)
        problems: list[Problem] = []
        if data is None:
            data, problems = self.load(self.request(chosen, moment), progress=progress)
        verdicts = evaluate(chosen, data, moment, self.calendar, self.registry.kinds, self.indicators,
                            plugin_of=self._plugin_of, progress=progress)
        return CheckResult(moment, tuple(verdicts), tuple(problems))


def _stage(progress: Progress | None, stage: str) -> Callable[[int], None]:
    """A ``rows(done)`` callback for a source that reads whole datasets."""
    if progress is None:
        return lambda done: None
    return lambda done: progress(stage, done, None)


def _as_source(name: str, item: SourceLike) -> Source:
    if hasattr(item, "read"):
        return item  # type: ignore[return-value]
    if callable(item):
        return CallableSource(item, name)
    return RowsSource(list(item), name)

