"""How the state file writes an alert's lifecycle state: one text of fields, some of them
relative to the last check of the alert's rule.

A run that judges a rule records that check once (the ``checks`` table: when, as of when, and
how many checks of the rule at distinct moments came before). An alert judged by that check
writes its ``checked_at`` and ``as_of`` as ``@`` (the check's), its ``last_bad_at`` as ``=``
when it equals ``checked_at``, and its count of consecutive non-OK checks as ``@N`` (the
rule's count of checks minus N). An alert that the next check leaves as it was — OK and
still OK, or still failing the same way — then has the very same text, and need not be
written again. An alert of a judged rule that a check does not judge is rewritten with
every field absolute before the rule's check moves on.

The text of one state: status, firing (0/1), consecutive, bad_since, checked_at, as_of,
last_bad_at, since, fired_at, episode, separated by U+001F; an empty field is ``None``.
Moments are ISO 8601 in UTC. Every field is machine-written (an enum value, a moment, an
integer), so the separator never occurs in one.

A stored alert is one line: its *tail* — value, target, margin (exact decimals as text),
labels (JSON), title, severity, message, period — then its state, all separated by U+001F.
A text field without a value (``None``) is written U+001E. A line whose text fields hold a
U+001F, or are U+001E, is written as a JSON array of the same fields instead (it starts with
``[``, which a tail never does).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

import attrs

from .alerts import AlertState
from .errors import TargetwatchError
from .model import Status

SEP: Final = "\x1f"

#: The start of the text of an OK alert that is not firing, has no failing streak, and was
#: judged by its rule's last check as of that check's moment: an OK verdict leaves all of
#: it as it is, unless ``last_bad_at`` (the next field) is ``=`` or the new check's moment.
QUIET_OK: Final = SEP.join(("OK", "0", "0", "", "@", "@", ""))

_STATUS: Final = {s.value: s for s in Status}
_OK: Final = Status.OK


class StateFormatError(TargetwatchError):
    """An alert's stored state cannot be read (the state file is damaged)."""


@attrs.frozen
class Check:
    """A rule's last check: its moment (``at``, and as written), the moment it judged as of
    (as written), and how many checks of the rule at distinct moments came before it."""

    at: dt.datetime
    at_text: str
    as_of_text: str
    seq: int

    def next(self, at: dt.datetime, at_text: str, as_of_text: str) -> Check:
        """The check after this one, at ``at``: a re-run at the same moment is the same check."""
        return Check(at, at_text, as_of_text, self.seq if at == self.at else self.seq + 1)


def moment_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


class Codec:
    """Encodes and decodes alert states, remembering the moments it has seen (a state file
    holds few distinct moments: those of its runs)."""

    def __init__(self) -> None:
        self._moments: dict[str, dt.datetime] = {}
        self._texts: dict[dt.datetime, str] = {}
        self._last: tuple[dt.datetime | None, str] = (None, "")

    def moment(self, text: str) -> dt.datetime:
        found = self._moments.get(text)
        if found is None:
            found = self._moments[text] = dt.datetime.fromisoformat(text)
        return found

    def text(self, moment: dt.datetime) -> str:
        last, last_text = self._last
        if moment is last:
            return last_text
        # Equal moments in different zones share a key, and their text (in UTC) too.
        found = self._texts.get(moment)
        if found is None:
            found = self._texts[moment] = moment_text(moment)
        self._last = (moment, found)
        return found

    def encode(self, state: AlertState, as_of: str | None, check: Check | None) -> str:
        """The text of ``state`` (with the ``as_of`` it was judged for), relative to
        ``check`` when ``state`` was judged by it."""
        text = self.text
        checked = state.checked_at
        if check is not None and checked is not None and checked == check.at:
            checked_text = "@"
            consecutive = f"@{check.seq - state.consecutive}" if state.consecutive else "0"
            as_of_text = "@" if as_of == check.as_of_text else (as_of or "")
        else:
            checked_text = "" if checked is None else text(checked)
            consecutive = str(state.consecutive)
            as_of_text = as_of or ""
        last_bad = state.last_bad_at
        if last_bad is None:
            last_bad_text = ""
        elif checked is not None and last_bad == checked:
            last_bad_text = "="
        else:
            last_bad_text = text(last_bad)
        return SEP.join((
            state.status._value_, "1" if state.firing else "0", consecutive,
            "" if state.bad_since is None else text(state.bad_since), checked_text, as_of_text, last_bad_text,
            text(state.since), "" if state.fired_at is None else text(state.fired_at), str(state.episode),
        ))

    def decode(self, text: str, values: str | tuple[Decimal | None, Decimal | None, Decimal | None],
               check: Check | None) -> tuple[AlertState, str | None]:
        """The state a text and its values (as text, or the numbers themselves) stand for, and
        the ``as_of`` it was judged for."""
        try:
            status, firing, consecutive, bad_since, checked, as_of, last_bad, since, fired_at, episode = text.split(SEP)
            if check is None and ("@" in (checked, as_of) or consecutive.startswith("@")):
                raise ValueError("a field refers to the rule's last check, and none is recorded")
            moment = self.moment
            checked_at = check.at if checked == "@" and check is not None else (moment(checked) if checked else None)
            count = check.seq - int(consecutive[1:]) if consecutive.startswith("@") and check is not None else int(consecutive)
            value, target, margin = decode_values(values) if isinstance(values, str) else values
            state = AlertState(
                status=_STATUS[status], since=moment(since), consecutive=count,
                bad_since=moment(bad_since) if bad_since else None,
                last_bad_at=checked_at if last_bad == "=" else (moment(last_bad) if last_bad else None),
                firing=firing == "1", fired_at=moment(fired_at) if fired_at else None, episode=int(episode),
                value=value, target=target, margin=margin, checked_at=checked_at,
            )
        except (ValueError, KeyError, ArithmeticError) as exc:
            raise StateFormatError(f"an alert's stored state {text!r} cannot be read: {exc}") from None
        return state, (check.as_of_text if as_of == "@" and check is not None else (as_of or None))


