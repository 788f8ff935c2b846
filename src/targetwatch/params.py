"""Declaring parameters once.

A rule kind, a source or a notifier declares its parameters as a frozen attrs class whose
fields are made with :func:`param`. From that one declaration targetwatch derives the
validation of rule and config files (with errors naming the file, the line, the key, what was
expected and what was found), the documentation table and the JSON Schema.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Collection, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .errors import Problem
from .numbers import Range, parse_number

if TYPE_CHECKING:
    from .periods import Calendar

T = TypeVar("T")
KeyPath = tuple[str | int, ...]
_META = "targetwatch.param"


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
    """A period label (``2023-H2``, a term name) or a relative period (``current half``).

    Kept as text: relative periods resolve against ``as_of`` when the rule is evaluated.
    """

    expected = "a period such as '2023-H2', '2023-Q3', '2023-07', a term name, or 'current half' / 'previous year'"

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


REQUIRED: Any = attrs.NOTHING


@attrs.frozen
class ParamSpec:
    """The declaration of one parameter, stored in the attrs field's metadata."""

    type: ParamType
    doc: str
    required: bool
    default: Any
    #: The key in files when it cannot be the attribute's name (``for`` is a Python keyword).
    key: str | None = None
    #: The attribute's name (filled in by :func:`specs`).
    field: str = ""
    #: How the default reads in the docs, when its value would read badly.
    show: str | None = None


def param(type_: ParamType, *, doc: str, default: Any = REQUIRED, key: str | None = None, show: str | None = None) -> Any:
    """Declare one parameter of a kind, source or notifier (an attrs field with metadata).

    Omit ``default`` for a required parameter; give ``key`` when the file key differs from
    the attribute name.
    """
    spec = ParamSpec(type_, doc, default is REQUIRED, None if default is REQUIRED else default, key, show=show)
    return attrs.field(default=default, kw_only=True, metadata={_META: spec})


def specs(cls: type) -> dict[str, ParamSpec]:
    """The declared parameters of a params class by their key in files, in declaration order."""
    out = {}
    for f in attrs.fields(cls):
        if _META in f.metadata:
            spec: ParamSpec = f.metadata[_META]
            out[spec.key or f.name] = attrs.evolve(spec, field=f.name)
    return out


def parse(
    cls: type[T],
    raw: Mapping[str, Any],
    ctx: ParseContext,
    path: KeyPath = (),
    *,
    what: str = "",
    ignore: Collection[str] = (),
) -> tuple[T | None, list[Problem]]:
    """Check and convert ``raw`` into an instance of ``cls``; return it (or ``None``) and the problems.

    Keys in ``ignore`` are handled by the caller. Unknown keys are errors (with a suggestion).
    After the fields convert, a ``problems()`` method on the class, if any, adds cross-field
    checks as ``(key, message)`` pairs.
    """
    declared = specs(cls)
    problems: list[Problem] = []
    values: dict[str, Any] = {}

    def problem(key: str | None, message: str) -> None:
        sub = (*path, key) if key else path
        problems.append(Problem(message, ctx.file, ctx.locate(sub), dotted(sub)))

    for key in raw:
        if key in declared or key in ignore:
            continue
        allowed = sorted([*declared, *ignore])
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        problem(str(key), f"unknown key {key!r}{' for ' + what if what else ''}; {hint}expected one of: {', '.join(allowed)}")
    for name, spec in declared.items():
        if name not in raw:
            if spec.required:
                problem(name, f"missing required key {name!r}: expected {spec.type.expected}")
            continue
        try:
            values[spec.field] = spec.type.convert(raw[name], ctx)
        except Invalid as exc:
            problem(name, f"expected {spec.type.expected}, {exc}")
    if problems:
        return None, problems
    instance = cls(**values)
    check = getattr(instance, "problems", None)
    if callable(check):
        for key, message in check():
            problem(key, message)
    return (None, problems) if problems else (instance, [])


def parse_typed(
    raw: object,
    types: Mapping[str, Any],
    ctx: ParseContext,
    path: KeyPath,
    *,
    category: str,
    ignore: Collection[str] = ("type",),
) -> tuple[str | None, Any, list[Problem]]:
    """A table whose ``type`` key picks a plugin (a source, a channel) and whose other keys are
    that plugin's ``Params``: returns the type, the converted params (or ``None``) and problems."""
    if not isinstance(raw, Mapping):
        return None, None, [Problem("expected a table with a type", ctx.file, ctx.locate(path), dotted(path))]
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in types:
        found = f"found {kind!r}" if kind is not None else "the key 'type' is missing"
        where = (*path, "type")
        message = f"expected a {category} type, one of {', '.join(sorted(types))}; {found}"
        return None, None, [Problem(message, ctx.file, ctx.locate(where), dotted(where))]
    params, problems = parse(types[kind].Params, raw, ctx, path, what=f"a {kind} {category}", ignore=ignore)
    return kind, params, problems


def dotted(path: KeyPath) -> str | None:
    """A key path as text: ``rule[2].max``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or None


def json_schema(cls: type, *, extra: Mapping[str, Any] | None = None, required_extra: Sequence[str] = ()) -> dict[str, Any]:
    """A JSON Schema object for ``cls``'s parameters (plus ``extra`` properties), closed to unknown keys."""
    properties: dict[str, Any] = dict(extra or {})
    required = list(required_extra)
    for name, spec in specs(cls).items():
        properties[name] = {**spec.type.schema(), "description": spec.doc}
        if spec.required:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def doc_rows(cls: type) -> list[tuple[str, str, str, str]]:
    """Rows ``(key, expected, required or default, description)`` for documentation tables."""
    rows = []
    for name, spec in specs(cls).items():
        default = "required" if spec.required else ("—" if spec.default is None else spec.show or show_value(spec.default))
        rows.append((name, spec.type.expected, default, spec.doc))
    return rows


def show_value(value: Any) -> str:
    """A parameter value as a user would write it (``true``, ``1d``, ``[a, b]``)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("min", 60)):
            if seconds and seconds % size == 0:
                return f"{seconds // size}{unit}"
        return f"{seconds}s" if seconds else "0"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return str(value)
