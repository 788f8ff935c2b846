"""The ``json`` source: long-format observations as a JSON array of row objects, or as JSON
Lines (one row object per line)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import attrs

from ..hookspecs import hookimpl
from ..model import Record
from ..params import Choice, Text, param
from ..source import Source, SourceContext, SourceType
from .tabular import CORE, RowConverter, TabularParams, check_encoding, describe, undecodable_line

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
NESTED = "labels"


@attrs.frozen
class JsonParams(TabularParams):
    """Parameters of the ``json`` source."""

    format: str = param(
        Choice("auto", "json", "jsonl"),
        default="auto",
        doc='"json": one document holding an array of row objects; "jsonl": one row object per line '
        '(JSON Lines). "auto" picks jsonl for the extensions .jsonl, .ndjson and .jsonlines, json otherwise.',
    )
    rows: str | None = param(
        Text(),
        default=None,
        doc='Where the array of rows is inside a json document, as a dotted path such as "data.items". '
        "Default: the document itself is the array. Not used with jsonl.",
    )
    encoding: str = param(
        Text(), default="utf-8-sig", doc="The text encoding; the default reads UTF-8 with or without a BOM."
    )

    def effective_format(self) -> str:
        """``json`` or ``jsonl``, resolving ``auto`` by the file's extension."""
        if self.format != "auto":
            return self.format
        return "jsonl" if Path(self.path).suffix.lower() in JSONL_SUFFIXES else "json"

    def problems(self) -> list[tuple[str, str]]:
        out = super().problems()
        if self.rows is not None and self.effective_format() == "jsonl":
            out.append(("rows", "rows applies to a json document, but this source reads JSON Lines (format = \"jsonl\")"))
        out.extend(check_encoding(self.encoding))
        return out


class JsonSource(SourceType):
    """Reads long-format rows from JSON: an array of objects, or JSON Lines.

    What you can rely on:

    - Each row is an object. Its keys are the columns: ``indicator``, ``period`` and ``value``
      unless renamed with ``columns`` (no indicator key with a fixed ``indicator``); every
      other key is a label unless listed in ``ignore`` (or only the keys in ``labels``). A
      nested object under the key ``labels`` is merged into the row's labels.
    - Indicator, period and label text is stripped of surrounding spaces; a blank (or NULL)
      label cell means the row does not have that label. ``constant_labels`` are added to
      every row (a row carrying a different value for one of them is a bad row).
    - Numbers are exact: ``0.0489`` is read as the decimal 0.0489, never through a float.
      Values may also be strings such as ``"17,192"``, ``"94.1%"`` or ``"1.2万"``. A value of
      ``null`` or ``""`` means "not reported": no record, no error. Indicator and period may be
      strings or whole numbers (``2023``); label values strings, numbers, booleans or ``null``
      (no label).
    - ``format = "json"``: the document is read whole (use JSON Lines for very large data);
      the rows are the document itself or the array at the dotted path ``rows``. A bad row is
      located by its index path in the error's key, zero-based as in jq:
      ``data.json: data.items[12]: column 'value': expected a number ..., found 'n/a'``.
    - ``format = "jsonl"``: streamed line by line; blank lines are ignored; a line that is not
      valid JSON, or not an object, is a bad row: ``data.jsonl:17: ...``.
    - The first row sets the shape: if it lacks the indicator, period or value key the whole
      file is rejected once (naming the keys found); a later row lacking one is a bad row.
    - Bad rows raise an error, or with ``on_bad_row = "skip"`` are skipped and counted.
    """

    name = "json"
    summary = "long-format rows from a JSON array of objects, or a JSON Lines file (streamed)"
    Params = JsonParams

    def open(self, params: JsonParams, context: SourceContext) -> Source:
        return _JsonReader(params, context, context.path(params.path))


