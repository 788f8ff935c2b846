"""The contract of an output format for ``targetwatch check --format NAME``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import attrs

if TYPE_CHECKING:
    from .engine import CheckResult


@attrs.frozen
class OutputOptions:
    """How the caller wants the result shown: ``quiet`` lists only what is not OK."""

    quiet: bool = False
    color: bool = False
    #: Indent machine formats for a person (a terminal) rather than writing them compactly.
    pretty: bool = False


class OutputFormat:
    """Base class of output plugins: ``name``, ``summary`` and :meth:`render`."""

    name: ClassVar[str]
    summary: ClassVar[str]

    def render(self, result: CheckResult, options: OutputOptions) -> str:
        """The whole output as text (ending with a newline unless empty)."""
        raise NotImplementedError
