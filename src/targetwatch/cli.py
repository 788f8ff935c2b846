"""The ``targetwatch`` command: a thin layer over the library that wires, prints and maps
every outcome to a monitoring-plugins exit status (0 OK, 1 WARN, 2 BREACH, 3 UNKNOWN or any
error, usage errors included)."""

from __future__ import annotations

import codecs
import io
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

import click

from . import __version__
from .cli_common import config_option, load, plugin_failures
from .cli_common import registry as get_registry

if TYPE_CHECKING:
    from .config import Config

EXIT_UNKNOWN = 3


class EchoStream(io.TextIOBase):
    """Standard output as ``click.echo`` writes it, for an output format to write to piece by
    piece, flushed after each; colour codes kept when ``color`` asked for them (``--color``
    into a pipe), else removed when it is not a terminal."""

    def __init__(self, color: bool | None = None) -> None:
        super().__init__()
        self._color = color

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            click.echo(text, nl=False, color=self._color)
        return len(text)


def text_out() -> None:
    """Standard output that never fails on a Chinese name: to a file or a pipe UTF-8 whatever
    the locale says (JSON, CSV, JUnit XML and Markdown files are UTF-8, and Windows would write
    a redirect in its ANSI code page, GBK on Chinese Windows), unless ``PYTHONIOENCODING``
    names another encoding on purpose; to a terminal in its own encoding, with what it cannot
    show written as ``?``. The program's own entry point calls it, never a library import."""
    out = sys.stdout
    if not isinstance(out, io.TextIOWrapper):
        return
    try:
        if out.isatty():
            out.reconfigure(errors="replace")
        elif not os.environ.get("PYTHONIOENCODING") and codecs.lookup(out.encoding).name != "utf-8":
            out.reconfigure(encoding="utf-8")
    except (ValueError, OSError, LookupError):  # closed, detached, or an encoding Python lacks
        pass


