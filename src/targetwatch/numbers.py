"""Exact numbers: parsing values and bounds as :class:`~decimal.Decimal`, monitoring-plugins
ranges, and formatting for people.

Every value targetwatch compares is a ``Decimal`` parsed from its text, so a figure that is
exactly on target passes (``1.1`` -> ``1.21`` is exactly +10 %, which binary floats get wrong).
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from typing import Final

import attrs

#: Precision used for every comparison: far beyond any figure a report carries, so products
#: such as ``target * elapsed`` are exact.
PRECISION: Final = 60

_SEPARATORS = str.maketrans("", "", ",_ \u00a0\u2009\u202f\uff0c")
_SCALE_SUFFIXES: Final = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}


_EXACT: Final = decimal.Context(prec=PRECISION, rounding=decimal.ROUND_HALF_EVEN)


def exact_context() -> decimal.Context:
    """A decimal context precise enough that the comparisons targetwatch makes do not round.

    One shared instance: ``decimal.localcontext(ctx)`` works on a copy, so callers never
    change it (and building a Context for each of millions of values is measurable)."""
    return _EXACT


def parse_number(raw: object, *, allow_percent: bool = True) -> Decimal:
    """Parse a number from a rule file or a data row.

    Accepts ints, floats (by their shortest text, so ``0.0489`` stays ``0.0489``), ``Decimal``
    and strings with thousands separators (``"50,000"``, ``"50_000"``), a percent sign
    (``"4.89%"`` == ``0.0489``) and the Chinese scale suffixes 万 and 亿 (``"1.2万"`` == 12000).
    Raises ``ValueError`` with a sentence saying what was found.
    """
    if isinstance(raw, bool):
        raise ValueError(f"found a boolean ({str(raw).lower()})")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        return Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        value = _parse_text(raw, allow_percent=allow_percent)
    else:
        raise ValueError(f"found {type(raw).__name__} {raw!r}")
    if not value.is_finite():
        raise ValueError(f"found {raw!r}, which is not a finite number")
    return value


_GROUPED = re.compile(r"^[-+]?\d{1,3}([,\uff0c]\d{3})+(\.\d*)?")


def _parse_text(raw: str, *, allow_percent: bool) -> Decimal:
    stripped = raw.strip()
    if ("," in stripped or "\uff0c" in stripped) and not _GROUPED.match(stripped):
        # "1,2,3" is a typo or a list, not 123: thousands separators must group by three.
        raise ValueError(f"found {raw!r}: thousands separators must group digits by three")
    text = stripped.translate(_SEPARATORS)
    scale = Decimal(1)
    if text.endswith("%") or text.endswith("\uff05"):
        if not allow_percent:
            raise ValueError(f"found {raw!r}; a percentage is not allowed here")
        text = text[:-1]
        scale = Decimal("0.01")
    elif text and text[-1] in _SCALE_SUFFIXES:
        scale = _SCALE_SUFFIXES[text[-1]]
        text = text[:-1]
    if not text or text.lower() in {"nan", "inf", "-inf", "+inf", "infinity", "-infinity"}:
        raise ValueError(f"found {raw!r}")
    try:
        value = Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError(f"found {raw!r}") from None
    if scale == 1:
        return value
    with decimal.localcontext(exact_context()):  # the ambient 28 digits would round long figures
        return value * scale


@attrs.frozen
class Range:
    """A monitoring-plugins threshold range: ``10`` (0..10), ``10:`` (at least 10), ``~:10``
    (at most 10), ``10:20`` (inside, inclusive) and ``@10:20`` (alert when inside).

    ``low``/``high`` of ``None`` mean unbounded. Bounds are inclusive.
    """

    low: Decimal | None
    high: Decimal | None
    alert_inside: bool = False

    @classmethod
    def parse(cls, raw: object) -> Range:
        """Parse the range syntax; numbers may be percentages (``"95%:"``). Raises ``ValueError``."""
        if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
            return cls(Decimal(0), parse_number(raw))
        if not isinstance(raw, str):
            raise ValueError(f"found {type(raw).__name__} {raw!r}")
        text = raw.strip()
        inside = text.startswith("@")
        if inside:
            text = text[1:]
        if not text.strip():  # an empty range must not silently mean "at least 0"
            raise ValueError(f"found {raw!r}, which is not a range such as '50000:', '~:4.89%', '10:20' or '@10:20'")
        if ":" not in text:
            low_text, high_text = "0", text
        else:
            low_text, _, high_text = text.partition(":")
        try:
            low = None if low_text.strip() in {"~", ""} else parse_number(low_text)
            high = None if high_text.strip() == "" else parse_number(high_text)
        except ValueError:
            raise ValueError(f"found {raw!r}, which is not a range such as '50000:', '~:4.89%', '10:20' or '@10:20'") from None
        if low_text.strip() == "" and ":" in text:
            raise ValueError(f"found {raw!r}: the low end is missing (write '~:' for no low end)")
        if low is not None and high is not None and low > high:
            raise ValueError(f"found {raw!r}: the low end is above the high end")
        return cls(low, high, inside)

    def contains(self, value: Decimal) -> bool:
        """True when ``value`` lies within the bounds (inclusive)."""
        if self.low is not None and value < self.low:
            return False
        return self.high is None or value <= self.high

    def alerts(self, value: Decimal) -> bool:
        """True when ``value`` should alert: outside the range, or inside it for ``@`` ranges."""
        return self.contains(value) == self.alert_inside

    def __str__(self) -> str:
        low = "~" if self.low is None else _plain(self.low)
        high = "" if self.high is None else _plain(self.high)
        text = high if low == "0" and self.high is not None else f"{low}:{high}"
        return ("@" if self.alert_inside else "") + text


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def plain(value: Decimal) -> str:
    """A Decimal as plain text without exponent or trailing zeros (``Decimal('1E+3')`` -> ``1000``)."""
    return _plain(value)


#: Units that Chinese writes in 万 (ten thousand) once a figure reaches 10,000: 32,700 人 is
#: 3.27万人. A unit that already carries a scale (万元) is left alone.
WAN_UNITS: Final = frozenset({"元", "人", "人次"})
_WAN: Final = Decimal(10_000)


def format_number(value: Decimal | int | None, unit: str | None = None) -> str:
    """Format a value for people: thousands separators, a sensible number of decimals, the
    unit appended; unit ``%`` shows a fraction as a percentage (``0.0489`` -> ``4.89%``).

    The current locale (:mod:`targetwatch.i18n`) decides the rest. Chinese writes digits,
    the ``,`` grouping and the ``.`` decimal point as English does (CLDR ``zh``), so only
    units differ: under ``zh-CN`` a value of at least 10,000 in a unit of :data:`WAN_UNITS`
    is shown in 万, with up to four decimals so that a whole count is never rounded
    (``32,712 人`` -> ``3.2712万人``, ``32,700 人`` -> ``3.27万人``); the unit ``days`` (ages)
    is written in the locale's word (``3 天``)."""
    if value is None:
        return "—"
    if type(value) is not Decimal:
        value = Decimal(value)
    if not unit:  # the common case first: no unit to append
        return _round(value, 2 if abs(value) >= 1 else 4)
    if unit == "%":
        return f"{_round(value * 100, 2)}%"
    if unit in WAN_UNITS and abs(value) >= _WAN:
        from .i18n import current

        if current() == "zh-CN":
            return f"{_round(_EXACT.divide(value, _WAN), 4)}万{unit}"
    if unit == "days":  # the unit targetwatch itself gives ages (freshness): a word to translate
        from .i18n import pgettext

        unit = pgettext("unit", "days")
    text = _round(value, 2 if abs(value) >= 1 else 4)
    return f"{text} {unit}" if unit else text


#: Rounding for display: half up, as people round in reports (2.345 -> 2.35); never a decision.
_HALF_UP: Final = decimal.Context(prec=PRECISION, rounding=decimal.ROUND_HALF_UP)
_QUANTA: Final = {places: Decimal(1).scaleb(-places) for places in range(9)}


def _round(value: Decimal, places: int) -> str:
    # The context is passed to quantize rather than entered: entering one costs more than the
    # rounding itself, and the result is the same.
    quantum = _QUANTA.get(places)
    if quantum is None:
        quantum = Decimal(1).scaleb(-places, _EXACT)
    rounded = value.quantize(quantum, decimal.ROUND_HALF_UP, _HALF_UP)
    # Below 1,000 there is nothing to group, and str() writes a number with a few decimals
    # exactly as format(..., ",f") does, only faster.
    text = str(rounded) if rounded.adjusted() < 3 and 0 < places <= 6 else f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" or not text else text
