"""The parameters every built-in tabular source (``csv``, ``json``, ``sqlite``, ``http``) shares,
and their cross-field checks. :mod:`~targetwatch.default_plugins.tabular` re-exports them."""

from __future__ import annotations

import codecs
from collections.abc import Collection

import attrs

from ..params import Choice, Flag, ListOf, StrMapping, Text, param

CORE = ("indicator", "period", "value")
#: The optional column saying when a figure was reported (not a label).
REPORTED = "reported_at"


@attrs.frozen
class TabularParams:
    """Parameters shared by every built-in tabular source (``csv``, ``json``, ``sqlite``)."""

    path: str = param(Text(), doc="The data file, relative to the config file's folder.")
    columns: dict[str, str] | None = param(
        StrMapping((*CORE, REPORTED)),
        default=None,
        doc='Rename the core columns, e.g. { indicator = "指标", period = "期间", value = "数值" }; '
        'keys not given keep their default names indicator, period and value. reported_at = "填报日期" '
        "names the (then required) column saying when each figure was reported, a date or moment in "
        "the configured time zone; by default a column reported_at is used when there is one.",
    )
    indicator: str | None = param(
        Text(),
        default=None,
        doc="A fixed indicator name for a file that holds one indicator; the file then needs no indicator column.",
    )
    labels: tuple[str, ...] | None = param(
        ListOf(Text()),
        default=None,
        doc="The columns that are labels (e.g. [\"district\"]). Default: every column other than "
        "the indicator, period and value columns and those in ignore.",
    )
    ignore: tuple[str, ...] = param(
        ListOf(Text()), default=(), doc='Columns to ignore, e.g. ["note", "source"].'
    )
    constant_labels: dict[str, str] | None = param(
        StrMapping(),
        default=None,
        doc='Labels added to every row, e.g. { district = "田家庵区" }. A row whose own label of '
        "that name differs is a bad row.",
    )
    percent: bool = param(
        Flag(),
        default=True,
        doc='Whether "94.1%" means 0.941. When false, a percent sign in a value makes a bad row. '
        'Thousands separators ("17,192") and 万/亿 suffixes are always understood.',
    )
    on_bad_row: str = param(
        Choice("error", "skip"),
        default="error",
        doc='What a bad row does: "error" stops with a message naming the file, line and column; '
        '"skip" reports it as skipped (counted and shown) and reads on. A blank value is '
        "never a bad row: it means not reported and yields nothing.",
    )
    available: str = param(
        Choice("period_start", "period_end"),
        default="period_start",
        doc='When a figure without a reported_at cell became available (check --as-of and backtest see '
        'it from then): "period_start" (as soon as its period starts, so partial-period and snapshot '
        'figures count) or "period_end" (once its period is over: July from 1 August, 00:00 local time).',
    )

    def problems(self) -> list[tuple[str, str]]:
        """Cross-field checks: label and ignore lists must not overlap the core columns or each other."""
        out: list[tuple[str, str]] = []
        names = self.column_names()
        core = {n for k, n in names.items() if not (k == "indicator" and self.indicator is not None)}
        if self.indicator is not None and self.columns and "indicator" in self.columns:
            out.append(("indicator", "give either a fixed indicator or columns.indicator, not both"))
        for key, listed in (("labels", self.labels or ()), ("ignore", self.ignore)):
            clash = [c for c in listed if c in core]
            if clash:
                out.append((key, f"expected columns other than the indicator, period and value columns; found {clash[0]!r}"))
        both = sorted(set(self.labels or ()) & set(self.ignore))
        if both:
            out.append(("ignore", f"column {both[0]!r} is listed both in labels and in ignore"))
        reported = (self.columns or {}).get(REPORTED)
        for key, listed in (("columns", tuple(core)), ("labels", self.labels or ()), ("ignore", self.ignore)):
            if reported is not None and reported in listed:
                out.append((key, f"column {reported!r} is the reported_at column (set by columns.reported_at); it cannot also be in {key}"))
        return out

    def reported_column(self) -> str | None:
        """The reported_at column: ``columns.reported_at``, else ``reported_at`` unless taken."""
        named = (self.columns or {}).get(REPORTED)
        if named is not None:
            return named
        taken = set(self.column_names().values()) | set(self.ignore) | set(self.labels or ())
        return None if REPORTED in taken else REPORTED

    def none_wanted(self, indicators: Collection[str] | None) -> bool:
        """True when the source holds one fixed indicator that was not asked for: nothing to read."""
        return self.indicator is not None and indicators is not None and self.indicator not in indicators

    def column_names(self) -> dict[str, str]:
        """The actual column name of each of ``indicator``, ``period`` and ``value``."""
        columns = self.columns or {}
        return {key: columns.get(key, key) for key in CORE}


def check_encoding(encoding: str) -> list[tuple[str, str]]:
    """A params problem when ``encoding`` is not a known text encoding."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        return [("encoding", f"expected a text encoding such as 'utf-8-sig' or 'gbk', found {encoding!r}")]
    return []
