"""The exceptions targetwatch raises, and the :class:`Problem` record they carry.

Only the command line turns these into exit codes and messages; a library user catches
:class:`TargetwatchError` and gets the same wording the CLI would print.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs


@attrs.frozen
class Problem:
    """One thing wrong with an input, located as precisely as it can be.

    ``file`` and ``line`` say where; ``key`` is the dotted key path inside the file
    (``rule[3].max``); ``message`` says what was expected and what was found.
    """

    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.key:
            where = f"{where}: {self.key}" if where else self.key
        return f"{where}: {self.message}" if where else self.message


class TargetwatchError(Exception):
    """Base class of every error targetwatch raises on purpose."""


class ConfigError(TargetwatchError):
    """The configuration or a rule file is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems: Sequence[Problem] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SourceError(TargetwatchError):
    """A data source could not be read, or a row in it is invalid (names the file and line)."""

    def __init__(self, message: str, *, source: str | None = None, problem: Problem | None = None) -> None:
        self.source = source
        self.problem = problem
        text = str(problem) if problem is not None else message
        if problem is not None and message and message != problem.message:
            text = f"{message}: {text}"
        super().__init__(f"source {source!r}: {text}" if source else text)


class PluginError(TargetwatchError):
    """A plugin failed to load, registered something invalid, or raised; names the plugin."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        self.plugin = plugin
        super().__init__(f"plugin {plugin!r}: {message}" if plugin else message)


class PeriodError(TargetwatchError, ValueError):
    """A period, date, duration or time zone could not be understood."""


class LockError(TargetwatchError):
    """Another run holds the lock on the state directory."""
