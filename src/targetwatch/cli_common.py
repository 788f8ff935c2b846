"""What the command-line modules share: the config option, the registry, loading the config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .config import Config
    from .plugins import Registry


config_option = click.option(
    "-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    envvar="TARGETWATCH_CONFIG", help="Config file (default: ./targetwatch.toml; env TARGETWATCH_CONFIG).",
)


def registry() -> Registry:
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


def load(path: Path | None, registry: Registry) -> Config:
    from .config import find_config, load_config
    from .errors import ConfigError

    if path is None:
        path = find_config()
        if path is None:
            raise ConfigError(f"no targetwatch.toml in {Path.cwd()}: pass --config PATH (or set TARGETWATCH_CONFIG)")
    config = load_config(path, registry)
    _apply_locale(config)
    return config


#: Set in the root context's ``meta`` when ``--locale`` was given: it outranks the config.
LOCALE_GIVEN = "targetwatch.locale_given"


def _apply_locale(config: Config) -> None:
    """The config's ``locale`` applies for the rest of the command, unless ``--locale`` was
    given; it is undone when the command ends (so one process may run many commands)."""
    from .i18n import use_locale

    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    name = config.raw.get("locale")
    if root is not None and isinstance(name, str) and not root.meta.get(LOCALE_GIVEN):
        root.with_resource(use_locale(name))


def plugin_failures(registry: Registry) -> None:
    for failure in registry.failures:
        click.echo(f"targetwatch: warning: {failure}", err=True)
