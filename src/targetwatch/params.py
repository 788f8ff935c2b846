"""Declaring parameters once.

A rule kind, a source or a notifier declares its parameters as a frozen attrs class whose
fields are made with :func:`param`. From that one declaration targetwatch derives the
validation of rule and config files (with errors naming the file, the line, the key, what was
expected and what was found), the documentation table and the JSON Schema.

The parameter types (:class:`ParamType`, :class:`Number`, :class:`Text`, ...) are defined in
:mod:`targetwatch.param_types` and imported from here.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Collection, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from .errors import Problem
from .param_types import (
    Bounds,
    Choice,
    Date,
    Duration,
    Flag,
    IndicatorRef,
    Integer,
    Invalid,
    KeyPath,
    ListOf,
    Number,
    ParamType,
    ParseContext,
    PeriodSpec,
    Selector,
    StrMapping,
    Text,
    describe_found,
)

T = TypeVar("T")
_META = "targetwatch.param"


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


__all__ = [
    "REQUIRED",
    "Bounds",
    "Choice",
    "Date",
    "Duration",
    "Flag",
    "IndicatorRef",
    "Integer",
    "Invalid",
    "KeyPath",
    "ListOf",
    "Number",
    "ParamSpec",
    "ParamType",
    "ParseContext",
    "PeriodSpec",
    "Selector",
    "StrMapping",
    "Text",
    "describe_found",
    "doc_rows",
    "dotted",
    "json_schema",
    "param",
    "parse",
    "parse_typed",
    "show_value",
    "specs",
]
