"""Recording one check in the state store: each verdict moves its alert on (see
:mod:`targetwatch.lifecycle`), what changed is written — alerts, what each channel was told,
history — and the events for each channel are gathered for the digests (see
:mod:`targetwatch.notices`).

Rules are taken one at a time: the stored alerts of a rule are read when its first verdict
comes, and let go after its last. An alert is written only when its stored line changes
(see :mod:`targetwatch.statecodec`: an alert left as it was keeps its line). Three common
cases take a short way that gives the very line the lifecycle step would: a new alert that
is OK (first seen now); an alert with the same values and texts as stored that is OK, not
firing and has no failing streak, or that fires failing the same way as at its rule's last
check — when no channel must hear of it (unchanged). Every other verdict goes the long way:
the stored state is read, stepped, written if its line changed, and announced.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from itertools import groupby
from operator import attrgetter
from typing import Any

import attrs

from . import lifecycle
from .alerts import AlertState, ChannelState, EventKind, Policy, idempotency_key
from .i18n import _
from .model import Status, Verdict
from .notices import Events, Notice
from .state import AlertRow, HistoryRow, Silence, StateStore, ToldRow
from .state_alerts import alert_line
from .statecodec import (
    NONE,
    QUIET_OK,
    SEP,
    Check,
    Codec,
    decode_values,
    encode_values,
    fields,
    line,
    moment_text,
    quiet_ok,
    state_of,
)

_OK = Status.OK
_RESOLVED = EventKind.RESOLVED
#: The fields of a stored state (see statecodec).
_STATE_FIELDS = 10
#: What a channel never told of an alert was told.
_NOTHING = ChannelState()
_RULE = attrgetter("rule")
#: Rows kept before they are written (inside the run's transaction): memory stays flat.
_BATCH = 20_000
#: Separators in a line's tail (see statecodec): values (3 fields), labels, title, severity,
#: message, period.
_TAIL_SEPS = 7


@attrs.define
class _Book:
    """One rule while its verdicts are recorded: its last check and the next, the lines of
    its alerts not judged yet (``stored``) and of those judged (``taken``), what their
    channels were told."""

    rule: str
    old: Check | None
    new: Check
    stored: dict[str, str]
    told: dict[str, dict[str, ToldRow]]
    left: int
    fresh_ok: str
    taken: dict[str, str | None] = attrs.field(factory=dict)
    #: The state of a first observation, by status and policy (kept, so that its id is not reused).
    first: dict[tuple[Status, int], tuple[str, AlertState, Policy]] = attrs.field(factory=dict)


@attrs.frozen
class _Gone:
    rule: str
    series: str
    stored: str
    told: dict[str, ToldRow]
    check: Check | None


class Recording:
    """One run's changes, written to ``store`` inside the caller's transaction."""

    def __init__(self, store: StateStore, policy_for: Callable[[Verdict], Policy], now: dt.datetime, as_of: dt.datetime,
                 run: int, silences: Sequence[Silence]) -> None:
        self.store = store
        self.policy_for = policy_for
        self.now = now
        self.as_of = as_of
        self.run = run
        self.silences = silences
        self.codec = Codec()
        self.now_text = moment_text(now)
        self.as_of_text = moment_text(as_of)
        #: What each channel must hear, by channel.
        self.notices: dict[str, list[Notice]] = {}
        self._alerts: list[AlertRow] = []
        self._told: list[tuple[Any, ...]] = []
        self._history: list[HistoryRow] = []
        self._checks: list[tuple[str, Check]] = []
        self._keys: dict[tuple[tuple[str, str], ...], tuple[str, str]] = {}
        self._periods: dict[int, str] = {}

    # The run ------------------------------------------------------------------------------

    def record(self, verdicts: Sequence[Verdict], scope: tuple[Collection[str], Collection[str]] | None) -> tuple[Verdict, ...]:
        """Record ``verdicts``; returns them, marked silenced where a silence applies."""
        left = Counter(map(_RULE, verdicts))
        books: dict[str, _Book] = {}
        gone: list[_Gone] = []
        marked: dict[int, Verdict] = {}
        evaluated, known = (set(scope[0]), set(scope[1])) if scope is not None else (None, None)
        offset = 0
        for rule, group in groupby(verdicts, _RULE):
            batch = list(group)
            book = books.get(rule)
            if book is None:
                book = books[rule] = self._open(rule, left[rule])
            self._judge_all(book, batch, offset, marked)
            offset += len(batch)
            book.left -= len(batch)
            if not book.left:
                del books[rule]
                self._close(book, gone, evaluated, known)
            if len(self._alerts) >= _BATCH or len(self._history) >= _BATCH:
                self._flush()
        dropped = []
        if evaluated is not None and known is not None:
            for rule in self.store.alert_rules():
                if rule not in left and (rule in evaluated or rule not in known):
                    check, stored = self.store.rule_alerts(rule, self.codec)
                    told = self.store.rule_told(rule)
                    gone += [_Gone(rule, series, text, told.get(series, {}), check) for series, text in stored.items()]
                    dropped.append(rule)
            gone.sort(key=lambda g: (g.rule, g.series))
            self._forget(gone, known)
        self._flush()
        self.store.drop_checks(dropped)
        self.store.put_checks(self._checks)
        if not marked:
            return tuple(verdicts)
        return tuple(marked.get(i, v) for i, v in enumerate(verdicts))

    def _flush(self) -> None:
        self.store.put_alerts(self._alerts)
        self.store.save_told(self._told)
        self.store.add_history(self._history)
        self._alerts, self._told, self._history = [], [], []

    def _open(self, rule: str, count: int) -> _Book:
        old, stored = self.store.rule_alerts(rule, self.codec)
        new = Check(self.now, self.now_text, self.as_of_text, 0) if old is None else old.next(self.now, self.now_text, self.as_of_text)
        fresh_ok = self.codec.encode(AlertState(status=_OK, since=self.now, checked_at=self.now), self.as_of_text, new)
        return _Book(rule, old, new, stored, self.store.rule_told(rule) if stored else {}, count, fresh_ok)

    def _close(self, book: _Book, gone: list[_Gone], evaluated: set[str] | None, known: set[str] | None) -> None:
        """After a rule's last verdict: its alerts no verdict judged are gone (with a scope),
        or written with every field absolute, since the rule's check moves on."""
        rule = book.rule
        forgotten = evaluated is not None and known is not None and (rule in evaluated or rule not in known)
        for series, text in book.stored.items():
            if forgotten:
                gone.append(_Gone(rule, series, text, book.told.get(series, {}), book.old))
            elif book.old is not None:
                state, as_of, display = self.store.decode(self.codec, text, book.old)
                absolute = alert_line(self.codec, state, as_of, None, *display)
                if absolute != text:
                    self._alerts.append((rule, series, absolute))
        self._checks.append((rule, book.new))

    # Verdicts -----------------------------------------------------------------------------

    def _judge_all(self, book: _Book, batch: Sequence[Verdict], offset: int, marked: dict[int, Verdict]) -> None:
        """Record consecutive verdicts of one rule (``offset``: the first one's index)."""
        keys, periods, silences = self._keys, self._periods, self.silences
        pop, taken, told_of = book.stored.pop, book.taken, book.told.get
        alerts, history = self._alerts.append, self._history.append
        rule, run, now_text, as_of_text = book.rule, self.run, self.now_text, self.as_of_text
        fresh = SEP + book.fresh_ok
        quiet_ready = book.old is not None
        for index, verdict in enumerate(batch, offset):
            labels = verdict.labels
            key = keys.get(labels)
            if key is None:
                key = keys[labels] = (",".join(f"{k}={v}" for k, v in labels), json.dumps(dict(labels), ensure_ascii=False))
            series, labels_json = key
            stored = pop(series, None)
            again = stored is None and series in taken  # a second verdict of one alert, judged against the same line
            if again:
                stored = taken[series]
            else:
                taken[series] = stored
            silence = None
            if silences:
                silence = next((s for s in silences if s.matches(rule, labels)), None)
                if silence is not None:
                    until = silence.until.astimezone(self.as_of.tzinfo)
                    verdict = marked[index] = attrs.evolve(verdict, silenced=f"{silence.reason} (until {until:%Y-%m-%d %H:%M}, silence #{silence.id})")
            period = verdict.period
            period_text = None
            if period is not None:
                # By identity: the verdicts, and so their periods, live until the run ends.
                period_text = periods.get(id(period))
                if period_text is None:
                    period_text = periods[id(period)] = str(period)
            value, target, margin, message = verdict.value, verdict.target, verdict.margin, verdict.message
            value_text = None if value is None else str(value)
            target_text = None if target is None else str(target)
            title, severity = verdict.title, verdict.severity
            tail = SEP.join((value_text or "", target_text or "", "" if margin is None else str(margin),
                             labels_json, title, severity, message, NONE if period_text is None else period_text))
            if tail.count(SEP) != _TAIL_SEPS or NONE in (title, severity, message, period_text):
                tail = ""
            if tail and not again:
                status = verdict.status
                if stored is None:
                    if status is _OK and told_of(series) is None:
                        alerts((rule, series, tail + fresh))
                        history((run, now_text, as_of_text, rule, series, "OK", None, value_text, target_text, message))
                        continue
                elif quiet_ready and stored.startswith(tail) and stored[len(tail):len(tail) + 1] == SEP:
                    # Same values and texts as stored. See statecodec: an OK alert not firing, with
                    # no failing streak, judged by the last check stays as it is, unless
                    # ``last_bad_at`` is ``=`` or now; a firing one failing the same way since the
                    # last check stays as it is. Either way, if no channel must hear of it, there
                    # is nothing to write.
                    at = len(tail) + 1
                    if status is _OK:
                        if stored.startswith(QUIET_OK, at):
                            start = at + len(QUIET_OK)
                            end = stored.find(SEP, start)
                            last_bad = stored[start:end]
                            told = told_of(series)
                            if (end > 0 and last_bad != "=" and last_bad != now_text
                                    and (told is None or silence is not None or self._quiet(verdict, stored, False, told))):
                                continue
                    else:
                        state = stored[at:].split(SEP)
                        if (len(state) == _STATE_FIELDS and state[0] == status._value_ and state[1] == "1" and state[2][:1] == "@"
                                and state[3] != "" and state[4] == "@" and state[5] == "@" and state[6] == "="
                                and (silence is not None or self._quiet(verdict, stored, True, told_of(series)))):
                            continue
            self._judge(book, verdict, series, labels_json, period_text, tail, stored, again, silence is not None, value_text, target_text)

    def _quiet(self, verdict: Verdict, stored: str, firing: bool, told: dict[str, ToldRow] | None) -> bool:
        """Whether no channel must hear of an alert that stays as it was (``stored``: its line)."""
        episode = stored[stored.rfind(SEP) + 1:]
        if not episode.isdigit():
            return False  # the long way reports a damaged line
        policy = self.policy_for(verdict)
        for channel in policy.channels:
            row = told.get(channel) if told else None
            said = lifecycle.news(verdict.status, firing, int(episode), verdict.value, _NOTHING if row is None else self._channel(row), policy, self.now)
            if said is not None:
                return False
        return True

    def _judge(self, book: _Book, verdict: Verdict, series: str, labels_json: str, period_text: str | None, tail: str,
               stored: str | None, again: bool, silenced: bool, value_text: str | None, target_text: str | None) -> None:
        """Record one verdict the long way (see :meth:`_judge_all`; ``value_text`` and
        ``target_text``: its value and target as text)."""
        rule, value, target, message = book.rule, verdict.value, verdict.target, verdict.message
        # The stored state, and the stored values when the stored line's tail is not this one's.
        state_text = stored_values = None
        if stored is not None:
            state_text = state_of(stored, tail)
            if state_text is None:
                stored_values, *_display, state_text = fields(stored)
        told = book.told.get(series)
        if told is None and verdict.status is _OK and (state_text is None or (book.old is not None and quiet_ok(state_text, self.now_text))):
            self._write(rule, series, self._line(verdict, tail, labels_json, period_text, book.fresh_ok if state_text is None else state_text), stored, again)
            if state_text is None or (stored_values is not None and decode_values(stored_values)[:2] != (value, target)):
                self._history.append((self.run, self.now_text, self.as_of_text, rule, series, "OK", None if state_text is None else "OK",
                                      value_text, target_text, message))
            return
        policy = self.policy_for(verdict)
        status = verdict.status
        if state_text is None and told is None and not again:
            # A first observation: its step depends on the status and the policy only.
            first = book.first.get((status, id(policy)))
            if first is None:
                current = lifecycle.step(None, verdict, policy, self.now)
                first = book.first[(status, id(policy))] = (self.codec.encode(current, self.as_of_text, book.new), current, policy)
            new_state, current, _policy = first
            self._alerts.append((rule, series, self._line(verdict, tail, labels_json, period_text, new_state)))
            self._history.append((self.run, self.now_text, self.as_of_text, rule, series, status._value_, None, value_text, target_text, message))
            if not silenced:
                self._announce(rule, series, verdict, policy, current.firing, current.episode, current.since, None, None, period_text)
            return
        previous = None
        if state_text is not None:
            previous = self.store.decode_state(self.codec, state_text, (value, target, verdict.margin) if stored_values is None else stored_values, book.old)
        current = lifecycle.step(previous, verdict, policy, self.now)
        new_state = self.codec.encode(current, self.as_of_text, book.new)
        if stored_values is not None or new_state != state_text or again:
            self._write(rule, series, self._line(verdict, tail, labels_json, period_text, new_state), stored, again)
        if previous is None or previous.status is not current.status or previous.value != current.value or previous.target != current.target:
            self._history.append((self.run, self.now_text, self.as_of_text, rule, series, status._value_,
                                  previous.status._value_ if previous else None, value_text, target_text, message))
        if not silenced:
            self._announce(rule, series, verdict, policy, current.firing, current.episode, current.since,
                           previous.status if previous else None, told, period_text)

    def _announce(self, rule: str, series: str, verdict: Verdict, policy: Policy, firing: bool, episode: int, since: dt.datetime,
                  previous: Status | None, told: dict[str, ToldRow] | None, period_text: str | None) -> None:
        """Tell each channel of the policy what it must hear of an alert now (see
        :func:`targetwatch.lifecycle.announce`): its state is ``verdict``'s status and value,
        firing or not, in ``episode``, the status held ``since``."""
        now, status, value = self.now, verdict.status, verdict.value
        for channel in policy.channels:
            row = told.get(channel) if told else None
            channel_state = _NOTHING if row is None else self._channel(row)
            said = lifecycle.news(status, firing, episode, value, channel_state, policy, now)
            if said is None:
                continue
            kind, detail = said
            key, cs = lifecycle.notice(kind, detail, status, episode, value, channel_state, now, rule=rule, series=series, channel_name=channel)
            self._told.append((rule, series, channel, cs.episode, cs.announced, _s(cs.value),
                               None if cs.last_sent is None else self.codec.text(cs.last_sent), cs.repeats))
            message = f"resolved: {verdict.message}" if kind is _RESOLVED else verdict.message
            self.notices.setdefault(channel, []).append(Notice(kind, key, series, verdict, previous, since, message, period_text))

    @staticmethod
    def _line(verdict: Verdict, tail: str, labels_json: str, period_text: str | None, state: str) -> str:
        if tail:
            return f"{tail}{SEP}{state}"
        values = encode_values(verdict.value, verdict.target, verdict.margin)
        return line("", (values, labels_json, verdict.title, verdict.severity, verdict.message, period_text, state))

    def _write(self, rule: str, series: str, text: str, stored: str | None, again: bool) -> None:
        if text != stored or again:
            self._alerts.append((rule, series, text))

    def _channel(self, row: ToldRow) -> ChannelState:
        episode, announced, value, last_sent, repeats = row
        return ChannelState(episode, announced, None if value is None else Decimal(value),
                            None if last_sent is None else self.codec.moment(last_sent), repeats)

    # Alerts no longer checked ---------------------------------------------------------------

    def _forget(self, gone: Sequence[_Gone], known: Collection[str]) -> None:
        """Resolve to every channel told it fired, then forget, each alert no longer checked."""
        for g in gone:
            state, _as_of, (labels_json, title, severity, _message, _period) = self.store.decode(self.codec, g.stored, g.check)
            why = _("the rule is no longer in the configuration") if g.rule not in known else _("the series is no longer in the data")
            message = _("no longer checked: {why}").format(why=why)
            labels = tuple(sorted(json.loads(labels_json or "{}").items()))
            gone_verdict = Verdict(rule=g.rule, title=title or g.rule, kind="", indicator="", labels=labels,
                                   status=_OK, message=message, severity=severity or "critical")
            policy = self.policy_for(gone_verdict)
            self._history.append((self.run, self.now_text, self.now_text, g.rule, g.series, "GONE", state.status._value_, None, None, message))
            for channel, row in g.told.items():
                said = self._channel(row)
                if not policy.notify_resolved or said.episode != state.episode or said.announced in (None, "RESOLVED"):
                    continue
                key = idempotency_key(g.rule, g.series, state.episode, _RESOLVED.value, "gone", channel)
                self.notices.setdefault(channel, []).append(Notice(_RESOLVED, key, g.series, gone_verdict, state.status, self.now, message, None))
        self.store.forget_all([(g.rule, g.series) for g in gone])


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


__all__ = ["Events", "Notice", "Recording"]
