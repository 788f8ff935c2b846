"""The contract of an output format for ``targetwatch check --format NAME``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TextIO

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
    """Base class of output plugins: ``name``, ``summary``, :meth:`render` and, for output too
    large to hold as one string, :meth:`write`."""

    name: ClassVar[str]
    summary: ClassVar[str]

    def render(self, result: CheckResult, options: OutputOptions) -> str:
        """The whole output as text (ending with a newline unless empty)."""
        raise NotImplementedError

    def write(self, result: CheckResult, options: OutputOptions, stream: TextIO) -> None:
        """Write the output to ``stream``: the same text :meth:`render` returns, which is what
        this default writes. A format may override it to write the text piece by piece, so
        that a large output never exists as one string; ``targetwatch check`` calls this."""
        text = self.render(result, options)
        if text:
            stream.write(text)
