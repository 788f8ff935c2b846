"""JSON text of verdicts for the ``json`` output format, fast and exact.

The document ``json.dumps`` would write for a check, written as text directly: numbers from
their :class:`~decimal.Decimal` text, strings through the same escaping function ``json``
uses, and what repeats from verdict to verdict (a rule's id, title, kind, severity and tags;
a series' labels; the keys of the details) encoded once. Anything of a type the fast path does
not know is encoded by ``json`` itself, so the text is the same byte for byte."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, Final

from ..model import Verdict

#: Integral values below this magnitude are JSON integers; others are floats.
_INT_LIMIT: Final = 2**53


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an int when integral and below 2**53 in magnitude, else the
    nearest float."""
    # adjusted() < 16 means |value| < 10**16 (or zero), so int() is cheap; infinities and NaN
    # are floats.
    if value.is_finite() and (value.adjusted() < 16 or value.is_zero()):
        integral = int(value)
        if integral == value and -_INT_LIMIT < integral < _INT_LIMIT:
            return integral
    return float(value)


def json_default(value: Any) -> Any:
    """What ``json`` cannot write itself: Decimals as numbers, periods and dates as text."""
    return json_number(value) if isinstance(value, Decimal) else str(value)


def _number(value: Decimal | None) -> int | float | None:
    return None if value is None else json_number(value)


def plain(value: Any) -> Any:
    """``value`` with Decimals as JSON numbers, tuples as lists and other objects as text."""
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def verdict_json(v: Verdict, *, plain_details: bool = True) -> dict[str, Any]:
    """One verdict as the JSON object documented in the README (schema version 1).

    With ``plain_details=False`` the details are left as they are, for a ``json.dumps`` that
    converts them through :func:`json_default`."""
    return {
        "rule": v.rule, "title": v.title, "kind": v.kind, "indicator": v.indicator,
        "labels": dict(v.labels), "status": v.status.value, "value": _number(v.value),
        "target": _number(v.target), "margin": _number(v.margin),
        "period": str(v.period) if v.period else None, "unit": v.unit, "message": v.message,
        "severity": v.severity, "tags": list(v.tags), "details": plain(dict(v.details)) if plain_details else v.details,
        "silenced": v.silenced,
    }


#: ``json.dumps`` as the document is written (compact, UTF-8 text as is).
compact: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=json_default).encode


