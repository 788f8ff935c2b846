"""The ``targetwatch`` command: a thin layer over the library that wires, prints and maps
every outcome to a monitoring-plugins exit status (0 OK, 1 WARN, 2 BREACH, 3 UNKNOWN or any
error, usage errors included)."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import __version__

if TYPE_CHECKING:
    from .config import Config
    from .plugins import Registry

EXIT_UNKNOWN = 3


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


config_option = click.option(
    "-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    envvar="TARGETWATCH_CONFIG", help="Config file (default: ./targetwatch.toml; env TARGETWATCH_CONFIG).",
)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="targetwatch")
def cli() -> None:
    """Track declared targets against time-series indicators.

    Exit status: 0 all OK, 1 worst is WARN, 2 any BREACH, 3 something could not be judged
    or the configuration, a rule file or a plugin is broken.
    """


def _registry() -> Registry:
    """The registry to use: one passed in as the click context object (tests, embedding
    programs that add their own plugins), else a new one with every installed plugin."""
    from .plugins import Registry

    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    if root is not None and isinstance(root.obj, Registry):
        return root.obj
    registry = Registry()
    if root is not None:
        root.obj = registry
    return registry


def _config(path: Path | None, registry: Registry) -> Config:
    from .config import find_config, load_config
    from .errors import ConfigError

    if path is None:
        path = find_config()
        if path is None:
            raise ConfigError(f"no targetwatch.toml in {Path.cwd()}: pass --config PATH (or set TARGETWATCH_CONFIG)")
    return load_config(path, registry)


def _plugin_failures(registry: Registry) -> None:
    for failure in registry.failures:
        click.echo(f"targetwatch: warning: {failure}", err=True)


@cli.command()
@config_option
@click.option("--as-of", "as_of", metavar="WHEN", help="Judge as of this moment (2023-10-16 or 2023-10-16T09:00); default: the config's as_of, else now.")
@click.option("--rule", "rule_ids", multiple=True, metavar="ID", help="Only rules whose id matches (shell patterns allowed); repeatable.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only rules carrying this tag; repeatable.")
@click.option("-f", "--format", "fmt", default="table", show_default=True, metavar="NAME", help="Output format: table, json, or one a plugin provides.")
@click.option("--dry-run", is_flag=True, help="Evaluate and print only: change no state, send nothing.")
@click.option("-q", "--quiet", is_flag=True, help="Print only what is not OK (nothing when all is well).")
@click.option("--color/--no-color", default=None, help="Colour statuses (default: when writing to a terminal).")
def check(config_path: Path | None, as_of: str | None, rule_ids: tuple[str, ...], tags: tuple[str, ...], fmt: str, dry_run: bool, quiet: bool, color: bool | None) -> int:
    """Judge every target as of a moment, print the verdicts, exit with their status."""
    from .engine import Engine
    from .errors import ConfigError
    from .output import OutputOptions

    registry = _registry()
    _plugin_failures(registry)
    outputs = registry.outputs
    if fmt not in outputs:
        raise click.UsageError(f"unknown --format {fmt!r}; expected one of {', '.join(sorted(outputs))}")
    config = _config(config_path, registry)
    engine = Engine.from_config(config, registry=registry)
    rules = engine.select(rule_ids, tags)
    if not rules:
        wanted = " ".join([*(f"--rule {r}" for r in rule_ids), *(f"--tag {t}" for t in tags)])
        raise ConfigError(f"no enabled rule matches {wanted}" if wanted else "no enabled rules")
    result = engine.check(as_of, rules=rules)
    if registry.failures:
        import attrs

        from .errors import Problem

        result = attrs.evolve(result, problems=(*result.problems, *(Problem(str(f)) for f in registry.failures)))
    use_color = sys.stdout.isatty() if color is None else color
    text = outputs[fmt].render(result, OutputOptions(quiet=quiet, color=use_color))
    if text:
        click.echo(text, nl=False)
    return result.exit_code


@cli.command()
@config_option
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(path_type=Path), metavar="PATH", help="Rule files or folders to check instead of the config's; repeatable.")
def validate(config_path: Path | None, rule_paths: tuple[Path, ...]) -> int:
    """Check the config and rule files; list every problem; exit 3 if there is any."""
    from .config import find_config
    from .periods import Calendar
    from .rules import load_rules, rule_files

    registry = _registry()
    _plugin_failures(registry)
    if config_path is not None or find_config() is not None:
        config = _config(config_path, registry)
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
    """List the loaded plugins and what each provides."""
    registry = _registry()
    infos = registry.plugins()
    if fmt == "json":
        doc = [
            {"name": p.name, "origin": p.origin, "version": p.version,
             "provides": [{"type": x.category, "name": x.name, "summary": x.summary} for x in p.provides]}
            for p in infos
        ]
        doc_failures = [str(f) for f in registry.failures]
        click.echo(json.dumps({"plugins": doc, "failures": doc_failures}, ensure_ascii=False, indent=2))
    else:
        from tabulate import tabulate

        rows = []
        for p in infos:
            for x in p.provides or ():
                rows.append([x.category, x.name, p.name, p.origin + (f" {p.version}" if p.version else ""), x.summary])
        click.echo(tabulate(rows, headers=["TYPE", "NAME", "PLUGIN", "ORIGIN", "SUMMARY"], tablefmt="simple"))
        for failure in registry.failures:
            click.echo(f"failed: {failure}")
    return EXIT_UNKNOWN if registry.failures else 0


@cli.command()
@click.option("--kind", "kind_name", metavar="KIND", help="Only this kind's rule schema.")
def schema(kind_name: str | None) -> int:
    """Print the JSON Schema of rule files (for editor completion and checking)."""
    from .schema import rule_file_schema, rule_schema

    registry = _registry()
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

    registry = _registry()
    if kind_name is not None and kind_name not in registry.kinds:
        raise click.UsageError(f"unknown kind {kind_name!r}; expected one of {', '.join(sorted(registry.kinds))}")
    click.echo(reference(registry, kind=kind_name), nl=False)
    return 0


def main() -> NoReturn:
    """Console-script entry point."""
    cli.main(prog_name="targetwatch")
    raise SystemExit(0)  # pragma: no cover - cli.main always exits
