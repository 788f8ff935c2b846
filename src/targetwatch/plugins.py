"""Finding, loading and registering plugins.

Built-in plugins are registered through the same hooks as third-party ones. Third-party
plugins are found in the ``targetwatch`` entry-point group and imported only when the
registry is first used (importing :mod:`targetwatch` runs no plugin code). Set
``TARGETWATCH_PLUGINS=name1,name2`` to load only those entry points (empty: none).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterable
from importlib import metadata
from typing import Any, Final

import attrs
import pluggy

from . import hookspecs
from .errors import PluginError
from .kind import RuleKind
from .notify import NotifierType
from .output import OutputFormat
from .source import SourceType

ENTRY_POINT_GROUP: Final = "targetwatch"
ENV_VAR: Final = "TARGETWATCH_PLUGINS"

DEFAULT_PLUGINS: Final = (
    "targetwatch.default_plugins.threshold",
    "targetwatch.default_plugins.minimum",
    "targetwatch.default_plugins.growth",
    "targetwatch.default_plugins.coverage",
    "targetwatch.default_plugins.progress",
    "targetwatch.default_plugins.milestone",
    "targetwatch.default_plugins.peers",
    "targetwatch.default_plugins.freshness",
    "targetwatch.default_plugins.csv_source",
    "targetwatch.default_plugins.json_source",
    "targetwatch.default_plugins.sqlite_source",
    "targetwatch.default_plugins.parquet_source",
    "targetwatch.default_plugins.http_source",
    "targetwatch.default_plugins.outputs",
    "targetwatch.default_plugins.console_channel",
    "targetwatch.default_plugins.file_channel",
    "targetwatch.default_plugins.email_channel",
    "targetwatch.default_plugins.webhook_channel",
    "targetwatch.default_plugins.markdown_output",
    "targetwatch.default_plugins.junit_output",
)

_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")


@attrs.frozen
class Provided:
    """One thing a plugin provided: its category, name, summary and the plugin's name."""

    category: str
    name: str
    summary: str
    plugin: str


@attrs.frozen
class PluginInfo:
    """A loaded plugin: its name, where it came from, its version and what it provides."""

    name: str
    origin: str
    version: str | None
    provides: tuple[Provided, ...]


_CATEGORIES: Final = {
    "kind": ("register_rule_kinds", RuleKind),
    "source": ("register_sources", SourceType),
    "notifier": ("register_notifiers", NotifierType),
    "output": ("register_output_formats", OutputFormat),
}


class Registry:
    """The plugin manager and what the plugins registered, collected on first use."""

    def __init__(self, *, defaults: bool = True, entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.failures: list[PluginError] = []
        self._origins: dict[str, tuple[str, str | None]] = {}
        self._collected: dict[str, dict[str, tuple[Any, str]]] | None = None
        if defaults:
            for module_name in DEFAULT_PLUGINS:
                self.pm.register(importlib.import_module(module_name), name=module_name)
                self._origins[module_name] = ("built-in", None)
        if entry_points:
            self._load_entry_points()

    def _load_entry_points(self) -> None:
        wanted = os.environ.get(ENV_VAR)
        allowed = None if wanted is None else {w.strip() for w in wanted.split(",") if w.strip()}
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if allowed is not None and ep.name not in allowed:
                continue
            if self.pm.has_plugin(ep.name):
                continue
            dist = ep.dist.name if ep.dist else None
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - any import failure must name the plugin
                where = f" (package {dist})" if dist else ""
                self.failures.append(PluginError(f"failed to import{where}: {type(exc).__name__}: {exc}", plugin=ep.name))
                continue
            self.pm.register(plugin, name=ep.name)
            self._origins[ep.name] = (f"package {dist}" if dist else "entry point", ep.dist.version if ep.dist else None)

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object (module or instance) at run time, e.g. in tests or embedding."""
        try:
            registered = self.pm.register(plugin, name=name)
        except ValueError:  # pluggy refuses a name or object already registered
            registered = None
        if registered is None:
            raise PluginError("already registered", plugin=name)
        self._origins.setdefault(registered, ("registered at run time", None))
        self._collected = None
        return registered

    def _collect(self) -> dict[str, dict[str, tuple[Any, str]]]:
        if self._collected is not None:
            return self._collected
        collected: dict[str, dict[str, tuple[Any, str]]] = {c: {} for c in _CATEGORIES}
        for category, (hook_name, base) in _CATEGORIES.items():
            hook = getattr(self.pm.hook, hook_name)
            for impl in reversed(hook.get_hookimpls()):
                register = self._registrar(category, base, impl.plugin_name, collected[category])
                try:
                    impl.function(register=register)
                except PluginError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a failing plugin is named, never a traceback
                    raise PluginError(f"{hook_name} raised {type(exc).__name__}: {exc}", plugin=impl.plugin_name) from exc
        self._collected = collected
        return collected

    @staticmethod
    def _registrar(category: str, base: type, plugin: str, into: dict[str, tuple[Any, str]]) -> Callable[[Any], None]:
        def register(item: Any) -> None:
            if not isinstance(item, base):
                raise PluginError(f"registered {item!r} as a {category}, expected an instance of {base.__module__}.{base.__name__}", plugin=plugin)
            name = getattr(item, "name", None)
            if not isinstance(name, str) or not _NAME.match(name):
                raise PluginError(f"registered a {category} with invalid name {name!r} (expected lower-case letters, digits, '_', '-', '.')", plugin=plugin)
            if name in into:
                other = into[name][1]
                raise PluginError(f"{category} {name!r} is provided by both {other!r} and {plugin!r}", plugin=plugin)
            into[name] = (item, plugin)

        return register

    def _get(self, category: str) -> dict[str, Any]:
        return {name: item for name, (item, _) in self._collect()[category].items()}

    @property
    def kinds(self) -> dict[str, RuleKind]:
        return self._get("kind")

    @property
    def sources(self) -> dict[str, SourceType]:
        return self._get("source")

    @property
    def notifiers(self) -> dict[str, NotifierType]:
        return self._get("notifier")

    @property
    def outputs(self) -> dict[str, OutputFormat]:
        return self._get("output")

    def plugins(self) -> list[PluginInfo]:
        """Every loaded plugin with its origin, version and what it provides."""
        provided: dict[str, list[Provided]] = {}
        for category, items in self._collect().items():
            for name, (item, plugin) in items.items():
                summary = str(getattr(item, "summary", "") or "")
                provided.setdefault(plugin, []).append(Provided(category, name, summary, plugin))
        out = []
        for plugin_name, _ in self.pm.list_name_plugin():
            origin, version = self._origins.get(plugin_name, ("registered at run time", None))
            out.append(PluginInfo(plugin_name, origin, version, tuple(provided.get(plugin_name, ()))))
        return out


def provided_by(registry: Registry, category: str, name: str) -> str | None:
    """Which plugin provided the ``category`` item called ``name``."""
    entry = registry._collect()[category].get(name)
    return entry[1] if entry else None


def names(items: Iterable[str]) -> str:
    return ", ".join(sorted(items))
