"""What a parameter's value may be: the :class:`ParamType` contract and the built-in types.

A type checks one raw value from a rule or config file (TOML/YAML) and converts it, or raises
:class:`Invalid` saying what was found; it also says what it expects, for errors and the
documentation, and gives its JSON Schema fragment. Plugin authors import these names from
:mod:`targetwatch.params`.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Collection, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from .numbers import Range, parse_number

if TYPE_CHECKING:
    from .periods import Calendar

KeyPath = tuple[str | int, ...]


class Invalid(ValueError):
    """Raised by :meth:`ParamType.convert`; the text says what was found."""


@attrs.frozen
class ParseContext:
    """What validation may consult: where the text came from, the calendar, known indicators."""

    file: str | None = None
    locate: Callable[[KeyPath], int | None] = lambda path: None
    calendar: Calendar | None = None
    indicators: Collection[str] | None = None


def describe_found(raw: object) -> str:
    """``found "abc"`` style text used in every error."""
    if isinstance(raw, str):
        return f"found {raw!r}"
    if isinstance(raw, bool):
        return f"found {str(raw).lower()}"
    if raw is None:
        return "found nothing"
    if isinstance(raw, Mapping):
        return "found a table"
    if isinstance(raw, (list, tuple)):
        return "found a list"
    return f"found {type(raw).__name__} {raw!r}"


class ParamType:
    """How one parameter's raw value (from TOML/YAML) is checked and converted."""

    #: Human text for "expected ...", e.g. ``a number or a percentage such as "4.89%"``.
    expected: str = "a value"

    def convert(self, raw: object, ctx: ParseContext) -> Any:
        """Return the converted value or raise :class:`Invalid` saying what was found."""
        return raw

    def schema(self) -> dict[str, Any]:
        """The JSON Schema fragment for this type."""
        return {}


class Number(ParamType):
    def __init__(self, *, percent: bool = True, minimum: Decimal | int | None = None) -> None:
        self.percent = percent
        self.minimum = None if minimum is None else Decimal(minimum)
        self.expected = 'a number or a percentage such as 0.0489 or "4.89%"' if percent else 'a number such as 50000 or "50,000"'
        if self.minimum is not None:
            self.expected += f" (at least {self.minimum})"

    def convert(self, raw: object, ctx: ParseContext) -> Decimal:
        try:
            value = parse_number(raw, allow_percent=self.percent)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"found {raw!r}")
        return value

    def schema(self) -> dict[str, Any]:
        pattern = r"^\s*[-+]?[0-9][0-9,_ ]*(\.[0-9]+)?\s*(%|万|亿)?\s*$"
        return {"anyOf": [{"type": "number"}, {"type": "string", "pattern": pattern}]}


class Integer(ParamType):
    def __init__(self, *, minimum: int | None = None) -> None:
        self.minimum = minimum
        self.expected = "a whole number" + (f" of at least {minimum}" if minimum is not None else "")

    def convert(self, raw: object, ctx: ParseContext) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise Invalid(describe_found(raw))
        if self.minimum is not None and raw < self.minimum:
            raise Invalid(describe_found(raw))
        return raw

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        return out


class Text(ParamType):
    expected = "a string"

    def __init__(self, *, nonempty: bool = True) -> None:
        self.nonempty = nonempty

    def convert(self, raw: object, ctx: ParseContext) -> str:
        if not isinstance(raw, str) or (self.nonempty and not raw.strip()):
            raise Invalid(describe_found(raw) if raw != "" else "found an empty string")
        return raw

    def schema(self) -> dict[str, Any]:
        return {"type": "string", **({"minLength": 1} if self.nonempty else {})}


class Choice(ParamType):
    def __init__(self, *choices: str) -> None:
        self.choices = choices
        self.expected = "one of " + ", ".join(repr(c) for c in choices)

    def convert(self, raw: object, ctx: ParseContext) -> str:
        if raw not in self.choices:
            hint = ""
            if isinstance(raw, str):
                close = difflib.get_close_matches(raw, self.choices, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise Invalid(describe_found(raw) + hint)
        return str(raw)

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


class Flag(ParamType):
    expected = "true or false"

    def convert(self, raw: object, ctx: ParseContext) -> bool:
        if not isinstance(raw, bool):
            raise Invalid(describe_found(raw))
        return raw

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Bounds(ParamType):
    expected = "a range such as '50000:', '~:4.89%', '10:20' or '@10:20'"

    def convert(self, raw: object, ctx: ParseContext) -> Range:
        try:
            return Range.parse(raw)
        except ValueError as exc:
            raise Invalid(str(exc).split(", which is not a range")[0]) from None

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "string"}, {"type": "number"}]}


