"""Helpers for testing targetwatch plugins (and targetwatch itself) without files or servers.

A plugin's tests usually need four things, all here:

- a fresh registry holding the built-ins and the plugin under test, and nothing that happens
  to be installed: :func:`make_registry`;
- a series from a few ``(period, value)`` rows: :func:`series`;
- one kind judged directly on such rows as of a moment: :func:`judge`;
- a whole rule file run through the engine against in-memory rows: :func:`check` (and
  :func:`rules_from` for the rules alone).

Everything runs exactly as in production: rule text is parsed and validated by the same code
as rule files (a mistake raises :class:`~targetwatch.errors.ConfigError` listing every
problem), observations are cut to what was visible at ``as_of``, and kinds evaluate in the
engine's exact decimal context through :meth:`~targetwatch.kind.RuleKind.evaluate_batch`.

For pytest, the ``targetwatch_registry`` fixture gives a fresh registry per test. Enable it
with ``pytest_plugins = ["targetwatch.testing"]`` in your rootdir ``conftest.py`` (pytest
honours ``pytest_plugins`` only there), or import the fixture into any ``conftest.py``:
``from targetwatch.testing import targetwatch_registry``. Importing this module does not
need pytest.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from .data import Dataset
from .engine import CheckResult, Engine
from .errors import ConfigError, Problem
from .kind import EvalContext, RuleKind
from .locate import load_toml, load_yaml
from .model import Indicator, Judgement, Rule, Series, make_labels
from .numbers import exact_context, parse_number
from .params import ParseContext, parse
from .periods import Calendar
from .plugins import Registry
from .rules import rules_from_data

__all__ = ["Row", "check", "judge", "make_registry", "make_rule", "rules_from", "series"]

#: One observation for :func:`series` and :func:`judge`: ``(period label, value)``; the value
#: as a number or as text a data file could hold (``"4.2%"``, ``"17,192"``, ``"5万"``).
Row = tuple[str, Any]
IndicatorsArg = Mapping[str, Indicator | Mapping[str, Any] | str | None]


def make_registry(*plugins: object, defaults: bool = True) -> Registry:
    """A fresh registry with ``plugins`` registered (modules or objects with ``@hookimpl``
    functions), plus the built-ins unless ``defaults=False``.

    Installed third-party plugins are never loaded, so a test sees exactly what it asks for.
    A plugin whose registration fails (a duplicate name, a wrong type) raises
    :class:`~targetwatch.errors.PluginError` from this call, naming the plugin.
    """
    registry = Registry(defaults=defaults, entry_points=False)
    for plugin in plugins:
        registry.register(plugin)
    registry.kinds  # noqa: B018 - collect now, so a failing registration fails here
    return registry


def series(
    indicator: str,
    rows: Iterable[Row],
    labels: Mapping[str, object] | None = None,
    calendar: Calendar | None = None,
) -> Series:
    """A series of ``indicator`` from ``(period label, value)`` rows, sorted as the engine
    sorts them. Periods are parsed by ``calendar`` (default UTC, no terms), values as in data
    files; a bad period or value raises ``ValueError``."""
    cal = calendar or Calendar("UTC")
    obs = sorted((cal.parse(period), parse_number(value)) for period, value in rows)
    return Series(indicator, make_labels(labels or {}), tuple(p for p, _ in obs), tuple(Decimal(v) for _, v in obs))


def rules_from(
    text_or_mapping: str | Mapping[str, Any] | Sequence[Mapping[str, Any]],
    registry: Registry,
    fmt: str = "toml",
    *,
    calendar: Calendar | None = None,
    indicators: Iterable[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[Rule, ...]:
    """The rules in a rule file's text (``fmt`` ``"toml"`` or ``"yaml"``) or in its parsed
    form (a mapping with ``rule``/``rules``, or a list of rule tables), validated against
    ``registry``'s kinds exactly as rule files are.

    ``${NAME}`` is substituted from ``env`` (default ``os.environ``). ``indicators``, when
    given, are the declared indicator names a rule may reference. Raises
    :class:`~targetwatch.errors.ConfigError` listing every problem (its ``problems`` carry
    the line and key), never returns a partial list.
    """
    file = f"<rules.{fmt}>"
    data: Any = text_or_mapping
    locate: Any = _no_lines  # parsed data has no lines
    if isinstance(text_or_mapping, str):
        if fmt == "toml":
            data, locate = load_toml(file, text_or_mapping)
        elif fmt in ("yaml", "yml"):
            data, locate = load_yaml(file, text_or_mapping)
        else:
            raise ValueError(f"fmt: expected 'toml' or 'yaml', found {fmt!r}")
    elif not isinstance(text_or_mapping, (Mapping, list, tuple)):
        raise TypeError(f"expected rule text, a mapping or a list of rules, found {type(text_or_mapping).__name__}")
    if isinstance(data, tuple):
        data = list(data)
    rules, problems = rules_from_data(
        data,
        registry.kinds,
        file=file,
        locate=locate,
        calendar=calendar,
        indicators=None if indicators is None else set(indicators),
        env=dict(os.environ if env is None else env),
    )
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            problems.append(Problem(f"duplicate rule id {rule.id!r}", file, rule.line, "id"))
        seen[rule.id] = rule
    if problems:
        raise ConfigError(problems)
    return tuple(rules)


def check(
    rules_text: str | Mapping[str, Any] | Sequence[Mapping[str, Any]],
    rows: Iterable[Mapping[str, Any]],
    as_of: str | dt.datetime | dt.date,
    *,
    registry: Registry | None = None,
    timezone: str = "UTC",
    indicators: IndicatorsArg | None = None,
    calendar: Calendar | None = None,
    fmt: str = "toml",
) -> CheckResult:
    """Run a rule file (text or parsed, see :func:`rules_from`) against in-memory ``rows``
    (mappings with ``indicator``, ``period``, ``value`` and labels) as of ``as_of``.

    ``registry`` defaults to :func:`make_registry` (the built-ins only). ``indicators`` maps
    declared indicator names to an :class:`~targetwatch.model.Indicator`, a mapping of its
    fields (``{"unit": "%", "title": ...}``), a unit string, or ``None``; when given, rules
    may only reference these. ``calendar`` replaces ``Calendar(timezone)`` (for terms or
    fiscal years). Disabled rules are skipped, as ``targetwatch check`` skips them. Returns the
    :class:`~targetwatch.engine.CheckResult` (verdicts, ``summary``, ``exit_code``,
    ``problems`` such as a bad row).
    """
    registry = registry or make_registry()
    cal = calendar or Calendar(timezone)
    declared = None if indicators is None else _indicators(indicators)
    rules = rules_from(rules_text, registry, fmt, calendar=cal, indicators=None if declared is None else declared.keys())
    engine = Engine(rules, {"rows": list(rows)}, calendar=cal, indicators=declared, registry=registry)
    return engine.check(as_of)


def make_rule(kind: RuleKind, params: Mapping[str, Any], calendar: Calendar | None = None, rule_id: str = "r1") -> Rule:
    """A rule of ``kind`` from raw parameters as a rule file gives them (``{"indicator": "x",
    "min": "95%"}``); invalid parameters raise :class:`~targetwatch.errors.ConfigError`."""
    parsed, problems = parse(kind.Params, params, ParseContext(file=f"<{kind.name} params>", calendar=calendar or Calendar("UTC")), what=f"a {kind.name} rule")
    if problems or parsed is None:
        raise ConfigError(problems)
    return Rule(rule_id, rule_id, kind.name, parsed, kind.indicators(parsed))


def judge(
    kind_or_name: RuleKind | str,
    params: Mapping[str, Any],
    rows: Iterable[Row],
    as_of: str | dt.datetime | dt.date,
    *,
    registry: Registry | None = None,
    calendar: Calendar | None = None,
    labels: Mapping[str, object] | None = None,
    others: Sequence[Series] = (),
    units: Mapping[str, str] | None = None,
) -> Judgement:
    """Judge ``rows`` (a series of the rule's first indicator) with one kind, as of ``as_of``.

    ``kind_or_name`` is a kind instance or a kind's name looked up in ``registry`` (default
    :func:`make_registry`). ``params`` are raw, as a rule file gives them, and are validated.
    ``others`` are further series the kind may consult through ``ctx.data`` (a denominator,
    peers); ``units`` declares indicators' units (``{"x": "%"}``). Observations whose period
    starts after ``as_of`` are cut off, as the engine does. Returns the kind's
    :class:`~targetwatch.model.Judgement` (not a verdict: no rule metadata or templates).
    """
    if isinstance(kind_or_name, str):
        kinds = (registry or make_registry()).kinds
        if kind_or_name not in kinds:
            raise KeyError(f"no rule kind {kind_or_name!r}; registered: {', '.join(sorted(kinds))}")
        kind = kinds[kind_or_name]
    else:
        kind = kind_or_name
    cal = calendar or Calendar("UTC")
    rule = make_rule(kind, params, cal)
    moment = _moment(cal, as_of)
    own = series(rule.indicator, rows, labels, cal)
    data = Dataset([own, *others]).visible(moment.date())
    visible = data.get(own.indicator, own.labels)
    assert visible is not None  # it was just put there
    infos = {name: Indicator(name, unit=unit) for name, unit in (units or {}).items()}
    ctx = EvalContext(moment, cal, data, infos)
    with decimal.localcontext(exact_context()):
        found = kind.evaluate_batch(rule, [visible], ctx)
    if len(found) != 1 or not isinstance(found[0], Judgement):
        raise TypeError(f"kind {kind.name!r} returned {found!r} for one series; expected a list of one Judgement")
    return found[0]


def _moment(cal: Calendar, as_of: str | dt.datetime | dt.date) -> dt.datetime:
    if isinstance(as_of, str):
        return cal.moment(as_of)
    if not isinstance(as_of, dt.datetime):
        as_of = dt.datetime.combine(as_of, dt.time())
    return cal.localize(as_of)


def _indicators(raw: IndicatorsArg) -> dict[str, Indicator]:
    out: dict[str, Indicator] = {}
    for name, info in raw.items():
        if isinstance(info, Indicator):
            out[name] = info
        elif info is None:
            out[name] = Indicator(name)
        elif isinstance(info, str):
            out[name] = Indicator(name, unit=info)
        else:
            out[name] = Indicator(name, **dict(info))
    return out


try:
    import pytest
except ImportError:  # pragma: no cover - the helpers above work without pytest
    pass
else:

    @pytest.fixture
    def targetwatch_registry() -> Registry:
        """A fresh registry with the built-in plugins and no installed ones; register the
        plugin under test with ``targetwatch_registry.register(module)``."""
        return make_registry()


def _no_lines(path: object) -> None:
    """Where a key of parsed data was written: nowhere (it has no lines)."""
    return None