def encode_values(value: Decimal | None, target: Decimal | None, margin: Decimal | None) -> str:
    # str() rather than an f-string: formatting a Decimal takes several times as long.
    return SEP.join(("" if value is None else str(value), "" if target is None else str(target), "" if margin is None else str(margin)))


def decode_values(text: str) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    value, target, margin = text.split(SEP)
    return (Decimal(value) if value else None, Decimal(target) if target else None, Decimal(margin) if margin else None)


#: The separators in a tail written as text: values (3 fields), labels, title, severity,
#: message, period.
_TAIL_SEPS: Final = 7


#: A text field without a value, in a line written as text.
NONE: Final = "\x1e"


def tail(values: str, labels: str, title: str | None, severity: str | None, message: str | None, period: str | None) -> str:
    """The part of an alert's line before its state; ``""`` when the line must be JSON."""
    texts = tuple(NONE if t is None else t for t in (title, severity, message, period))
    if NONE in (title, severity, message, period):
        return ""
    text = SEP.join((values, labels, *texts))
    return text if text.count(SEP) == _TAIL_SEPS else ""


#: An alert as its line holds it: values, labels (JSON), title, severity, message, period, state.
Fields = tuple[str, str, str | None, str | None, str | None, str | None, str]


def line(tail_text: str, fields: Fields) -> str:
    """The stored line of an alert, from its tail (see :func:`tail`) and fields."""
    if tail_text:
        return f"{tail_text}{SEP}{fields[6]}"
    values, labels, title, severity, message, period, state = fields
    return json.dumps([*values.split(SEP), labels, title, severity, message, period, state], ensure_ascii=False)


def fields(text: str) -> Fields:
    """The fields of a stored line."""
    try:
        if text.startswith("["):
            value, target, margin, labels, title, severity, message, period, state = json.loads(text)
            return (SEP.join((value, target, margin)), labels, title, severity, message, period, state)
        value, target, margin, labels, title, severity, message, period, state = text.split(SEP, 8)
    except ValueError as exc:
        raise StateFormatError(f"an alert's stored line {text[:200]!r} cannot be read: {exc}") from None
    return (SEP.join((value, target, margin)), labels, _text(title), _text(severity), _text(message), _text(period), state)


def _text(field: str) -> str | None:
    return None if field == NONE else field


#: Starts, and separates the entries of, a history text written as text (not JSON).
GS: Final = "\x1d"
_ENTRY_FIELDS: Final = 6


