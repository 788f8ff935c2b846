"""Cells to codes: the distinct cells of a pyarrow column converted once each, and the numpy
helpers :mod:`.columnar` groups rows with. pyarrow and numpy are imported inside the functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Codes = npt.NDArray[np.int32]

#: Distinct cells of a column remembered across batches.
REMEMBERED = 200_000


class Cells:
    """The distinct cells of one column, each converted once by ``convert`` into a code.

    At most :data:`REMEMBERED` cells are remembered from one batch to the next (a column of
    all-distinct values must not hold a second copy of them); a cell met again after that is
    converted again, to the same indicator, period or label, or an equal value."""

    def __init__(self, convert: Callable[[object], int]) -> None:
        self.convert = convert
        self.seen: dict[object, int] = {}

    def codes(self, array: Any) -> Codes:
        """The code of every cell of a pyarrow array (``GiveUp`` from ``convert`` passes through)."""
        import numpy as np
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.compute as pc  # type: ignore[import-untyped]

        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        encoded = pc.dictionary_encode(array, null_encoding="encode")
        if len(self.seen) > REMEMBERED:
            self.seen = {}
        seen, convert = self.seen, self.convert
        local = []
        for raw in encoded.dictionary.to_pylist():
            # Equal but different cells stay apart: 0.0 and -0.0, Decimal 1.5 and 1.50, 1 and True.
            key = raw if type(raw) is str or type(raw) is int else (type(raw), repr(raw))
            code = seen.get(key)
            if code is None:
                code = seen[key] = convert(raw)
            local.append(code)
        table = np.asarray(local, dtype=np.int32)
        return table[int32s(encoded.indices)]


class Interned:
    """Distinct objects (indicator names, periods, label values) numbered from ``first``."""

    def __init__(self, first: int = 0) -> None:
        self.first = first
        self.ids: dict[Any, int] = {}
        self.items: list[Any] = []

    def id(self, item: Any) -> int:
        found = self.ids.get(item)
        if found is None:
            found = self.ids[item] = len(self.items) + self.first
            self.items.append(item)
        return found


def int32s(array: Any) -> Codes:
    """The values of a pyarrow int32 array without nulls, as numpy sees them (no copy)."""
    import numpy as np

    if str(array.type) != "int32":
        array = array.cast("int32")
    return np.frombuffer(array.buffers()[1], dtype=np.int32, count=len(array), offset=array.offset * 4)


def mask(keep: Any) -> Any:
    """A numpy boolean array as a pyarrow one (for ``filter``)."""
    import numpy as np
    import pyarrow as pa

    bits = np.packbits(keep, bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(keep), [None, pa.py_buffer(bits)])


def factorize(codes: Any) -> tuple[Any, int]:
    """Codes renumbered 0..n-1 (same order), and n."""
    import numpy as np

    unique, inverse = np.unique(codes, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), len(unique)


def objects(items: list[Any]) -> Any:
    """A numpy object array of ``items`` (never unpacked as nested sequences)."""
    import numpy as np

    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out