@attrs.frozen
class _JsonReader:
    params: JsonParams
    context: SourceContext
    path: Path

    def read(self, indicators: Collection[str] | None) -> Iterator[Record]:
        params = self.params
        if params.none_wanted(indicators):
            return
        conv = RowConverter(params, self.context, params.path)
        wanted = None if indicators is None else frozenset(indicators)
        try:
            handle = self.path.open("r", encoding=params.encoding)
        except FileNotFoundError:
            raise conv.fail(f"no such file (looked for {self.path})") from None
        except OSError as exc:
            raise conv.fail(f"cannot open {self.path}: {exc.strerror or exc}") from None
        with handle:
            try:
                if params.effective_format() == "jsonl":
                    yield from self._lines(handle, conv, wanted)
                else:
                    yield from self._document(handle, conv, wanted)
            except UnicodeDecodeError as exc:
                raise conv.fail(
                    f"cannot decode the text as {params.encoding} ({exc.reason}); set encoding to the file's encoding",
                    line=undecodable_line(self.path, params.encoding),
                ) from None

    def _document(self, handle: TextIO, conv: RowConverter, wanted: frozenset[str] | None) -> Iterator[Record]:
        try:
            document = json.load(handle, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise conv.fail(f"invalid JSON: {exc.msg} (at column {exc.colno})", line=exc.lineno) from None
        rows, prefix = _locate(document, self.params.rows, conv)
        for index, row in enumerate(rows):
            key = f"{prefix}[{index}]"
            rec = self._row(row, conv, wanted, first=index == 0, origin=f"{self.params.path}:{key}", line=None, key=key)
            if rec is not None:
                yield rec

    def _lines(self, handle: TextIO, conv: RowConverter, wanted: frozenset[str] | None) -> Iterator[Record]:
        first = True
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                conv.bad(f"invalid JSON: {exc.msg} (at column {exc.colno})", line=number)
                continue
            rec = self._row(row, conv, wanted, first=first, origin=f"{self.params.path}:{number}", line=number, key=None)
            first = False
            if rec is not None:
                yield rec

    def _row(
        self,
        row: object,
        conv: RowConverter,
        wanted: frozenset[str] | None,
        *,
        first: bool,
        origin: str,
        line: int | None,
        key: str | None,
    ) -> Record | None:
        if not isinstance(row, dict):
            conv.bad(f"expected a row object, {describe(row) if not isinstance(row, list) else 'found a list'}", line=line, key=key)
            return None
        if first:
            conv.check_columns(list(row), line=line, key=key, what="keys")
        names = conv.names
        for role in CORE:
            if (role != "indicator" or conv.fixed is None) and names[role] not in row:
                shown = ", ".join(repr(k) for k in row) or "none"
                conv.bad(f"column {names[role]!r}: missing (keys found: {shown})", line=line, key=key)
                return None
        if conv.fixed is None and wanted is not None and not conv.wanted(row[names["indicator"]], wanted):
            return None
        pairs: list[tuple[str, object]] = [(k, row.get(k)) for k in conv.label_keys(row, exclude=(NESTED,))]
        nested = row.get(NESTED)
        if nested is not None and NESTED not in conv.ignore:
            if not isinstance(nested, Mapping):
                conv.bad(f"column {NESTED!r}: expected an object of label names to values, {describe(nested)}", line=line, key=key)
                return None
            pairs.extend((str(k), v) for k, v in nested.items() if k not in conv.ignore)
        return conv.record(
            None if conv.fixed is not None else row[names["indicator"]],
            row[names["period"]],
            row[names["value"]],
            pairs,
            origin=origin,
            line=line,
            key=key,
        )


def _locate(document: Any, path: str | None, conv: RowConverter) -> tuple[list[Any], str]:
    """The array of rows at the dotted ``path`` (the document itself when ``None``)."""
    node = document
    walked: list[str] = []
    for part in path.split(".") if path else ():
        here = ".".join(walked) or "the document"
        if isinstance(node, dict):
            if part not in node:
                keys = ", ".join(repr(k) for k in node) or "none"
                raise conv.fail(f"rows: expected key {part!r} in {here}, found keys: {keys}", key=path)
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise conv.fail(f"rows: expected an object with key {part!r} at {here}, {_kind(node)}", key=path)
        walked.append(part)
    if not isinstance(node, list):
        where = f"at {path!r}" if path else "as the document (set rows to the dotted path of the array)"
        raise conv.fail(f"expected an array of row objects {where}, {_kind(node)}", key=path)
    return node, path or ""


def _kind(node: object) -> str:
    if isinstance(node, dict):
        return "found an object"
    if isinstance(node, list):
        return "found an array"
    return describe(node)


@hookimpl
def register_sources(register: Callable[[SourceType], None]) -> None:
    register(JsonSource())