class IndicatorRef(ParamType):
    expected = "the name of an indicator declared in the config"

    def convert(self, raw: object, ctx: ParseContext) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise Invalid(describe_found(raw))
        known = ctx.indicators
        if known is not None and raw not in known:
            close = difflib.get_close_matches(raw, list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            if not close:
                hint = f' (declare it in the config as [indicators."{raw}"])'
            raise Invalid(f"found unknown indicator {raw!r}{hint}")
        return raw

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1}


class PeriodSpec(ParamType):
    """A period label (``2023-H2``, a term name, a span ``2023-04..2023-09``) or a relative
    period (``current half``, ``last 6 months``).

    Kept as text: relative periods resolve against ``as_of`` when the rule is evaluated.
    """

    expected = "a period such as '2023-H2', '2023-Q3', '2023-07', '2023-04..2023-09', a term name, or 'current half' / 'previous year' / 'last 6 months'"

    def convert(self, raw: object, ctx: ParseContext) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise Invalid(describe_found(raw))
        if ctx.calendar is not None:
            try:
                ctx.calendar.check_spec(raw)
            except ValueError as exc:
                raise Invalid(f"{describe_found(raw)}: {exc}") from None
        return raw.strip()

    def schema(self) -> dict[str, Any]:
        return {"type": "string"}


class Date(ParamType):
    expected = "a date such as 2023-09-01"

    def convert(self, raw: object, ctx: ParseContext) -> dt.date:
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw.strip())
            except ValueError:
                pass
        raise Invalid(describe_found(raw))

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


class Duration(ParamType):
    expected = "a duration such as '45d', '6w', '36h', '2mo' or 'P1M'"

    def convert(self, raw: object, ctx: ParseContext) -> Any:
        from .periods import parse_duration

        try:
            return parse_duration(raw)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            raise Invalid(describe_found(raw)) from None

    def schema(self) -> dict[str, Any]:
        return {"type": "string"}


class Selector(ParamType):
    expected = "a table of label = value (a string, a list of strings, or { not = ... } / { match = ... })"

    def convert(self, raw: object, ctx: ParseContext) -> Any:
        from .model import LabelSelector

        try:
            return LabelSelector.from_mapping(raw)
        except ValueError as exc:
            raise Invalid(str(exc)) from None

    def schema(self) -> dict[str, Any]:
        matcher = {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}},
                {"type": "object", "properties": {"not": {"type": "string"}, "match": {"type": "string"}}, "additionalProperties": False},
            ]
        }
        return {"type": "object", "additionalProperties": matcher}


class ListOf(ParamType):
    def __init__(self, item: ParamType, *, single_ok: bool = True) -> None:
        self.item = item
        self.single_ok = single_ok
        self.expected = f"a list of {item.expected}" + (" (or just one)" if single_ok else "")

    def convert(self, raw: object, ctx: ParseContext) -> tuple[Any, ...]:
        if self.single_ok and not isinstance(raw, (list, tuple)):
            raw = [raw]
        if not isinstance(raw, (list, tuple)):
            raise Invalid(describe_found(raw))
        out = []
        for index, item in enumerate(raw):
            try:
                out.append(self.item.convert(item, ctx))
            except Invalid as exc:
                raise Invalid(f"item {index + 1}: {exc}") from None
        return tuple(out)

    def schema(self) -> dict[str, Any]:
        array = {"type": "array", "items": self.item.schema()}
        return {"anyOf": [array, self.item.schema()]} if self.single_ok else array


class StrMapping(ParamType):
    expected = "a table of names to strings"

    def __init__(self, keys: Sequence[str] | None = None) -> None:
        self.keys = keys
        if keys:
            self.expected = "a table with keys " + ", ".join(keys)

    def convert(self, raw: object, ctx: ParseContext) -> dict[str, str]:
        if not isinstance(raw, Mapping):
            raise Invalid(describe_found(raw))
        out = {}
        for key, value in raw.items():
            if self.keys is not None and key not in self.keys:
                raise Invalid(f"found unknown key {key!r}")
            if not isinstance(value, str):
                raise Invalid(f"key {key!r}: {describe_found(value)}")
            out[str(key)] = value
        return out

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
        if self.keys is not None:
            out["properties"] = {k: {"type": "string"} for k in self.keys}
            out["additionalProperties"] = False
        return out
