"""The ``junit`` output format: JUnit XML for CI dashboards (Jenkins, GitLab, GitHub Actions
test reporters), ``targetwatch check --format junit > targetwatch.xml``."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from ..hookspecs import hookimpl
from ..model import Status, Verdict
from ..numbers import format_number
from ..output import OutputFormat, OutputOptions
from .outputs import series_text, shown

if TYPE_CHECKING:
    from ..engine import CheckResult

#: The ``name`` of the one test suite, and the ``classname`` of the problems test case.
SUITE_NAME: Final = "targetwatch"

XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'

# Characters XML 1.0 cannot carry at all, even escaped (most C0 controls, lone surrogates,
# U+FFFE and U+FFFF). They are replaced so the document always parses.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 forbids replaced by U+FFFD; ``&<>"`` and any
    other character (Chinese included) are left to the serializer, which escapes them."""
    return _NOT_XML.sub("\ufffd", text)


def case_name(verdict: Verdict) -> str:
    """The test case name: the rule title, then the series labels in brackets when there are
    any: ``学前三年毛入园率 ≥ 95% [district=田家庵区]``."""
    series = series_text(verdict)
    title = verdict.title or verdict.rule
    return f"{title} [{series}]" if series else title


def _details(verdict: Verdict) -> str:
    """The verdict's message followed by its figures, one per line (the text of an element)."""
    lines = [verdict.message, f"status: {verdict.status.value}"]
    if verdict.period is not None:
        lines.append(f"period: {verdict.period}")
    if verdict.value is not None:
        lines.append(f"value: {format_number(verdict.value, verdict.unit)}")
    if verdict.target is not None:
        lines.append(f"target: {format_number(verdict.target, verdict.unit)}")
    return xml_text("\n".join(lines))


class JUnitFormat(OutputFormat):
    """JUnit XML, UTF-8, with an XML declaration, for CI dashboards.

    The document is one ``<testsuite name="targetwatch">`` whose ``timestamp`` is the moment
    the verdicts hold for, with ``tests``, ``failures``, ``errors`` and ``skipped`` counts. Each
    rule and series is one ``<testcase>``: ``classname`` is the rule id and ``name`` the rule
    title followed by the series labels in brackets.

    - ``BREACH`` is a ``<failure>`` (its ``message`` is the verdict's message; its text adds
      the period, value and target).
    - ``UNKNOWN`` and ``ERROR`` are an ``<error>``: the target could not be judged.
    - A silenced verdict, whatever its status, is ``<skipped message="silenced: REASON">``:
      it sends nothing, so it should neither fail the build nor count as a pass.
    - ``WARN`` passes: a warning is not yet a missed target, and a CI dashboard has no
      "warning" outcome, so counting it as a failure would turn every early warning red. Its
      message is kept in the test case's ``<system-out>`` (starting ``WARN:``) so it is still
      visible in the report.
    - ``OK`` passes with no child element.

    Problems met on the way (a failed source, skipped rows) add one more test case,
    ``classname="targetwatch" name="problems"``, with an ``<error>`` listing them.

    With ``--quiet`` only verdicts that are not OK are written as test cases (the counts then
    describe the cases written); the document itself is always written, so a CI step reading
    the file never finds it empty.
    """

    name = "junit"
    summary = "JUnit XML for CI dashboards (failure = BREACH, error = UNKNOWN/ERROR, skipped = silenced)."

    def render(self, result: CheckResult, options: OutputOptions) -> str:
        suite = ET.Element("testsuite", name=SUITE_NAME)
        tests = failures = errors = skipped = 0
        for verdict in shown(result, options):
            tests += 1
            case = ET.SubElement(suite, "testcase", classname=xml_text(verdict.rule), name=xml_text(case_name(verdict)))
            if verdict.silenced:
                skipped += 1
                ET.SubElement(case, "skipped", message=xml_text(f"silenced: {verdict.silenced}"))
                ET.SubElement(case, "system-out").text = _details(verdict)
            elif verdict.status is Status.BREACH:
                failures += 1
                ET.SubElement(case, "failure", message=xml_text(verdict.message), type=verdict.status.value).text = _details(verdict)
            elif verdict.status in (Status.UNKNOWN, Status.ERROR):
                errors += 1
                ET.SubElement(case, "error", message=xml_text(verdict.message), type=verdict.status.value).text = _details(verdict)
            elif verdict.status is Status.WARN:
                ET.SubElement(case, "system-out").text = xml_text(f"WARN: {verdict.message}")
        if result.problems:
            tests += 1
            errors += 1
            count = len(result.problems)
            case = ET.SubElement(suite, "testcase", classname=SUITE_NAME, name="problems")
            error = ET.SubElement(case, "error", message=f"{count} problem{'s' if count != 1 else ''}", type="problem")
            error.text = xml_text("\n".join(str(p) for p in result.problems))
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
        suite.set("timestamp", result.as_of.isoformat())
        ET.indent(suite)
        return f"{XML_DECLARATION}\n{ET.tostring(suite, encoding='unicode')}\n"


_FORMATS: Final[tuple[Callable[[], OutputFormat], ...]] = (JUnitFormat,)


@hookimpl
def register_output_formats(register: Callable[[OutputFormat], None]) -> None:
    """Register the ``junit`` output format."""
    for make in _FORMATS:
        register(make())
