"""The tracker against a plain model of what it must do: every alert's state is the lifecycle
step of its stored state, every channel hears what ``announce`` says, every change is in the
history, and alerts no longer checked are resolved and forgotten.

The model keeps whole states in dictionaries; the tracker keeps them in the state file, reads
one rule at a time, writes only what changed and takes short ways for alerts that stay as they
were. Over random runs (re-runs at the same moment, values that stay or change, silences,
series and rules that come and go, scoped runs and runs without a scope, a verdict given twice)
both must remember and say exactly the same."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targetwatch.alerts import AlertState, ChannelState, EventKind, Policy, idempotency_key
from targetwatch.engine import CheckResult
from targetwatch.lifecycle import announce, step
from targetwatch.model import Status, Verdict
from targetwatch.periods import Calendar
from targetwatch.state import Silence, StateStore
from targetwatch.tracker import Tracker

T0 = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
SEPTEMBER = Calendar().containing("month", dt.date(2023, 9, 1))
RULES = ("sales.min", "costs.max")
DISTRICTS = ("A", "B", "C")


@attrs.define
class Model:
    """What the tracker must remember and say, kept the plain way."""

    alerts: dict[tuple[str, str], tuple[AlertState, dict[str, object]]] = attrs.field(factory=dict)
    told: dict[tuple[str, str, str], ChannelState] = attrs.field(factory=dict)

    def record(self, verdicts: Sequence[Verdict], now: dt.datetime, as_of: dt.datetime, policy: Policy,
               silences: Sequence[Silence], scope: tuple[list[str], list[str]] | None) -> tuple[list[tuple[object, ...]], dict[str, list[tuple[object, ...]]]]:
        before, told = dict(self.alerts), dict(self.told)
        history: list[tuple[object, ...]] = []
        events: dict[str, list[tuple[object, ...]]] = {}
        for verdict in verdicts:
            key = (verdict.rule, verdict.series_key)
            previous = before[key][0] if key in before else None
            current = step(previous, verdict, policy, now)
            silence = next((s for s in silences if s.matches(verdict.rule, verdict.labels)), None)
            if previous is None or previous.status is not current.status or previous.value != current.value or previous.target != current.target:
                history.append((key, verdict.status.value, previous.status.value if previous else None, verdict.message))
            self.alerts[key] = (current, {
                "labels": json.dumps(dict(verdict.labels), ensure_ascii=False), "title": verdict.title, "severity": verdict.severity,
                "message": verdict.message, "period": str(verdict.period) if verdict.period else None, "as_of": as_of.astimezone(dt.UTC).isoformat(),
            })
            if silence is not None:
                continue
            for channel in policy.channels:
                said = announce(previous, current, told.get((*key, channel)), policy, now, rule=key[0], series=key[1], channel_name=channel)
                if said is not None:
                    kind, event_key, state = said
                    self.told[(*key, channel)] = state
                    events.setdefault(channel, []).append((event_key, kind, key, verdict.status, current.since))
        if scope is not None:
            judged = {(v.rule, v.series_key) for v in verdicts}
            evaluated, known = set(scope[0]), set(scope[1])
            for key in sorted(k for k in before if k not in judged and (k[0] in evaluated or k[0] not in known)):
                state = before[key][0]
                why = "configuration" if key[0] not in known else "data"
                history.append((key, "GONE", state.status.value, why))
                for (rule, series, channel), said in told.items():
                    if (rule, series) != key or not policy.notify_resolved or said.episode != state.episode or said.announced in (None, "RESOLVED"):
                        continue
                    event_key = idempotency_key(rule, series, state.episode, "resolved", "gone", channel)
                    events.setdefault(channel, []).append((event_key, EventKind.RESOLVED, key, Status.OK, now))
                del self.alerts[key]
                for told_key in [k for k in self.told if k[:2] == key]:
                    del self.told[told_key]
        return history, events


def verdict(rule: str, district: str, status: Status, value: int | None, target: int, period: bool, title: str) -> Verdict:
    val = None if value is None else Decimal(value) / 10
    return Verdict(
        rule=rule, title=title, kind="minimum", indicator="sales", labels=(("district", district),), status=status,
        message=f"{status.value}: {val} of {target}", value=val, target=Decimal(target),
        margin=None if val is None else val - Decimal(target), period=SEPTEMBER if period else None,
    )


verdicts = st.builds(
    verdict,
    rule=st.sampled_from(RULES),
    district=st.sampled_from(DISTRICTS),
    status=st.sampled_from([Status.OK, Status.OK, Status.OK, Status.WARN, Status.BREACH, Status.UNKNOWN]),
    value=st.none() | st.integers(8, 11),
    target=st.sampled_from([1, 1, 1, 2]),
    period=st.booleans(),
    title=st.sampled_from(["sales", "sales", "ventes\x1f", "\x1e"]),
)

runs = st.lists(
    st.tuples(
        st.sampled_from([dt.timedelta(0), dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=3), dt.timedelta(hours=-1)]),
        st.lists(verdicts, max_size=8),
        st.sampled_from(["all", "all", "first rule", "no scope"]),
        st.booleans(),  # a silence starts
        st.booleans(),  # as of a day later
        st.booleans(),  # the verdicts of the run before, again
    ),
    min_size=1, max_size=6,
)

policies = st.builds(
    Policy,
    channels=st.sampled_from([("a",), ("a", "b")]),
    for_checks=st.integers(1, 2),
    keep_firing_for=st.sampled_from([dt.timedelta(0), dt.timedelta(hours=2)]),
    repeat=st.sampled_from([None, dt.timedelta(days=1)]),
    notify_resolved=st.booleans(),
    announce_changes=st.booleans(),
)


def history_of(store: StateStore) -> list[tuple[object, ...]]:
    """The status changes in the history as the model writes them (why an alert is gone in a word)."""
    out = []
    for h in store.history(limit=10**6):
        if h["what"] == "status":
            message = ("configuration" if "configuration" in h["message"] else "data") if h["status"] == "GONE" else h["message"]
            out.append(((h["rule"], h["series"]), h["status"], h["detail"], message))
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=runs, policy=policies)
def test_the_tracker_remembers_and_says_what_the_model_does(runs: list[tuple[dt.timedelta, list[Verdict], str, bool, bool, bool]], policy: Policy) -> None:
    store = StateStore.memory()
    tracker = Tracker(store, lambda v: policy)
    model = Model()
    now, as_of = T0, T0
    ordered: list[Verdict] = []
    for advance, given_verdicts, scoped, silence, later, same in runs:
        now += advance
        if later:
            as_of += dt.timedelta(days=1)
        if silence:
            store.add_silence("sales.*", [("district", "B")], now + dt.timedelta(days=2), "works", now)
        # Verdicts of one rule mostly come together, and one series once; not always.
        if not same:
            ordered = sorted(given_verdicts, key=lambda v: v.rule) if len(given_verdicts) % 3 else given_verdicts
        scope = {"all": (list(RULES), list(RULES)), "first rule": ([RULES[0]], [RULES[0]]), "no scope": None}[scoped]
        active = [s for s in store.silences() if s.active(now)]
        history, events = model.record(ordered, now, as_of, policy, active, scope)
        before = Counter(history_of(store))
        recorded = tracker.record(CheckResult(as_of, tuple(ordered)), now, scope=scope)

        assert store.alerts() == {k: state for k, (state, _display) in model.alerts.items()}
        rows = {(r["rule"], r["series"]): r for r in store.alert_rows()}
        assert set(rows) == set(model.alerts)
        for key, (_state, display) in model.alerts.items():
            assert {name: rows[key][name] for name in display} == display
        assert store.deliveries() == model.told
        said = {c: sorted(((e.key, e.kind, (e.rule, ",".join(f"{k}={v}" for k, v in e.labels)), e.status, e.since) for e in es), key=str)
                for c, es in recorded.events.items()}
        assert said == {c: sorted(es, key=str) for c, es in events.items()}
        assert Counter(history_of(store)) - before == Counter(history)
        assert [v.silenced is not None for v in recorded.verdicts] == [any(s.matches(v.rule, v.labels) for s in active) for v in ordered]
