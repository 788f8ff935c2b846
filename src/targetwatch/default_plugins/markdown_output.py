"""The ``markdown`` output format: a GitHub-flavoured Markdown report for pasting into
documents, issues and wikis (``targetwatch check --format markdown``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from ..hookspecs import hookimpl
from ..i18n import _, ngettext
from ..numbers import format_number
from ..output import OutputFormat, OutputOptions
from .outputs import counts_text, series_text, shown, status_text

if TYPE_CHECKING:
    from ..engine import CheckResult

#: The column headings of the verdict table (in English; :func:`headers` gives them in the
#: current locale).
HEADERS: Final = ("Status", "Rule", "Series", "Period", "Value", "Target", "Message")


def headers() -> list[str]:
    """The column headings of the verdict table in the current locale."""
    return [_("Status"), _("Rule"), _("Series"), _("Period"), _("Value"), _("Target"), _("Message")]


def escape_cell(text: str) -> str:
    """Make ``text`` safe inside one cell of a GitHub table: a pipe becomes ``\\|`` and a line
    break becomes ``<br>``, so neither can end the cell or the row. Other text (Chinese
    included) is kept as is."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("|", "\\|").replace("\n", "<br>")


def _bullet(text: str) -> str:
    """One bullet-list item; continuation lines are indented so they stay inside it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "- " + "\n  ".join(lines)


class MarkdownFormat(OutputFormat):
    """A report in GitHub-flavoured Markdown.

    It starts with a heading naming the moment the verdicts hold for and the count of each
    status, then a table with one row per rule and series: status, rule title, series, period,
    value, target and message. Numbers carry thousands separators and their unit (``%`` shows a
    share as a percentage). A silenced verdict shows its status followed by ``(silenced)``.
    Pipes and line breaks inside cells are escaped so the table never breaks; Chinese text is
    written as is. Problems met on the way (a failed source, skipped rows) follow as a bullet
    list.

    With ``--quiet`` only verdicts that are not OK are listed, and nothing at all is written
    when every verdict is OK and there are no problems.
    """

    name = "markdown"
    summary = "GitHub-flavoured Markdown report (heading, table, problems) for documents."

    def render(self, result: CheckResult, options: OutputOptions) -> str:
        from tabulate import tabulate

        rows = [
            [
                escape_cell(status_text(v)),
                escape_cell(v.title or v.rule),
                escape_cell(series_text(v) or "—"),
                escape_cell(str(v.period or "—")),
                escape_cell(format_number(v.value, v.unit)),
                escape_cell(format_number(v.target, v.unit)),
                escape_cell(v.message),
            ]
            for v in shown(result, options)
        ]
        if not rows and options.quiet and not result.problems:
            return ""
        counts = counts_text(result.summary) or _("no verdicts")
        blocks = ["## " + _("targetwatch as of {moment}: {counts}").format(moment=result.as_of.isoformat(), counts=counts)]
        if rows:
            blocks.append(tabulate(rows, headers=headers(), tablefmt="github", disable_numparse=True))
        if result.problems:
            count = len(result.problems)
            items = "\n".join(_bullet(str(p)) for p in result.problems)
            title = ngettext("{n} problem:", "{n} problems:", count).format(n=count)
            blocks.append(f"**{title}**\n\n{items}")
        return "\n\n".join(blocks) + "\n"


_FORMATS: Final[tuple[Callable[[], OutputFormat], ...]] = (MarkdownFormat,)


@hookimpl
def register_output_formats(register: Callable[[OutputFormat], None]) -> None:
    """Register the ``markdown`` output format."""
    for make in _FORMATS:
        register(make())
