"""``targetwatch backtest``: what the rules would have said, and who would have been told,
had ``check`` run at every step of a past range. Loads the data once, replays in memory
(:mod:`targetwatch.backtest`), sends nothing and writes no state."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .cli_common import config_option, load, plugin_failures
from .cli_common import registry as get_registry

if TYPE_CHECKING:
    from .backtest import Timeline
    from .model import Labels

#: A replay longer than this shows a progress bar (on a terminal, without --quiet).
PROGRESS_FROM = 50
#: The version of the ``--format json`` document.
JSON_VERSION = 1
EXIT_ERROR = 3


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"expected a date such as 2023-01-01, found {value!r}", param_hint=option) from None


@click.command()
@config_option
@click.option("--from", "start_text", required=True, metavar="DATE", help="The first day of the replay (2023-01-01).")
@click.option("--to", "end_text", required=True, metavar="DATE", help="The last day of the replay, inclusive.")
@click.option("--every", type=click.Choice(["day", "week", "month"]), default="day", show_default=True,
              help="Step at 00:00 local time of every day, every Monday, or every first of the month.")
@click.option("--rule", "rule_ids", multiple=True, metavar="ID", help="Only rules whose id matches (shell patterns allowed); repeatable.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only rules carrying this tag; repeatable.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def backtest(config_path: Path | None, start_text: str, end_text: str, every: str, rule_ids: tuple[str, ...], tags: tuple[str, ...], fmt: str, quiet: bool) -> int:
    """Replay the rules as of each step of a past range, through the same alert policy as
    `check`, and print when each target first warned or breached, every status change, and
    the notifications that would have gone out.

    Each step sees only the data available then: a figure from its reported_at moment when
    the source has one, else from the start of its period (or its end, with
    available = "period_end"), exactly as `check --as-of STEP`. Sends nothing, writes no
    state. Exit status 0 when the replay ran (it is a report, not a check); 3 on errors,
    a source that failed or a skipped bad row included.
    """
    from .alerting import Alerting
    from .backtest import StepsError, replay, steps
    from .engine import Engine
    from .errors import ConfigError, Problem
    from .plugins import provided_by
    from .source import SourceRequest
    from .state import StateStore

    start, end = _date(start_text, "--from"), _date(end_text, "--to")
    registry = get_registry()
    plugin_failures(registry)
    config = load(config_path, registry)
    engine = Engine.from_config(config, registry=registry)
    rules = engine.select(rule_ids, tags)
    if not rules:
        wanted = " ".join([*(f"--rule {r}" for r in rule_ids), *(f"--tag {t}" for t in tags)])
        raise ConfigError(f"no enabled rule matches {wanted}" if wanted else "no enabled rules")
    try:
        moments = steps(start, end, every, config.calendar)
    except StepsError as exc:
        raise click.UsageError(str(exc)) from None
    # All of the history, once: each step cuts it to what was available then.
    needed = frozenset(name for rule in rules for name in rule.indicators)
    data, problems = engine.load(SourceRequest(indicators=needed))
    problems += [Problem(str(f)) for f in registry.failures]
    alerting = Alerting(config.alerting, engine.rules, registry, base_dir=str(config.base_dir), store=StateStore.memory())

    def plugin_of(kind: str) -> str | None:
        return provided_by(registry, "kind", kind)

    bar = sys.stderr.isatty() and len(moments) > PROGRESS_FROM and not quiet
    if bar:
        with click.progressbar(moments, file=sys.stderr, label=f"replaying {len(moments)} steps") as shown:
            timeline = replay(rules, data, shown, config.calendar, registry.kinds, engine.indicators, tracker=alerting.tracker(), plugin_of=plugin_of)
    else:
        timeline = replay(rules, data, moments, config.calendar, registry.kinds, engine.indicators, tracker=alerting.tracker(), plugin_of=plugin_of)
    head = {"from": start.isoformat(), "to": end.isoformat(), "every": every, "rules": [r.id for r in rules]}
    texts = [str(p) for p in problems]
    if fmt == "json":
        click.echo(json.dumps(timeline_json(timeline, head, texts), ensure_ascii=False, indent=2))
    else:
        click.echo(timeline_text(timeline, head, markdown=fmt == "markdown"), nl=False)
        for text in texts:
            click.echo(f"targetwatch: problem: {text}", err=True)
    return EXIT_ERROR if problems else 0


def _series(labels: Labels) -> str:
    return ",".join(f"{k}={v}" for k, v in labels)


def _day(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.date().isoformat()


def timeline_json(timeline: Timeline, head: dict[str, Any], problems: Sequence[str]) -> dict[str, Any]:
    """The ``--format json`` document (``version`` 1): the range, the steps, when each rule
    on each series first warned and breached, every status change (the first step gives each
    series its starting status, ``from`` null), every notification, and the problems."""
    return {
        "version": JSON_VERSION,
        **head,
        "steps": [s.isoformat() for s in timeline.steps],
        "first_off": [
            {"rule": f.rule, "series": _series(f.labels), "labels": dict(f.labels), "first_warn": _day(f.first_warn),
             "first_breach": _day(f.first_breach), "final": f.final.value}
            for f in timeline.firsts
        ],
        "changes": [
            {"at": c.at.isoformat(), "rule": c.rule, "series": _series(c.labels), "labels": dict(c.labels),
             "from": c.before.value if c.before else None, "to": c.after.value,
             "value": None if c.value is None else str(c.value), "target": None if c.target is None else str(c.target),
             "unit": c.unit, "period": c.period, "message": c.message}
            for c in timeline.changes
        ],
        "notifications": [
            {"at": n.at.isoformat(), "channel": n.channel, "event": n.kind.value, "rule": n.rule,
             "series": _series(n.labels), "labels": dict(n.labels), "status": n.status.value}
            for n in timeline.notices
        ],
        "problems": list(problems),
    }


def timeline_text(timeline: Timeline, head: dict[str, Any], *, markdown: bool) -> str:
    """The table (or, with ``markdown``, GitHub Markdown) report of a replay."""
    from tabulate import tabulate

    from .numbers import format_number

    fmt = "github" if markdown else "simple"
    widths: dict[str, Any] = {} if markdown else {"maxcolwidths": [None, 32, 24, None, None, 60]}
    count = len(timeline.steps)
    title = f"backtest {head['from']} to {head['to']}, every {head['every']}: {count} step{'s' if count != 1 else ''}, {len(head['rules'])} rule{'s' if len(head['rules']) != 1 else ''}"

    def section(name: str) -> list[str]:
        return ["", f"## {name}", ""] if markdown else ["", name]

    lines = [f"# {title}" if markdown else title]
    lines += section("When each target first left OK")
    firsts = [[f.rule, _series(f.labels) or "—", _day(f.first_warn) or "never", _day(f.first_breach) or "never", f.final.value] for f in timeline.firsts]
    lines += tabulate(firsts, headers=["RULE", "SERIES", "FIRST WARN", "FIRST BREACH", "AT THE END"], tablefmt=fmt, disable_numparse=True).splitlines()
    lines += section("Status changes")
    changes = [
        [_day(c.at), c.rule, _series(c.labels) or "—", f"{c.before.value if c.before else 'start'} → {c.after.value}",
         format_number(c.value, c.unit), _cell(c.message, markdown)]
        for c in timeline.changes
    ]
    lines += tabulate(changes, headers=["DATE", "RULE", "SERIES", "CHANGE", "VALUE", "MESSAGE"], tablefmt=fmt, disable_numparse=True, **widths).splitlines()
    lines += section("Notifications that would have gone out")
    if timeline.notices:
        # One row per event, naming every channel it would have reached.
        grouped: dict[tuple[str | None, str, str, str, str], list[str]] = {}
        for n in timeline.notices:
            grouped.setdefault((_day(n.at), n.kind.value, n.rule, _series(n.labels) or "—", n.status.value), []).append(n.channel)
        notices = [[at, ", ".join(channels), kind, rule, series, status] for (at, kind, rule, series, status), channels in grouped.items()]
        lines += tabulate(notices, headers=["DATE", "CHANNELS", "EVENT", "RULE", "SERIES", "STATUS"], tablefmt=fmt, disable_numparse=True).splitlines()
    else:
        lines.append("none")
    return "\n".join(lines) + "\n"


def _cell(text: str, markdown: bool) -> str:
    """A message as one table cell (a pipe would end a Markdown cell)."""
    text = " ".join(text.split())
    return text.replace("|", "\\|") if markdown else text


__all__ = ["backtest", "timeline_json", "timeline_text"]