class Group(click.Group):
    """A click group whose every error path exits 3: click's usage errors would exit 2 (which
    means BREACH to a monitor) and Python's uncaught exceptions 1."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        from .errors import ConfigError, TargetwatchError

        try:
            code = super().main(args, prog_name or "targetwatch", complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.ClickException as exc:
            exc.show()
            code = EXIT_UNKNOWN
        except click.Abort:
            click.echo("targetwatch: aborted", err=True)
            code = EXIT_UNKNOWN
        except ConfigError as exc:
            count = len(exc.problems)
            click.echo(f"targetwatch: {count} problem{'s' if count != 1 else ''} in the configuration or rules:", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            code = EXIT_UNKNOWN
        except TargetwatchError as exc:
            click.echo(f"targetwatch: error: {exc}", err=True)
            code = EXIT_UNKNOWN
        except Exception as exc:  # noqa: BLE001 - a bug still exits 3, with the details for a report
            click.echo(f"targetwatch: internal error: {type(exc).__name__}: {exc}", err=True)
            if os.environ.get("TARGETWATCH_DEBUG"):
                traceback.print_exc()
            else:
                click.echo("(set TARGETWATCH_DEBUG=1 for the traceback)", err=True)
            code = EXIT_UNKNOWN
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


def _locale_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from .i18n import UnknownLocaleError, normalize

    try:
        return None if value is None else normalize(value)
    except UnknownLocaleError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="targetwatch")
@click.option("-v", "--verbose", count=True, help="Log what happens to stderr (-v info, -vv debug).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), help="Log level for stderr (default: warning).")
@click.option("--locale", metavar="NAME", envvar="TARGETWATCH_LOCALE", callback=_locale_option, help="Language of the text for people: en or zh-CN (default: the config's locale, else en; env TARGETWATCH_LOCALE).")
@click.pass_context
def cli(ctx: click.Context, verbose: int, log_level: str | None, locale: str | None) -> None:
    """Track declared targets against time-series indicators.

    Exit status: 0 all OK, 1 worst is WARN, 2 any BREACH, 3 something could not be judged
    or the configuration, a rule file or a plugin is broken.
    """
    import logging

    level = log_level.upper() if log_level else ("DEBUG" if verbose > 1 else "INFO" if verbose == 1 else "WARNING")
    logging.basicConfig(stream=sys.stderr, level=level, format="targetwatch: %(levelname)s: %(name)s: %(message)s", force=True)
    if locale is not None:
        from .cli_common import LOCALE_GIVEN
        from .i18n import use_locale

        ctx.meta[LOCALE_GIVEN] = True
        ctx.with_resource(use_locale(locale))  # undone when the command ends


@cli.command()
@config_option
@click.option("--as-of", "as_of", metavar="WHEN", help="Judge as of this moment (2023-10-16 or 2023-10-16T09:00); default: the config's as_of, else now.")
@click.option("--rule", "rule_ids", multiple=True, metavar="ID", help="Only rules whose id matches (shell patterns allowed); repeatable.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only rules carrying this tag; repeatable.")
@click.option("-f", "--format", "fmt", default="table", show_default=True, metavar="NAME", help="Output format: table, json, csv, csv-excel, markdown, junit, or one a plugin provides.")
@click.option("--dry-run", is_flag=True, help="Evaluate and print only: change no state, send nothing.")
@click.option("-q", "--quiet", is_flag=True, help="Print only what is not OK (nothing when all is well).")
@click.option("--color/--no-color", default=None, help="Colour statuses (default: when writing to a terminal).")
@click.option("--wait", type=click.FloatRange(min=0), metavar="SECONDS", help="If another run holds the lock, wait up to this long instead of exiting 3.")
@click.option("--now", "now_text", metavar="WHEN", hidden=True, help="Pretend the wall clock says WHEN (repeat intervals, silences); for tests and replays.")
def check(config_path: Path | None, as_of: str | None, rule_ids: tuple[str, ...], tags: tuple[str, ...], fmt: str, dry_run: bool, quiet: bool, color: bool | None, wait: float | None, now_text: str | None) -> int:
    """Judge every target, update alert state, notify, print; exit with the status.

    Each non-OK target fires an alert (after its `for`), told to its channels once, again every
    `repeat`, and resolved when it recovers. Runs are serialised by a lock beside the state file.
    """
    import attrs

    from .engine import Engine
    from .errors import ConfigError, Problem
    from .output import OutputOptions

    registry = get_registry()
    plugin_failures(registry)
    outputs = registry.outputs
    if fmt not in outputs:
        raise click.UsageError(f"unknown --format {fmt!r}; expected one of {', '.join(sorted(outputs))}")
    config = load(config_path, registry)
    engine = Engine.from_config(config, registry=registry)
    rules = engine.select(rule_ids, tags)
    if not rules:
        wanted = " ".join([*(f"--rule {r}" for r in rule_ids), *(f"--tag {t}" for t in tags)])
        raise ConfigError(f"no enabled rule matches {wanted}" if wanted else "no enabled rules")
    from .alerting import Alerting

    alerting = Alerting(config.alerting, engine.rules, registry, base_dir=str(config.base_dir))
    now = config.calendar.moment(now_text) if now_text else _now(config)
    pings = config.alerting.pings
    # A progress line on stderr, for long runs on a terminal only: cron output stays clean.
    from .progress import TerminalProgress

    progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() and not quiet else None
    if progress is not None:
        click.get_current_context().call_on_close(progress.close)  # erased on errors too
    if dry_run:
        result = engine.check(as_of, rules=rules, progress=progress)
        if config.alerting.state_path.exists():
            result = alerting.mark_silenced(result, now)
    else:
        from .lock import run_lock
        from .pings import ping

        with run_lock(config.alerting.state_path.with_name("lock"), wait=wait):
            ping(pings.start, timeout=pings.timeout.total_seconds())
            try:
                result = engine.check(as_of, rules=rules, progress=progress)
                result = alerting.process(result, now, exclusive=True, evaluated=[r.id for r in rules], checkpoint=_checkpoint).result
            except BaseException:
                ping(pings.fail, timeout=pings.timeout.total_seconds(), body="targetwatch check failed")
                raise
    if progress is not None:
        progress.close()
    if registry.failures:
        result = attrs.evolve(result, problems=(*result.problems, *(Problem(str(f)) for f in registry.failures)))
    use_color = sys.stdout.isatty() if color is None else color
    options = OutputOptions(quiet=quiet, color=use_color, pretty=sys.stdout.isatty())
    outputs[fmt].write(result, options, cast(TextIO, EchoStream(color=use_color)))
    if not dry_run:
        summary = ", ".join(f"{n} {s}" for s, n in result.summary.items() if n)
        url = pings.fail if result.exit_code == 3 else pings.success
        ping(url, timeout=pings.timeout.total_seconds(), body=f"exit {result.exit_code}: {summary}")
    return result.exit_code


def _now(config: Config) -> Any:
    import datetime as dt

    return dt.datetime.now(config.calendar.tzinfo)


def _checkpoint(name: str) -> None:
    """Crash on purpose at a named point of a run, when TARGETWATCH_CRASH_AT names it: the
    crash tests use it to prove nothing is lost or doubled (SIGKILL, like a power cut)."""
    if os.environ.get("TARGETWATCH_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


@cli.command()
@config_option
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(path_type=Path), metavar="PATH", help="Rule files or folders to check instead of the config's; repeatable.")
def validate(config_path: Path | None, rule_paths: tuple[Path, ...]) -> int:
    """Check the config and rule files; list every problem; exit 3 if there is any."""
    from .config import find_config
    from .periods import Calendar
    from .rules import load_rules, rule_files

    registry = get_registry()
    plugin_failures(registry)
    if config_path is not None or find_config() is not None:
        config = load(config_path, registry)
        calendar, indicators = config.calendar, config.indicators
        paths: Sequence[Path] = rule_paths or config.rule_paths
    else:
        if not rule_paths:
            from .errors import ConfigError

            raise ConfigError(f"no targetwatch.toml in {Path.cwd()}: pass --config PATH or --rules PATH")
        calendar, indicators, paths = Calendar("UTC"), None, rule_paths
        click.echo("no config found: checking rules without the declared indicators and terms", err=True)
    rules = load_rules(paths, registry.kinds, calendar=calendar, indicators=indicators)
    files, _ = rule_files(paths)
    click.echo(f"OK: {len(rules)} rule{'s' if len(rules) != 1 else ''} in {len(files)} file{'s' if len(files) != 1 else ''}")
    return EXIT_UNKNOWN if registry.failures else 0


@cli.command()
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def plugins(fmt: str) -> int:
    """List every loaded plugin: where it comes from, its version and what it provides.

    Built-in plugins show targetwatch's version; a plugin that provides nothing is listed too.
    Exits 3 when a plugin failed to load (listed under its name).
    """
    registry = get_registry()
    infos = registry.plugins()

    def version(p: Any) -> str | None:
        return __version__ if p.origin == "built-in" else p.version

    if fmt == "json":
        doc = [
            {"name": p.name, "origin": p.origin, "version": version(p),
             "provides": [{"type": x.category, "name": x.name, "summary": x.summary} for x in p.provides]}
            for p in infos
        ]
        doc_failures = [str(f) for f in registry.failures]
        click.echo(json.dumps({"plugins": doc, "failures": doc_failures}, ensure_ascii=False, indent=2))
    else:
        from tabulate import tabulate

        rows = []
        for p in infos:
            for x in p.provides:
                rows.append([x.category, x.name, p.name, p.origin, version(p) or "—", x.summary])
            if not p.provides:
                rows.append(["—", "—", p.name, p.origin, version(p) or "—", "(provides nothing: no kind, source, notifier or output format)"])
        click.echo(tabulate(rows, headers=["TYPE", "NAME", "PLUGIN", "ORIGIN", "VERSION", "SUMMARY"], tablefmt="simple", disable_numparse=True))
        for failure in registry.failures:
            click.echo(f"failed: {failure}")
    return EXIT_UNKNOWN if registry.failures else 0


@cli.command()
@click.option("--kind", "kind_name", metavar="KIND", help="Only this kind's rule schema.")
def schema(kind_name: str | None) -> int:
    """Print the JSON Schema of rule files (for editor completion and checking)."""
    from .schema import rule_file_schema, rule_schema

    registry = get_registry()
    kinds = registry.kinds
    if kind_name is not None:
        if kind_name not in kinds:
            raise click.UsageError(f"unknown kind {kind_name!r}; expected one of {', '.join(sorted(kinds))}")
        doc = rule_schema(kinds[kind_name])
    else:
        doc = rule_file_schema(kinds)
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    return 0


@cli.command()
@click.option("--kind", "kind_name", metavar="KIND", help="Only this rule kind.")
def docs(kind_name: str | None) -> int:
    """Print the reference of rule keys, rule kinds and sources (Markdown), generated from
    the plugins' declarations."""
    from .docs import reference

    registry = get_registry()
    if kind_name is not None and kind_name not in registry.kinds:
        raise click.UsageError(f"unknown kind {kind_name!r}; expected one of {', '.join(sorted(registry.kinds))}")
    click.echo(reference(registry, kind=kind_name), nl=False)
    return 0


from .cli_explain import explain, history  # noqa: E402 - commands register on the group
from .cli_report import report  # noqa: E402
from .cli_state import outbox, silence, silences, status, unsilence  # noqa: E402

for _command in (silence, silences, unsilence, outbox, status, explain, history):
    cli.add_command(_command)
cli.add_command(report)

from .cli_init import init  # noqa: E402 - commands register on the group

cli.add_command(init)

from .cli_backtest import backtest  # noqa: E402 - commands register on the group

cli.add_command(backtest)


def main() -> NoReturn:
    """Console-script entry point."""
    text_out()
    cli.main(prog_name="targetwatch")
    raise SystemExit(0)  # pragma: no cover - cli.main always exits
