"""``targetwatch.toml``: rule paths, time zone, pinned ``as_of``, calendar terms, indicators
and sources. Every problem in the file is reported at once, each with its line and key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from .alertconfig import ALERTING_TABLES, AlertingSettings, alerting_from_mapping
from .errors import ConfigError, PeriodError, Problem
from .i18n import ACCEPTED
from .locate import KeyPath, Locator, load_toml, substitute_env
from .model import Indicator
from .params import (
    Choice,
    Date,
    Integer,
    ListOf,
    ParseContext,
    Text,
    dotted,
    param,
    parse,
    parse_typed,
)

if TYPE_CHECKING:
    from .periods import Calendar
    from .plugins import Registry

CONFIG_NAME: Final = "targetwatch.toml"


@attrs.frozen
class TopLevel:
    rules: tuple[str, ...] = param(ListOf(Text()), doc="Rule files or folders of rule files (*.toml, *.yaml, *.yml), relative to the config file.", default=("rules",))
    timezone: str = param(Text(), doc="IANA time zone in which periods, deadlines and as_of are read, e.g. Asia/Shanghai.", default="UTC")
    as_of: str | None = param(Text(), doc="Pin the moment targets are judged at (e.g. 2023-10-16); default: now. --as-of overrides it.", default=None)
    locale: str = param(Choice(*ACCEPTED), doc="Language of verdict messages, tables, explain and the report: en, or zh-CN for Simplified Chinese (zh_CN and zh-Hans also work). --locale overrides it. Status words, JSON keys and JUnit stay English.", default="en")


@attrs.frozen
class CalendarTable:
    fiscal_year_start: int = param(Integer(minimum=1), doc="Month (1-12) in which the fiscal year starts.", default=1)
    fiscal_year_named_by: str = param(Choice("start", "end"), doc="Whether FY2023 is the fiscal year that starts or ends in 2023.", default="start")


@attrs.frozen
class TermTable:
    name: str = param(Text(), doc="The term's label as rules and data write it, e.g. 2023-autumn.")
    start: Any = param(Date(), doc="First day of the term.")
    end: Any = param(Date(), doc="Last day of the term (inclusive).")


@attrs.frozen
class IndicatorTable:
    title: str | None = param(Text(), doc="A name for people, in any language.", default=None)
    unit: str | None = param(Text(), doc="Unit shown beside values ('%' shows fractions as percentages).", default=None)
    description: str | None = param(Text(), doc="What the indicator measures and where it comes from.", default=None)


@attrs.frozen
class SourceConfig:
    """One ``[[sources]]`` table: its name, type, converted params and where it was declared."""

    name: str
    type: str
    params: Any
    line: int | None = None


@attrs.frozen
class Config:
    """A loaded, checked configuration."""

    path: Path | None
    base_dir: Path
    rule_paths: tuple[Path, ...]
    calendar: Calendar
    indicators: Mapping[str, Indicator]
    sources: tuple[SourceConfig, ...]
    as_of: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict)
    alerting: AlertingSettings = AlertingSettings()


_KNOWN = ("rules", "timezone", "as_of", "calendar", "indicators", "sources", *ALERTING_TABLES)


def find_config(start: Path | None = None) -> Path | None:
    """``targetwatch.toml`` in ``start`` (default: the working directory), or ``None``."""
    candidate = (start or Path.cwd()) / CONFIG_NAME
    return candidate if candidate.is_file() else None


def load_config(path: str | Path, registry: Registry, *, env: Mapping[str, str] | None = None) -> Config:
    """Read and check a config file; raise :class:`ConfigError` listing every problem."""
    path = Path(path)
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(f"cannot read the config file: {exc.strerror or exc}", shown)]) from None
    data, locate = load_toml(shown, text)
    return config_from_mapping(data, registry, path=path, locate=locate, env=env)


def config_from_mapping(
    data: Mapping[str, Any],
    registry: Registry,
    *,
    path: Path | None = None,
    locate: Locator = lambda p: None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Check a config given as a mapping (as parsed from TOML). ``path`` anchors relative paths."""
    from .periods import Calendar, Term

    shown = str(path) if path else None
    problems: list[Problem] = []
    data, missing = substitute_env(dict(data), dict(os.environ if env is None else env))
    for key_path, name in missing:
        problems.append(Problem(f"environment variable {name!r} is not set", shown, locate(key_path), dotted(key_path)))
    ctx = ParseContext(file=shown, locate=locate)
    top, found = parse(TopLevel, data, ctx, what="the config", ignore=_KNOWN[3:])
    problems += found
    if top is None:
        # An unknown key must not hide a bad timezone or as_of: check the known keys alone.
        top, _ = parse(TopLevel, {k: v for k, v in data.items() if k in _KNOWN}, ctx, ignore=_KNOWN[3:])

    cal_raw = data.get("calendar", {})
    terms: list[Term] = []
    term_paths: dict[str, tuple[str | int, ...]] = {}
    cal_table = CalendarTable()
    if not isinstance(cal_raw, Mapping):
        problems.append(Problem("expected a table [calendar]", shown, locate(("calendar",)), "calendar"))
    else:
        parsed_cal, found = parse(CalendarTable, cal_raw, ctx, ("calendar",), what="[calendar]", ignore=("terms",))
        problems += found
        cal_table = parsed_cal or cal_table
        raw_terms = cal_raw.get("terms", [])
        if not isinstance(raw_terms, list):
            problems.append(Problem("expected an array of tables [[calendar.terms]]", shown, locate(("calendar", "terms")), "calendar.terms"))
            raw_terms = []
        for index, raw_term in enumerate(raw_terms):
            where = ("calendar", "terms", index)
            if not isinstance(raw_term, Mapping):
                problems.append(Problem("expected a table with name, start and end", shown, locate(where), dotted(where)))
                continue
            term, found = parse(TermTable, raw_term, ctx, where, what="a term")
            problems += found
            if term is not None:
                if term.end < term.start:
                    problems.append(Problem(f"term {term.name!r} ends ({term.end}) before it starts ({term.start})", shown, locate((*where, "end")), dotted((*where, "end"))))
                    continue
                import datetime as dt

                terms.append(Term(term.name, term.start, term.end + dt.timedelta(days=1)))
                term_paths.setdefault(term.name, where)

    timezone = top.timezone if top else "UTC"
    try:
        Calendar(timezone)
    except PeriodError as exc:
        problems.append(Problem(str(exc), shown, locate(("timezone",)), "timezone"))
        timezone = "UTC"  # so that the terms are still checked
    try:
        calendar = Calendar(timezone, terms=terms, fiscal_year_start=cal_table.fiscal_year_start, fiscal_year_named_by=cal_table.fiscal_year_named_by)
    except PeriodError as exc:
        # Locate the last term the message names (the second of two overlapping terms).
        named = [path for name, path in term_paths.items() if repr(name) in str(exc)]
        key_path = named[-1] if named else ("calendar",)
        problems.append(Problem(str(exc), shown, locate(key_path), dotted(key_path)))
        calendar = Calendar(timezone)
    if top and top.as_of is not None:
        try:
            calendar.moment(top.as_of)
        except PeriodError as exc:
            problems.append(Problem(str(exc), shown, locate(("as_of",)), "as_of"))

    indicators: dict[str, Indicator] = {}
    raw_indicators = data.get("indicators", {})
    if not isinstance(raw_indicators, Mapping):
        problems.append(Problem("expected tables [indicators.NAME]", shown, locate(("indicators",)), "indicators"))
        raw_indicators = {}
    for name, raw_ind in raw_indicators.items():
        ind_where: KeyPath = ("indicators", name)
        if not isinstance(raw_ind, Mapping):
            problems.append(Problem("expected a table with title, unit, description", shown, locate(ind_where), dotted(ind_where)))
            continue
        info, found = parse(IndicatorTable, raw_ind, ctx, ind_where, what=f"indicator {name!r}")
        problems += found
        if info is not None:
            indicators[name] = Indicator(name, info.title, info.unit, info.description)

    base_dir = path.parent if path else Path.cwd()
    sources, found = _sources(data.get("sources", []), registry, ctx)
    problems += found
    alerting, found = alerting_from_mapping(data, registry, ctx, base_dir)
    problems += found
    if problems:
        raise ConfigError(problems)
    assert top is not None
    rule_paths = tuple(base_dir / p for p in top.rules)
    return Config(path, base_dir, rule_paths, calendar, indicators, tuple(sources), top.as_of, data, alerting)


def _sources(raw: Any, registry: Registry, ctx: ParseContext) -> tuple[list[SourceConfig], list[Problem]]:
    problems: list[Problem] = []
    out: list[SourceConfig] = []
    if isinstance(raw, Mapping):
        raw = [dict(v, name=k) if isinstance(v, Mapping) else v for k, v in raw.items()]
    if not isinstance(raw, list):
        return out, [Problem("expected an array of tables [[sources]]", ctx.file, ctx.locate(("sources",)), "sources")]
    types = registry.sources
    seen: set[str] = set()
    for index, table in enumerate(raw):
        where: tuple[str | int, ...] = ("sources", index)
        kind, params, found = parse_typed(table, types, ctx, where, category="source", ignore=("type", "name"))
        problems += found
        if kind is None:
            continue
        name = str(table.get("name") or f"{kind}-{index + 1}")
        if name in seen:
            problems.append(Problem(f"duplicate source name {name!r}", ctx.file, ctx.locate((*where, "name")), dotted((*where, "name"))))
        seen.add(name)
        if params is not None:
            out.append(SourceConfig(name, kind, params, ctx.locate(where)))
    return out, problems
