"""Rule files: many rules per TOML or YAML file, folders of files, every problem reported.

A TOML file holds ``[[rule]]`` tables; a YAML file a ``rules:`` list (or a bare list). An
optional ``[defaults]`` table gives keys every rule in the file inherits (a rule's own keys
win). A rule's keys are the common ones below plus its kind's parameters, side by side.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from . import templates
from .alertconfig import RuleAlerting
from .errors import ConfigError, Problem
from .locate import KeyPath, Locator, load_file, substitute_env
from .model import LabelSelector, Rule
from .params import Choice, Flag, ListOf, ParseContext, Selector, Text, dotted, param, parse, specs

if TYPE_CHECKING:
    from .kind import RuleKind
    from .periods import Calendar

RULE_SUFFIXES: Final = (".toml", ".yaml", ".yml")
SEVERITIES: Final = ("critical", "warning", "info")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")


@attrs.frozen
class Common:
    """The keys every rule has, whatever its kind."""

    id: str = param(Text(), doc="Unique id of the rule (letters, digits, '.', '_', '-', ':', '/'), used by --rule and in state.")
    kind: str = param(Text(), doc="The rule kind: what the rule checks (see the kinds below).")
    title: str | None = param(Text(), doc="What the target is, for people, in any language. Default: the id.", default=None)
    severity: str = param(Choice(*SEVERITIES), doc="How serious a miss is; used to route notifications.", default="critical")
    labels: LabelSelector = param(Selector(), doc="Which series of the indicator the rule watches, by label; default all (one verdict per series).", default=LabelSelector())
    tags: tuple[str, ...] = param(ListOf(Text()), doc="Free-form tags, for --tag and for grouping in reports.", default=())
    message: str | None = param(Text(), doc="A message template: {value}, {target}, {margin}, {period}, {title}, {label.NAME} and the kind's details.", default=None)
    description: str | None = param(Text(), doc="Longer explanation: where the target comes from.", default=None)
    enabled: bool = param(Flag(), doc="Set to false to keep a rule in the file without checking it.", default=True)


ALERTING_KEYS: Final = tuple(specs(RuleAlerting))
COMMON_KEYS: Final = (*specs(Common), *ALERTING_KEYS)


def rule_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """Expand files and folders (recursively, sorted) into rule files; missing paths are problems."""
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file() and not p.name.startswith("."))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem("no such rule file or folder", str(path)))
    return files, problems


def load_rules(
    paths: Iterable[str | Path],
    kinds: Mapping[str, RuleKind],
    *,
    calendar: Calendar | None = None,
    indicators: Collection[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[Rule, ...]:
    """Load every rule in ``paths``; raise :class:`ConfigError` listing all problems in all files.

    ``indicators``, when given, is the set of declared indicators a rule may reference.
    """
    files, problems = rule_files(paths)
    env_map = dict(os.environ if env is None else env)
    rules: list[Rule] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(f"cannot read the rule file: {exc}", str(file)))
            continue
        try:
            data, locate = load_file(str(file), text)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        found_rules, found = rules_from_data(data, kinds, file=str(file), locate=locate, calendar=calendar, indicators=indicators, env=env_map)
        rules += found_rules
        problems += found
    problems += _duplicates(rules)
    if problems:
        raise ConfigError(problems)
    return tuple(r for r in rules if r.params is not None)


def rules_from_data(
    data: Any,
    kinds: Mapping[str, RuleKind],
    *,
    file: str | None = None,
    locate: Locator = lambda p: None,
    calendar: Calendar | None = None,
    indicators: Collection[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[list[Rule], list[Problem]]:
    """Rules from one parsed file (a mapping with ``rule``/``rules``, or a list of rules)."""
    problems: list[Problem] = []

    def problem(path: KeyPath, message: str) -> None:
        problems.append(Problem(message, file, locate(path), dotted(path)))

    key = "rule"
    defaults: Mapping[str, Any] = {}
    if isinstance(data, list):
        items: Any = data
        key = ""
    elif isinstance(data, Mapping):
        unknown = [k for k in data if k not in ("rule", "rules", "defaults")]
        for k in unknown:
            problem((k,), f"unknown top-level key {k!r}; expected 'rule' (TOML [[rule]]), 'rules' or 'defaults'")
        key = "rules" if "rules" in data else "rule"
        items = data.get(key, [])
        defaults = data.get("defaults", {})
        if not isinstance(defaults, Mapping):
            problem(("defaults",), "expected a table of keys every rule inherits")
            defaults = {}
    else:
        problem((), "expected a list of rules or a table with [[rule]] entries")
        return [], problems
    if not isinstance(items, list):
        problem((key,), "expected a list of rules")
        return [], problems
    if not items and not problems:
        problem((), "the file holds no rules")

    ctx = ParseContext(file=file, locate=locate, calendar=calendar, indicators=indicators)
    rules: list[Rule] = []
    for index, raw in enumerate(items):
        path: KeyPath = (key, index) if key else (index,)
        if not isinstance(raw, Mapping):
            problem(path, "expected a table of rule keys")
            continue
        merged = {**defaults, **raw}
        merged, missing = substitute_env(merged, dict(env or {}), path)
        for where, name in missing:
            problem(where, f"environment variable {name!r} is not set")
        rule, found = _one_rule(merged, kinds, ctx, path)
        problems += found
        if rule is not None:
            rules.append(rule)
    return rules, problems


def _one_rule(raw: Mapping[str, Any], kinds: Mapping[str, RuleKind], ctx: ParseContext, path: KeyPath) -> tuple[Rule | None, list[Problem]]:
    kind_name = raw.get("kind")
    kind = kinds.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        import difflib

        where = (*path, "kind")
        if kind_name is None:
            message = f"missing required key 'kind': expected one of {', '.join(sorted(kinds))}"
        else:
            close = difflib.get_close_matches(str(kind_name), list(kinds), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            message = f"unknown rule kind {kind_name!r}{hint}; expected one of {', '.join(sorted(kinds))}"
        rule_id = raw.get("id")
        prefix = f"rule {rule_id!r}: " if isinstance(rule_id, str) else ""
        return None, [Problem(prefix + message, ctx.file, ctx.locate(where), dotted(where))]

    common_raw = {k: v for k, v in raw.items() if k in COMMON_KEYS and k not in ALERTING_KEYS}
    alerting_raw = {k: v for k, v in raw.items() if k in ALERTING_KEYS}
    kind_raw = {k: v for k, v in raw.items() if k not in COMMON_KEYS}
    common, problems = parse(Common, common_raw, ctx, path, what="a rule")
    alerting, found = parse(RuleAlerting, alerting_raw, ctx, path, what="a rule")
    problems += found
    params, found = parse(kind.Params, kind_raw, ctx, path, what=f"a {kind.name} rule", ignore=COMMON_KEYS)
    problems += found
    if common is not None:
        if not _ID.match(common.id):
            problems.append(Problem(f"expected an id of letters, digits, '.', '_', '-', ':' or '/', found {common.id!r}", ctx.file, ctx.locate((*path, "id")), dotted((*path, "id"))))
        if common.message is not None:
            for text in templates.check(common.message):
                problems.append(Problem(text, ctx.file, ctx.locate((*path, "message")), dotted((*path, "message"))))
    rule_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    if rule_id:
        problems = [attrs.evolve(p, message=f"rule {rule_id!r}: {p.message}") for p in problems]
    if problems or common is None or params is None:
        return None, problems
    return Rule(
        id=common.id,
        title=common.title or common.id,
        kind=kind.name,
        params=params,
        indicators=kind.indicators(params),
        selector=common.labels,
        severity=common.severity,
        tags=common.tags,
        message=common.message,
        description=common.description,
        file=ctx.file,
        line=ctx.locate(path),
        enabled=common.enabled,
        alerting=alerting if alerting_raw else None,
    ), []


def _duplicates(rules: list[Rule]) -> list[Problem]:
    seen: dict[str, Rule] = {}
    problems = []
    for rule in rules:
        first = seen.get(rule.id)
        if first is not None:
            where = f"{first.file}:{first.line}" if first.line else str(first.file)
            problems.append(Problem(f"duplicate rule id {rule.id!r} (first defined at {where})", rule.file, rule.line, "id"))
        else:
            seen[rule.id] = rule
    return problems