def _float_text(value: float) -> str:
    """A float as ``json`` writes it (``NaN`` and ``Infinity`` included)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def number_text(value: Decimal) -> str:
    """The JSON text of :func:`json_number` of ``value``, read off the Decimal's own text when
    that gives the same characters: a whole number of at most 15 digits is its digits; a
    fraction of at most 15 significant digits and at least 0.0001 in magnitude is its digits
    without trailing zeros (such a float's shortest ``repr`` has exactly those digits, and
    ``repr`` writes it without an exponent). Anything else goes through the float."""
    text = str(value)
    if text.isdigit():
        if len(text) < 16:
            return text
    elif "." in text:
        if "E" not in text:
            short = text.rstrip("0")
            if short[-1] == ".":
                whole = short[:-1]
                if len(whole) < 16 and whole != "-0":
                    return whole
            elif len(short.lstrip("-0.")) < 16 and not short.startswith(("0.0000", "-0.0000")):
                return short
    elif text[0] == "-" and text[1:].isdigit() and len(text) < 17 and text != "-0":
        return text
    number = json_number(value)
    return int.__repr__(number) if isinstance(number, int) else _float_text(number)


def _all_text(values: Sequence[object]) -> bool:
    return all(type(v) is str for v in values)


class VerdictEncoder:
    """Encodes verdicts as the compact JSON objects of the ``json`` format, remembering the
    text of what repeats from one verdict to the next (use one encoder per document)."""

    def __init__(self) -> None:
        self._heads: dict[tuple[str, str, str, str], str] = {}
        self._labels: dict[tuple[tuple[str, str], ...], str] = {}
        self._tails: dict[tuple[str, tuple[str, ...]], str] = {}
        self._units: dict[str | None, str] = {None: "null"}
        self._shapes: dict[tuple[Any, ...], str] = {}

    def encode(self, verdicts: Sequence[Verdict]) -> str:
        """The verdicts as JSON objects joined by commas (the inside of a JSON array)."""
        return ",".join(self._verdicts(verdicts))

    def _verdicts(self, verdicts: Sequence[Verdict]) -> Iterator[str]:
        heads, labels, tails, units, shapes = self._heads, self._labels, self._tails, self._units, self._shapes
        enc, number = encode_basestring, number_text
        last_target: Decimal | None = None
        last_target_text = "null"
        for v in verdicts:
            try:
                key = (v.rule, v.title, v.kind, v.indicator)
                head = heads.get(key)
                if head is None:
                    head = self._head(key)
                label_text = labels.get(v.labels)
                if label_text is None:
                    label_text = self._label_text(v.labels)
                tail_key = (v.severity, v.tags)
                tail = tails.get(tail_key)
                if tail is None:
                    tail = self._tail(tail_key)
                unit = units.get(v.unit)
                if unit is None:
                    unit = self._unit(v.unit)
                value, target, margin, period, silenced = v.value, v.target, v.margin, v.period, v.silenced
                value_text = "null" if value is None else number(value)
                if target is not last_target:  # a rule's target is often one object for all series
                    last_target, last_target_text = target, "null" if target is None else number(target)
                target_text = last_target_text
                margin_text = "null" if margin is None else number(margin)
                # The details: Decimals (often the very value, target or margin above), text and
                # whole numbers under text keys, into the text of their keys; else by json.
                details = v.details
                details_text = None
                if type(details) is dict:
                    shape = tuple(details)
                    template = shapes.get(shape)
                    if template is None:
                        template = self._shape(shape)
                    if template:
                        texts = []
                        for item in details.values():
                            kind = type(item)
                            if kind is Decimal:
                                if item is value:
                                    texts.append(value_text)
                                elif item is target:
                                    texts.append(target_text)
                                elif item is margin:
                                    texts.append(margin_text)
                                else:
                                    texts.append(number(item))
                            elif kind is str:
                                texts.append(enc(item))
                            elif kind is int:
                                texts.append(int.__repr__(item))
                            else:
                                break
                        else:
                            details_text = template % tuple(texts)
                if details_text is None:
                    details_text = compact(details)
                yield (
                    f"{head}{label_text},\"status\":{enc(v.status._value_)},\"value\":{value_text}"
                    f",\"target\":{target_text},\"margin\":{margin_text}"
                    f",\"period\":{enc(str(period)) if period else 'null'},\"unit\":{unit}"
                    f",\"message\":{enc(v.message)}{tail}{details_text}"
                    f",\"silenced\":{'null' if silenced is None else enc(silenced)}}}"
                )
            except TypeError:  # not of the declared types (tags or labels in a list, say)
                yield compact(verdict_json(v, plain_details=False))

    def _head(self, key: tuple[str, str, str, str]) -> str:
        rule, title, kind, indicator = (compact(x) for x in key)
        head = f'{{"rule":{rule},"title":{title},"kind":{kind},"indicator":{indicator},"labels":'
        if _all_text(key):
            self._heads[key] = head
        return head

    def _label_text(self, labels: tuple[tuple[str, str], ...]) -> str:
        text = compact(dict(labels))
        if all(type(pair) is tuple and _all_text(pair) for pair in labels):
            self._labels[labels] = text
        return text

    def _tail(self, key: tuple[str, tuple[str, ...]]) -> str:
        severity, tags = key
        text = f',"severity":{compact(severity)},"tags":{compact(list(tags))},"details":'
        if type(severity) is str and type(tags) is tuple and _all_text(tags):
            self._tails[key] = text
        return text

    def _unit(self, unit: str | None) -> str:
        text = compact(unit)
        if type(unit) is str:
            self._units[unit] = text
        return text

    def _shape(self, shape: tuple[Any, ...]) -> str:
        """The details object's text with ``%s`` for each value ("" when a key is not text)."""
        template = ""
        if _all_text(shape):
            template = "{" + ",".join(encode_basestring(key).replace("%", "%%") + ":%s" for key in shape) + "}"
        self._shapes[shape] = template
        return template
