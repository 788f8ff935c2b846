"""The plugin contract: the markers and every hook targetwatch calls.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names match the
specs below; it is found through the ``targetwatch`` entry-point group. Every built-in kind,
source, notifier and output format registers through these same hooks.

Registration hooks receive a ``register`` callback; call it once per thing provided. The host
checks each item as it arrives and rejects a name already taken, naming both plugins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .kind import RuleKind
    from .notify import NotifierType
    from .output import OutputFormat
    from .source import SourceType

hookspec = pluggy.HookspecMarker("targetwatch")
hookimpl = pluggy.HookimplMarker("targetwatch")


@hookspec
def register_rule_kinds(register: Callable[[RuleKind], None]) -> None:
    """Provide rule kinds.

    :param register: call ``register(kind)`` with an instance of a
        :class:`~targetwatch.kind.RuleKind` subclass for each kind this plugin provides. The
        kind's ``name`` is what rule files write as ``kind = "..."``; it must be unique across
        all plugins.
    :return: nothing; return values are ignored.
    """


@hookspec
def register_sources(register: Callable[[SourceType], None]) -> None:
    """Provide data source types.

    :param register: call ``register(source_type)`` with an instance of a
        :class:`~targetwatch.source.SourceType` subclass. Its ``name`` is what the config writes
        as ``type = "..."`` in a ``[[sources]]`` table; its ``Params`` class declares the rest
        of that table's keys.
    :return: nothing; return values are ignored.
    """


@hookspec
def register_notifiers(register: Callable[[NotifierType], None]) -> None:
    """Provide notification channel types.

    :param register: call ``register(notifier_type)`` with an instance of a
        :class:`~targetwatch.notify.NotifierType` subclass. Its ``name`` is what the config
        writes as ``type = "..."`` in a ``[channels.NAME]`` table.
    :return: nothing; return values are ignored.
    """


@hookspec
def register_output_formats(register: Callable[[OutputFormat], None]) -> None:
    """Provide output formats for ``targetwatch check --format NAME``.

    :param register: call ``register(output_format)`` with an instance of a
        :class:`~targetwatch.output.OutputFormat` subclass.
    :return: nothing; return values are ignored.
    """
