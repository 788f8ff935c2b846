"""How the state file writes alerts: states relative to their rule's last check, lines of
text (or JSON when a text would be ambiguous), history entries; and that a run which changes
nothing rewrites no alert."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from targetwatch.alerts import AlertState, Policy
from targetwatch.engine import CheckResult
from targetwatch.model import Status, Verdict
from targetwatch.state import StateError, StateStore
from targetwatch.state_alerts import alert_line
from targetwatch.statecodec import (
    NONE,
    SEP,
    Check,
    Codec,
    StateFormatError,
    decode_entries,
    encode_entries,
    encode_values,
    fields,
    line,
    tail,
)
from targetwatch.tracker import Tracker

T0 = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
moments = st.sampled_from([T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(days=1, microseconds=5)])
decimals = st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**6, max_value=10**6)
texts = st.none() | st.text(alphabet=st.sampled_from("ab ,=\x1f\x1e\x1d[{\"\n"), max_size=6)

states = st.builds(
    AlertState,
    status=st.sampled_from(list(Status)), since=moments, consecutive=st.integers(0, 5), bad_since=st.none() | moments,
    last_bad_at=st.none() | moments, firing=st.booleans(), fired_at=st.none() | moments, episode=st.integers(0, 4),
    value=decimals, target=decimals, margin=decimals, checked_at=st.none() | moments,
)
checks = st.none() | st.builds(lambda at, seq: Check(at, at.isoformat(), "2024-02-29T16:00:00+00:00", seq), moments, st.integers(0, 9))


@settings(max_examples=300, deadline=None)
@given(state=states, as_of=st.none() | st.just("2024-02-29T16:00:00+00:00"), check=checks)
def test_a_state_reads_back_as_it_was_relative_to_any_check(state: AlertState, as_of: str | None, check: Check | None) -> None:
    codec = Codec()
    text = codec.encode(state, as_of, check)
    values = encode_values(state.value, state.target, state.margin)
    got, got_as_of = Codec().decode(text, values, check)
    assert got == state and got_as_of == as_of
    assert [str(x) for x in (got.value, got.target, got.margin)] == [str(x) for x in (state.value, state.target, state.margin)]
    if check is None:
        assert "@" not in text  # nothing refers to a check


@settings(max_examples=300, deadline=None)
@given(values=st.tuples(decimals, decimals, decimals), labels=st.text(max_size=5), title=texts, severity=texts, message=texts, period=texts)
def test_a_line_reads_back_whatever_its_texts_hold(values: tuple[Decimal | None, ...], labels: str, title: str | None,
                                                   severity: str | None, message: str | None, period: str | None) -> None:
    import json

    labels_json = json.dumps({"k": labels}, ensure_ascii=False)
    value_text = encode_values(*values)
    state = "OK\x1f0\x1f0\x1f\x1f@\x1f@\x1f\x1f2024-03-01T08:00:00+00:00\x1f\x1f0"
    written = line(tail(value_text, labels_json, title, severity, message, period), (value_text, labels_json, title, severity, message, period, state))
    assert fields(written) == (value_text, labels_json, title, severity, message, period, state)
    plain = not any(SEP in t or t == NONE for t in (title, severity, message, period) if t is not None)
    assert written.startswith("[") is not plain


#: Tail texts that read like a quiet state's status and firing (``OK``, ``0``), or like none.
tail_texts = st.sampled_from(["OK", "0", "ok", "1", ""]) | texts


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(states, tail_texts, tail_texts, tail_texts, tail_texts), min_size=1, max_size=6), check=checks)
def test_open_alerts_are_every_firing_or_not_ok_alert_whatever_its_line_holds(
    rows: list[tuple[AlertState, str | None, str | None, str | None, str | None]], check: Check | None
) -> None:
    """SQLite picks the lines by text (see QUIET_GLOB): never leaving one out, whatever the
    title, severity, message and period hold, and whether the state is relative to a check."""
    store = StateStore.memory()
    codec = Codec()
    with store.transaction():
        if check is not None:
            store.put_checks([("r", check)])
        store.put_alerts([("r", f"s{i}", alert_line(codec, state, check.as_of_text if check else None, check, '{"k": "v"}', *texts_))
                          for i, (state, *texts_) in enumerate(rows)])
    states_ = store.alerts()
    want = sorted(((k, s) for k, s in states_.items() if s.firing or s.status is not Status.OK),
                  key=lambda ks: (not ks[1].firing, -ks[1].status.severity, ks[1].since, ks[0]))
    got = store.open_alerts()
    assert [((a.rule, a.series), a.status, a.firing, a.since, a.fired_at) for a in got] == [
        (k, s.status, s.firing, s.since, s.fired_at) for k, s in want
    ]
    assert [a.message for a in got] == [rows[int(a.series[1:])][3] for a in got]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=4), st.sampled_from(["OK", "BREACH", "GONE", "\x1e"]), texts, texts, texts, st.text(max_size=6)), max_size=5))
def test_history_entries_read_back_whatever_they_hold(entries: list[tuple[str, str, str | None, str | None, str | None, str]]) -> None:
    assert decode_entries(encode_entries(entries)) == entries


def test_a_damaged_state_is_reported_naming_the_file(tmp_path: object) -> None:
    with pytest.raises(StateFormatError, match="cannot be read"):
        Codec().decode("BREACH\x1f1\x1f@2", "\x1f\x1f", None)
    with pytest.raises(StateFormatError, match="refers to the rule's last check"):
        Codec().decode("OK\x1f0\x1f0\x1f\x1f@\x1f@\x1f\x1f2024-03-01T08:00:00+00:00\x1f\x1f0", "\x1f\x1f", None)
    store = StateStore.memory()
    with store.transaction():
        store.put_alerts([("r", "", "1\x1f2\x1f3\x1f{}\x1ft\x1fs\x1fm\x1fp\x1fNOT A STATE")])
    with pytest.raises(StateError, match="damaged"):
        store.alerts()


def verdict(district: str, status: Status, value: int) -> Verdict:
    return Verdict(rule="sales.min", title="sales", kind="minimum", indicator="sales", labels=(("district", district),),
                   status=status, message=f"{status.value}: {value}", value=Decimal(value), target=Decimal(100),
                   margin=Decimal(value - 100))


def test_a_run_that_changes_nothing_rewrites_no_alert() -> None:
    """OK alerts, and alerts firing the same way, keep their stored lines; yet every one of
    them reads as checked now, its failing streak one longer."""
    store = StateStore.memory()
    tracker = Tracker(store, lambda v: Policy(channels=("a",), repeat=dt.timedelta(days=1)))
    verdicts = tuple(verdict(f"D{i:02d}", Status.BREACH if i % 4 == 0 else Status.OK, 90 + i) for i in range(40))
    tracker.record(CheckResult(T0, verdicts), T0)
    lines = store.db.execute("SELECT rule, series, alert FROM alerts ORDER BY series").fetchall()
    changes = store.db.total_changes
    later = T0 + dt.timedelta(hours=1)
    assert tracker.record(CheckResult(T0, verdicts), later).messages == ()
    assert store.db.execute("SELECT rule, series, alert FROM alerts ORDER BY series").fetchall() == lines
    assert store.db.total_changes - changes <= 2  # the run, and the rule's check
    states = store.alerts()
    assert all(s.checked_at == later for s in states.values())
    assert {s.consecutive for k, s in states.items() if s.status is Status.BREACH} == {2}
    assert {s.last_bad_at for k, s in states.items() if s.status is Status.BREACH} == {later}
    # a day on, the firing ones are repeated, and only their channels' records change
    rec = tracker.record(CheckResult(T0, verdicts), T0 + dt.timedelta(days=1, hours=1))
    assert [e.kind.value for e in rec.events["a"]] == ["repeat"] * 10
    assert store.db.execute("SELECT rule, series, alert FROM alerts ORDER BY series").fetchall() == lines
