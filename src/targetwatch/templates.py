"""Message templates: a closed grammar of ``{field}`` and ``{field:spec}`` placeholders.

Templates are user text (Chinese works); a field is a plain name (``value``, ``target``,
``period``, a detail such as ``expected``) or ``label.NAME``. Nothing else is evaluated:
no attribute access, no indexing, no expressions, and data values inserted into a message
are never read as template text.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .numbers import format_number

COMMON_FIELDS = frozenset(
    {"rule", "title", "kind", "indicator", "status", "value", "target", "margin", "period",
     "unit", "severity", "message", "labels", "series"}
)
_FIELD = re.compile(r"^(label\.[^{}:!]+|[A-Za-z_][A-Za-z0-9_]*)$")
_FORMATTER = string.Formatter()


def check(template: str) -> list[str]:
    """Problems with a template's syntax (unbalanced braces, a field that is not a plain name)."""
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as exc:
        return [f"invalid template: {exc} (write {{{{ and }}}} for literal braces)"]
    problems = []
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if not _FIELD.match(field):
            problems.append(f"invalid placeholder {{{field}}}: expected a field name such as {{value}} or {{label.district}}")
        if conversion:
            problems.append(f"placeholder {{{field}!{conversion}}}: conversions are not supported")
        if spec and "{" in spec:
            problems.append(f"placeholder {{{field}:{spec}}}: nested placeholders are not supported")
    return problems


def render(template: str, fields: Mapping[str, Any], units: Mapping[str, str | None] | None = None) -> str:
    """Fill a checked template. Numbers show with separators and their unit unless a format
    spec is given; a field the verdict does not have renders as ``n/a``."""
    units = units or {}
    out = []
    for literal, field, spec, _ in _FORMATTER.parse(template):
        out.append(literal)
        if field is None:
            continue
        value = fields.get(field)
        if value is None:
            out.append("n/a")
        elif isinstance(value, (Decimal, int)) and not isinstance(value, bool):
            if spec:
                try:
                    out.append(format(Decimal(value), spec))
                except ValueError:
                    out.append(format_number(value, units.get(field)))
            else:
                out.append(format_number(value, units.get(field)))
        else:
            text = str(value)
            if spec:
                try:
                    text = format(text, spec)
                except ValueError:  # a numeric spec on text (e.g. {period:.1f}) must not crash a run
                    pass
            out.append(text)
    return "".join(out)
