"""Built-in output formats: ``table`` for people, ``json`` for machines (and ``csv``, from
:mod:`.csv_output`, for spreadsheets)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Final, TextIO

from ..hookspecs import hookimpl
from ..i18n import _, pgettext, status_label
from ..model import Status, Verdict
from ..numbers import format_number
from ..output import OutputFormat, OutputOptions
from .json_encoding import VerdictEncoder, compact, json_default
from .json_encoding import verdict_json as verdict_json  # noqa: PLC0414 - re-exported: callers import it from here

if TYPE_CHECKING:
    from ..engine import CheckResult

JSON_SCHEMA_VERSION: Final = 1


def shown(result: CheckResult, options: OutputOptions) -> list[Verdict]:
    """The verdicts to show: all of them, or only those not OK when quiet."""
    return [v for v in result.verdicts if not (options.quiet and v.status is Status.OK)]


def series_text(verdict: Verdict) -> str:
    """The series' labels for people: ``district=田家庵区, level=x`` (empty for no labels)."""
    return ", ".join(f"{k}={v}" for k, v in verdict.labels)


def status_text(verdict: Verdict, *, color: bool = False) -> str:
    """The status for people, marked ``(silenced)`` when the verdict sends nothing:
    ``BREACH (silenced)``. With ``color`` the status word carries an ANSI colour. In a
    translated locale the local word follows the machine word (``BREACH 未达标``)."""
    word = status_label(verdict.status.value)
    status = _color(verdict.status) + word[len(verdict.status.value):] if color else word
    return _("{status} (silenced)").format(status=status) if verdict.silenced else status


def counts_text(summary: Mapping[str, int]) -> str:
    """The statuses that occur with their counts, for people: ``12 OK, 4 WARN, 2 BREACH``
    (``OK 正常 12 项，WARN 预警 4 项 ...`` in Chinese); empty when every count is 0."""
    separator = pgettext("list separator", ", ")
    return separator.join(_("{count} {status}").format(count=n, status=status_label(s)) for s, n in summary.items() if n)


class TableFormat(OutputFormat):
    """A table for a terminal: status, rule, series, period, value, target and the reason in
    words; Chinese text aligned; a summary line; problems listed below. A silenced verdict
    shows its status followed by ``(silenced)``."""

    name = "table"
    summary = "Aligned text table for people (the default)."

    def render(self, result: CheckResult, options: OutputOptions) -> str:
        from tabulate import tabulate

        rows = []
        for v in shown(result, options):
            status = status_text(v, color=options.color)
            rows.append([status, _rule_cell(v), series_text(v), str(v.period or "—"), format_number(v.value, v.unit), format_number(v.target, v.unit), v.message])
        out = []
        if rows:
            headers = [_("STATUS"), _("RULE"), _("SERIES"), _("PERIOD"), _("VALUE"), _("TARGET"), _("WHY")]
            out.append(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True, maxcolwidths=[None, None, 24, None, None, None, 64]))
        if rows or not options.quiet or result.problems:
            counts = counts_text(result.summary) or _("no verdicts")
            out.append(_("as of {moment}: {counts}").format(moment=result.as_of.isoformat(), counts=counts))
        for problem in result.problems:
            out.append(_("problem: {problem}").format(problem=problem))
        return "\n".join(out) + ("\n" if out else "")


def _rule_cell(verdict: Verdict, width: int = 34) -> str:
    """The rule's title (wrapped, in any language) above its id, which --rule and silences use."""
    lines = wrap_display(verdict.title, width) if verdict.title != verdict.rule else []
    return "\n".join([*lines, verdict.rule])


_TOKEN = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|\s+")


def wrap_display(text: str, width: int) -> list[str]:
    """Wrap ``text`` to ``width`` terminal columns: CJK characters take two columns and may
    break anywhere; other words break only at spaces (or, when longer than a line, anywhere)."""
    from wcwidth import wcswidth

    lines: list[str] = []
    line = ""
    for token in _TOKEN.findall(text):
        if token.isspace():
            if line:
                line += " "
            continue
        if wcswidth(line + token) <= width:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = ""
        while wcswidth(token) > width:
            lines.append(token[:width])
            token = token[width:]
        line = token
    if line.strip():
        lines.append(line.rstrip())
    return lines


_COLORS: Final = {Status.OK: "32", Status.WARN: "33", Status.BREACH: "31;1", Status.UNKNOWN: "35", Status.ERROR: "35;1"}


def _color(status: Status) -> str:
    return f"\x1b[{_COLORS[status]}m{status.value}\x1b[0m"


#: Verdicts encoded and written at a time: large enough to be fast, small enough that the
#: text of a few hundred thousand verdicts never exists at once.
CHUNK: Final = 2000


class JsonFormat(OutputFormat):
    """One JSON object: ``version``, ``as_of``, ``summary`` counts, ``verdicts`` and ``problems``.
    Non-ASCII text is written as is; numbers are JSON numbers. Written compactly, or indented
    by two spaces with ``pretty``; either way piece by piece, a few thousand verdicts at a time."""

    name = "json"
    summary = "One JSON document for machines (schema version 1)."

    def render(self, result: CheckResult, options: OutputOptions) -> str:
        return "".join(self._pieces(result, options))

    def write(self, result: CheckResult, options: OutputOptions, stream: TextIO) -> None:
        stream.writelines(self._pieces(result, options))

    def _pieces(self, result: CheckResult, options: OutputOptions) -> Iterator[str]:
        """The document ``json.dumps`` writes, in pieces: the envelope up to the verdicts, the
        verdicts a chunk at a time, then the problems and the closing brace."""
        head = {"version": JSON_SCHEMA_VERSION, "as_of": result.as_of.isoformat(), "summary": result.summary, "exit_code": result.exit_code}
        verdicts = shown(result, options)
        problems = [str(p) for p in result.problems]
        if options.pretty:
            # The indenting encoder is pure Python and many times slower than the C one, so
            # compact is the default for machines; a person's terminal gets this one.
            indented = json.JSONEncoder(ensure_ascii=False, indent=2, default=json_default).encode
            yield indented(head)[:-2] + ',\n  "verdicts": ['
            for start in range(0, len(verdicts), CHUNK):
                # A chunk as an indented array, its items moved one level in: "[\n  {...}\n]"
                # becomes "\n    {...}" (strings hold no raw line breaks: json escapes them).
                text = indented([verdict_json(v, plain_details=False) for v in verdicts[start : start + CHUNK]])
                yield ("," if start else "") + text[1:-2].replace("\n", "\n  ")
            yield ("\n  ]" if verdicts else "]") + ',\n  "problems": ' + indented(problems).replace("\n", "\n  ") + "\n}\n"
            return
        yield compact(head)[:-1] + ',"verdicts":['
        encoder = VerdictEncoder()
        for start in range(0, len(verdicts), CHUNK):
            yield ("," if start else "") + encoder.encode(verdicts[start : start + CHUNK])
        yield '],"problems":' + compact(problems) + "}\n"


_FORMATS: Final[tuple[Callable[[], OutputFormat], ...]] = (TableFormat, JsonFormat)


@hookimpl
def register_output_formats(register: Callable[[OutputFormat], None]) -> None:
    from .csv_output import CsvExcelFormat, CsvFormat  # it builds on this module

    for make in (*_FORMATS, CsvFormat, CsvExcelFormat):
        register(make())