def encode_entries(entries: Sequence[tuple[str, str, str | None, str | None, str | None, str]]) -> str:
    """One rule's history entries of one run — (series, status, previous, value, target,
    message) — as one text: each entry's fields separated by U+001F (``None`` written
    U+001E), each entry preceded by U+001D; as a JSON array when a field holds one of those."""
    texts = []
    nones = 0
    for series, status, previous, value, target, message in entries:
        if previous is None:
            nones += 1
        if value is None:
            nones += 1
        if target is None:
            nones += 1
        texts.append(f"{GS}{series}{SEP}{status}{SEP}{NONE if previous is None else previous}{SEP}"
                     f"{NONE if value is None else value}{SEP}{NONE if target is None else target}{SEP}{message}")
    text = "".join(texts)
    if not text or text.count(SEP) != (_ENTRY_FIELDS - 1) * len(entries) or text.count(GS) != len(entries) or text.count(NONE) != nones:
        return json.dumps(entries, ensure_ascii=False)
    return text


def decode_entries(text: str) -> list[tuple[str | None, ...]]:
    """The entries :func:`encode_entries` wrote."""
    if not text.startswith(GS):
        return [tuple(e) for e in json.loads(text)]
    return [tuple(None if f == NONE else f for f in entry.split(SEP)) for entry in text[1:].split(GS)]


#: A stored line matches this GLOB pattern (case-sensitive, like the line's status) when its
#: state is OK and not firing — or when a field of its tail (title, severity or message) is
#: ``OK`` and the next one ``0``. A line written as JSON never matches (JSON escapes U+001F).
QUIET_GLOB: Final = f"*{SEP}OK{SEP}0{SEP}*"

#: A line matches this GLOB pattern when :data:`QUIET_GLOB`'s text occurs in it with eight or
#: more separators after it, that is in its tail (the state has seven after its status and
#: firing). So every line that matches :data:`QUIET_GLOB` and not this one is an alert that
#: is OK and not firing, and a query for the other lines reads every alert that is firing or
#: not OK (and the rare OK one whose tail reads like a quiet state).
TAIL_QUIET_GLOB: Final = f"*{SEP}OK{SEP}0{SEP}" + f"*{SEP}" * 8 + "*"

#: A text line's fields: the tail's eight, then the state's ten.
_LINE_FIELDS: Final = 18


def glance(text: str) -> tuple[Status, bool, str, str, str, str | None]:
    """What a glance at the alerts shows of a stored line — its status, whether it is firing,
    since when (as written), when it fired (``""`` if it has not), its labels (JSON) and its
    message — without reading the rest."""
    if text.startswith("["):
        _values, labels, _title, _severity, message, _period, state = fields(text)
        parts = state.split(SEP)
        if len(parts) == 10:
            status, firing, since, fired_at = parts[0], parts[1], parts[7], parts[8]
            if status in _STATUS and firing in ("0", "1") and since:
                return _STATUS[status], firing == "1", since, fired_at, labels, message
    else:
        parts = text.split(SEP)
        if len(parts) == _LINE_FIELDS:
            status, firing, since, fired_at = parts[8], parts[9], parts[15], parts[16]
            if status in _STATUS and firing in ("0", "1") and since:
                return _STATUS[status], firing == "1", since, fired_at, parts[3], _text(parts[6])
    raise StateFormatError(f"an alert's stored line {text[:200]!r} cannot be read")


def state_of(text: str, tail_text: str) -> str | None:
    """The state in a stored line if the line's tail is ``tail_text`` (else ``None``)."""
    if tail_text and text.startswith(tail_text) and text[len(tail_text):len(tail_text) + 1] == SEP:
        return text[len(tail_text) + 1:]
    return None


def quiet_ok(text: str, at_text: str) -> bool:
    """Whether an OK verdict judged at ``at_text`` leaves the state ``text`` as it is (see
    :data:`QUIET_OK`): only its values may change."""
    if not text.startswith(QUIET_OK):
        return False
    last_bad = text[len(QUIET_OK):].partition(SEP)[0]
    return last_bad != "=" and last_bad != at_text


__all__ = [
    "GS", "NONE", "QUIET_GLOB", "QUIET_OK", "SEP", "TAIL_QUIET_GLOB", "Check", "Codec", "Fields", "StateFormatError", "decode_entries", "decode_values", "encode_entries", "encode_values", "fields", "glance", "line",
    "moment_text", "quiet_ok", "state_of", "tail",
]
