"""targetwatch-sql: the ``sql`` source, reading long-format observations from any database
SQLAlchemy reaches, with the filtering done by the database.

Installed, it registers itself through the ``targetwatch`` entry-point group; an embedding
program may also ``Registry().register(targetwatch_sql)``.
"""

from __future__ import annotations

from collections.abc import Callable

from targetwatch import hookimpl
from targetwatch.source import SourceType

from .params import SqlParams
from .plugin import SqlSource

__all__ = ["SqlParams", "SqlReader", "SqlSource", "register_sources"]


def __getattr__(name: str) -> object:
    # SqlReader needs SQLAlchemy: imported on first use, not when the plugin is discovered.
    if name == "SqlReader":
        from .source import SqlReader

        return SqlReader
    raise AttributeError(f"module 'targetwatch_sql' has no attribute {name!r}")


@hookimpl
def register_sources(register: Callable[[SourceType], None]) -> None:
    register(SqlSource())
