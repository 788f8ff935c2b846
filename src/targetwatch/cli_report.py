"""``targetwatch report``: the period scorecard as one self-contained HTML page or Markdown."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from .cli_common import config_option, load, plugin_failures
from .cli_common import registry as get_registry

FORMATS = ("html", "markdown")


@click.command()
@config_option
@click.option("--period", "period_text", required=True, metavar="PERIOD", help="The period reported on: 2023-H2, 2023, 2023-Q3, a term name, or 'previous half'.")
@click.option("--as-of", "as_of", metavar="WHEN", help="Judge an open period as of this moment (default: the config's as_of, else now). A closed period is judged as of its end.")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), help="html (one self-contained page) or markdown; default: markdown when -o ends in .md, else html.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), metavar="FILE", help="Write the report to FILE (a note goes to stderr) instead of stdout.")
@click.option("--rule", "rule_ids", multiple=True, metavar="ID", help="Only rules whose id matches (shell patterns allowed); repeatable.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only rules carrying this tag; repeatable.")
@click.option("--title", metavar="TEXT", help="The report's heading (default: 'Targets scorecard PERIOD').")
def report(config_path: Path | None, period_text: str, as_of: str | None, fmt: str | None, output: Path | None, rule_ids: tuple[str, ...], tags: tuple[str, ...], title: str | None) -> int:
    """Write the scorecard of a period: every target, grouped by tag, with its status, value
    against target, margin, the reason and a chart.

    Exit status: 0 when the report was written (its targets' statuses are in it, not in the
    exit status), 3 when something could not be read or the input is wrong.
    """
    import attrs

    from .engine import Engine
    from .errors import ConfigError, PeriodError, Problem
    from .report import Basis, build_report, judging_moment
    from .source import SourceRequest

    registry = get_registry()
    plugin_failures(registry)
    config = load(config_path, registry)
    engine = Engine.from_config(config, registry=registry)
    requested = engine.moment(as_of)
    basis: Basis = "option" if as_of is not None else "config" if engine.default_as_of is not None else "now"
    try:
        period = config.calendar.resolve(period_text, requested)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    moment, _ = judging_moment(period, requested, config.calendar)
    rules = engine.select(rule_ids, tags)
    if not rules:
        wanted = " ".join([*(f"--rule {r}" for r in rule_ids), *(f"--tag {t}" for t in tags)])
        raise ConfigError(f"no enabled rule matches {wanted}" if wanted else "no enabled rules")
    # The whole history of every indicator read, not only what the verdicts need: the charts
    # show a judged period beside its base and the observations before it.
    indicators = frozenset(name for rule in rules for name in rule.indicators)
    data, problems = engine.load(SourceRequest(indicators, moment.date()))
    result = engine.check(moment, rules=rules, data=data)
    problems += [Problem(str(f)) for f in registry.failures]
    result = attrs.evolve(result, problems=(*result.problems, *problems))
    origin = _shown_path(config.path) if config.path else None
    doc = build_report(engine, data, result, period, requested=requested, basis=basis, title=title, origin=origin)
    fmt = fmt or ("markdown" if output is not None and output.suffix.lower() in (".md", ".markdown") else "html")
    if fmt == "html":
        from .report.html import render_html

        text = render_html(doc)
    else:
        from .report.markdown import render_markdown

        text = render_markdown(doc)
    if output is None:
        click.echo(text, nl=False)
    else:
        _write(output, text)
        click.echo(f"targetwatch: wrote {output} ({fmt}, {doc.period} as of {doc.as_of:%Y-%m-%d %H:%M}: {doc.summary_text})", err=True)
    return 3 if result.problems else 0


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _write(path: Path, text: str) -> None:
    """Write ``text`` whole or not at all: a reader never sees half a report."""
    from .errors import TargetwatchError

    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise TargetwatchError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise TargetwatchError(f"cannot write {path}: {exc.strerror or exc}") from None


__all__ = ["report"]
