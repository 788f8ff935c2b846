"""The columnar fast path of the ``csv`` source: the file parsed by pyarrow in blocks, the rows
grouped into series by :mod:`.columnar`.

:func:`read_csv_dataset` returns exactly the dataset the row-by-row reader's records make, or
``None`` whenever it cannot be sure to: a bad row of any kind, a duplicate observation, an
encoding other than UTF-8, a delimiter pyarrow does not take, a header on more than one line,
anything pyarrow refuses. The row-by-row reader then reads the file and reports precisely what
is wrong. pyarrow and numpy (the ``fast`` extra) are imported inside the functions only, so
this module imports without them (and then always returns ``None``).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..data import Dataset
from ..errors import SourceError
from ..source import SourceContext, SourceRequest
from .columnar import Columnar, GiveUp
from .tabular import RowConverter

if TYPE_CHECKING:
    from .csv_source import CsvParams

#: Bytes of the file parsed at a time. pyarrow reads a few dozen blocks ahead, so this bounds
#: the memory the text takes (about 40 MB), while per-block work stays small.
BLOCK_SIZE = 1 << 20
#: Encodings pyarrow reads as they are (a UTF-8 byte-order mark is passed over with the header).
_UTF8 = ("utf-8", "utf-8-sig")


def read_csv_dataset(
    params: CsvParams,
    context: SourceContext,
    path: Path,
    request: SourceRequest,
    rows: Callable[[int], None],
) -> Dataset | None:
    """The dataset of the CSV file at ``path`` (the indicators ``request`` asks for), exactly
    as the row-by-row reader and :meth:`Dataset.from_records
    <targetwatch.data.Dataset.from_records>` build it, or ``None`` when that cannot be assured
    (the row-by-row reader then reports the problem). Calls ``rows(n)`` after each block with
    the number of data rows parsed so far. Never raises for bad input."""
    if params.none_wanted(request.indicators):
        rows(0)
        return Dataset()
    try:
        import numpy  # noqa: F401
        import pyarrow as pa  # type: ignore[import-untyped]
    except ImportError:
        return None
    try:
        return _read(params, context, path, request, rows)
    except (GiveUp, SourceError, OSError, UnicodeError, csv.Error, ValueError, pa.ArrowException):
        return None  # ValueError covers pyarrow's ArrowInvalid and a calendar's PeriodError


def _read(
    params: CsvParams, context: SourceContext, path: Path, request: SourceRequest, rows: Callable[[int], None]
) -> Dataset | None:
    import pyarrow as pa
    import pyarrow.compute as pc  # type: ignore[import-untyped]
    import pyarrow.csv as pacsv  # type: ignore[import-untyped]

    delimiter = params.delimiter
    if codecs.lookup(params.encoding).name not in _UTF8:
        return None
    if len(delimiter) != 1 or not delimiter.isascii() or delimiter in '"\r\n':
        return None
    conv = RowConverter(params, context, params.path)
    with path.open("r", encoding=params.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        first = next(reader, None)
        if first is None or reader.line_num != 1 or not first or (len(first) == 1 and not first[0].strip()):
            return None  # blank lines before the header, or a header over several lines
    layout = conv.layout([cell.strip() for cell in first])
    columns = [f"c{i}" for i in range(layout.width)]
    builder = Columnar(conv, layout, request.indicators)
    limit = csv.field_size_limit()  # the row-by-row reader refuses a longer cell
    blocks = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            column_names=columns, skip_rows=1, block_size=BLOCK_SIZE, use_threads=True, encoding="utf8"
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=True,
            ignore_empty_lines=True,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in columns},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            check_utf8=True,
        ),
    )
    with blocks:
        for batch in blocks:
            for column in batch.columns:
                longest = pc.max(pc.binary_length(column)).as_py()
                if longest is not None and longest > limit:
                    return None
            builder.add(batch)
            rows(builder.rows)
    rows(builder.rows)
    return builder.dataset(context.name)
