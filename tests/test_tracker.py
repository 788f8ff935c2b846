"""The tracker: one transaction per run (alert states, delivery records, history, events and
one digest per channel in the outbox), and delivery of the outbox with retries and back-off."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from targetwatch.alerts import EventKind, Message, Policy
from targetwatch.engine import CheckResult
from targetwatch.model import Status, Verdict
from targetwatch.notify import DeliveryError
from targetwatch.state import StateStore
from targetwatch.tracker import Delivery, Tracker

T0 = dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
MIN = dt.timedelta(minutes=1)
TARGET = Decimal(50000)


def v(status: Status = Status.BREACH, value: int | None = 48000, district: str = "A", rule: str = "sales.min") -> Verdict:
    val = None if value is None else Decimal(value)
    return Verdict(
        rule=rule, title=f"sales ≥ 50,000 ({district})", kind="minimum", indicator="sales",
        labels=(("district", district),), status=status, message=f"{status}: {value}",
        value=val, target=TARGET, margin=None if val is None else val - TARGET,
    )


def result(*verdicts: Verdict, as_of: dt.datetime = T0) -> CheckResult:
    return CheckResult(as_of, tuple(verdicts))


def policy_of(channels: tuple[str, ...] = ("a", "b"), **kw: object) -> Callable[[Verdict], Policy]:
    p = Policy(channels=channels, **kw)  # type: ignore[arg-type]
    return lambda verdict: p


class Recorder:
    """A channel that takes everything."""

    def __init__(self) -> None:
        self.got: list[Message] = []

    def deliver(self, message: Message) -> None:
        self.got.append(message)


class Failing:
    """A channel that refuses, retryably or not."""

    def __init__(self, retryable: bool = True) -> None:
        self.retryable = retryable
        self.calls = 0

    def deliver(self, message: Message) -> None:
        self.calls += 1
        raise DeliveryError("receiver said 503", self.retryable)


def kinds(recorded, channel: str) -> list[EventKind]:
    return [e.kind for e in recorded.events.get(channel, ())]


def copy_of(store: StateStore) -> StateStore:
    twin = StateStore.memory()
    store.db.backup(twin.db)
    return twin


# --- recording -------------------------------------------------------------------------------

def test_first_breach_makes_one_digest_per_channel_in_the_outbox() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of())
    twin = copy_of(store)
    rec = tracker.record(result(v()), T0)
    assert sorted(m.channel for m in rec.messages) == ["a", "b"]
    for m in rec.messages:
        (event,) = m.events
        assert event["kind"] == "firing" and event["rule"] == "sales.min" and event["labels"] == {"district": "A"}
        assert event["status"] == "BREACH" and event["value"] == "48000" and m.omitted == 0
        assert "BREACH" in m.subject and "sales ≥ 50,000 (A)" in m.text
    assert kinds(rec, "a") == kinds(rec, "b") == [EventKind.FIRING]
    assert rec.events["a"][0].key != rec.events["b"][0].key
    outbox = store.outbox()
    assert {(r.channel, r.key) for r in outbox} == {(m.channel, m.key) for m in rec.messages}
    assert {r.key: r.message for r in outbox} == {m.key: m for m in rec.messages}
    # the same run on a copy of the state before it gives the same keys
    again = Tracker(twin, policy_of()).record(result(v()), T0)
    assert {m.key for m in again.messages} == {m.key for m in rec.messages}
    assert {e.key for es in again.events.values() for e in es} == {e.key for es in rec.events.values() for e in es}
    # state, deliveries, events and history are written
    (state,) = store.alerts().values()
    assert state.firing and state.episode == 1 and state.status is Status.BREACH
    assert {k[2]: s.announced for k, s in store.deliveries().items()} == {"a": "BREACH", "b": "BREACH"}
    assert {(h["what"], h["channel"]) for h in store.history()} == {("status", None), ("firing", "a"), ("firing", "b")}


def test_an_immediate_rerun_says_nothing() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(for_checks=2))
    assert tracker.record(result(v()), T0).messages == ()
    assert tracker.record(result(v()), T0).messages == ()   # a re-run is not a second check
    first = tracker.record(result(v()), T0 + H)
    assert len(first.messages) == 2
    rerun = tracker.record(result(v()), T0 + H)
    assert rerun.messages == () and rerun.events == {}
    assert len(store.outbox()) == 2


def test_repeat_after_the_interval() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",), repeat=6 * H))
    tracker.record(result(v()), T0)
    assert tracker.record(result(v()), T0 + 5 * H).messages == ()
    rec = tracker.record(result(v()), T0 + 6 * H)
    assert kinds(rec, "a") == [EventKind.REPEAT]
    assert "(repeat)" in rec.messages[0].text
    assert tracker.record(result(v()), T0 + 7 * H).messages == ()
    assert len(store.outbox()) == 2


def test_escalation_is_changed() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",)))
    assert kinds(tracker.record(result(v(Status.WARN, 49000)), T0), "a") == [EventKind.FIRING]
    rec = tracker.record(result(v(Status.BREACH, 40000)), T0 + H)
    assert kinds(rec, "a") == [EventKind.CHANGED]
    assert rec.events["a"][0].previous is Status.WARN and rec.messages[0].events[0]["previous"] == "WARN"
    assert tracker.record(result(v(Status.BREACH, 39000)), T0 + 2 * H).messages == ()


def test_resolved_only_to_channels_told() -> None:
    store = StateStore.memory()
    channels = {"now": ("a",)}
    tracker = Tracker(store, lambda verdict: Policy(channels=channels["now"]))
    tracker.record(result(v()), T0)
    channels["now"] = ("a", "b")  # b added while the alert was firing, resolved before it heard
    rec = tracker.record(result(v(Status.OK, 52000)), T0 + H)
    assert list(rec.events) == ["a"] and kinds(rec, "a") == [EventKind.RESOLVED]
    assert rec.messages[0].subject.startswith("1 RESOLVED")
    assert tracker.record(result(v(Status.OK, 52000)), T0 + 2 * H).messages == ()


def test_silenced_verdicts_send_nothing_until_the_silence_ends() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",)))
    sid = store.add_silence("sales.*", [("district", "A")], T0 + dt.timedelta(days=1), "roadworks", T0)
    rec = tracker.record(result(v(district="A"), v(district="B"), v(rule="costs.max")), T0)
    marked = {(x.rule, x.labels): x.silenced for x in rec.verdicts}
    assert "roadworks" in marked[("sales.min", (("district", "A"),))]
    assert f"#{sid}" in marked[("sales.min", (("district", "A"),))]
    assert marked[("sales.min", (("district", "B"),))] is None and marked[("costs.max", (("district", "A"),))] is None
    assert {(e.rule, e.labels) for e in rec.events["a"]} == {("sales.min", (("district", "B"),)), ("costs.max", (("district", "A"),))}
    assert len(store.alerts()) == 3  # the silenced alert is still tracked
    assert tracker.record(result(v(district="A")), T0 + H).messages == ()
    store.end_silence(sid, T0 + 2 * H)
    rec = tracker.record(result(v(district="A")), T0 + 3 * H)
    assert [(e.kind, e.labels) for e in rec.events["a"]] == [(EventKind.FIRING, (("district", "A"),))]
    assert rec.verdicts[0].silenced is None


def test_an_alert_that_resolves_during_a_silence_is_resolved_once_the_silence_ends() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",)))
    assert kinds(tracker.record(result(v()), T0), "a") == [EventKind.FIRING]
    sid = store.add_silence("sales.*", [], T0 + dt.timedelta(days=1), "audit", T0 + H)
    assert tracker.record(result(v(Status.OK, 51000)), T0 + 2 * H).messages == ()  # silenced
    store.end_silence(sid, T0 + 3 * H)
    # The channel's last word was BREACH: it must hear that the alert resolved, once.
    assert kinds(tracker.record(result(v(Status.OK, 51000)), T0 + 4 * H), "a") == [EventKind.RESOLVED]
    assert tracker.record(result(v(Status.OK, 51000)), T0 + 5 * H).messages == ()


def test_an_expired_silence_no_longer_applies() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",)))
    store.add_silence("*", [], T0 + H, "short", T0)
    assert tracker.record(result(v()), T0 + 30 * MIN).messages == ()
    rec = tracker.record(result(v()), T0 + H)
    assert kinds(rec, "a") == [EventKind.FIRING]


def test_storm_cap_lists_some_and_counts_the_rest() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(), max_per_message=10)
    verdicts = [v(district=f"D{i:02d}", value=40000 + i) for i in range(50)]
    rec = tracker.record(result(*verdicts), T0)
    assert len(rec.messages) == 2
    for m in rec.messages:
        assert len(m.events) == 10 and m.omitted == 40
        assert "40 more" in m.text and m.subject.startswith("50 BREACH")
        assert len(rec.events[m.channel]) == 50
    assert len(store.alerts()) == 50 and all(s.firing for s in store.alerts().values())
    rows = store.db.execute("SELECT channel, count(*), count(DISTINCT key), count(DISTINCT outbox) FROM events GROUP BY channel").fetchall()
    assert sorted(rows) == [("a", 50, 50, 1), ("b", 50, 50, 1)]
    assert len(store.outbox()) == 2


def test_digest_lists_the_worst_first() -> None:
    tracker = Tracker(StateStore.memory(), policy_of(("a",)), max_per_message=1)
    rec = tracker.record(result(v(Status.WARN, 49000, "A"), v(Status.BREACH, 1, "B")), T0)
    (m,) = rec.messages
    assert m.events[0]["status"] == "BREACH" and m.omitted == 1


def test_a_crash_before_commit_writes_nothing() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of())

    def crash(name: str) -> None:
        if name == "before-commit":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tracker.record(result(v()), T0, checkpoint=crash)
    assert store.alerts() == {} and store.deliveries() == {} and store.outbox() == [] and store.history() == []
    rec = tracker.record(result(v()), T0 + MIN)  # the next run announces it
    assert len(rec.messages) == 2


# --- delivery --------------------------------------------------------------------------------

def test_deliver_marks_sent() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of())
    rec = tracker.record(result(v()), T0)
    a, b = Recorder(), Recorder()
    out = tracker.deliver({"a": a, "b": b}, T0)
    assert sorted(out, key=lambda d: d.channel) == sorted((Delivery(m.channel, m.key, True) for m in rec.messages), key=lambda d: d.channel)
    assert [m.channel for m in a.got] == ["a"] and [m.channel for m in b.got] == ["b"]
    assert a.got[0] == next(m for m in rec.messages if m.channel == "a")
    assert store.outbox() == [] and len(store.outbox(states=("sent",))) == 2
    assert tracker.deliver({"a": a, "b": b}, T0 + H) == []
    assert len(a.got) == 1


def test_retryable_failure_backs_off_doubling_then_gives_up() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",)), attempts=5, retry_after=MIN, retry_max=5 * MIN)
    tracker.record(result(v()), T0)
    channel = Failing(retryable=True)
    now = T0
    waits = []
    for _ in range(4):
        (d,) = tracker.deliver({"a": channel}, now)
        assert not d.ok and not d.dead and "503" in (d.error or "")
        (row,) = store.outbox()
        assert row.state == "pending"
        waits.append(row.next_attempt_at - now)
        assert tracker.deliver({"a": channel}, row.next_attempt_at - dt.timedelta(seconds=1)) == []  # not yet due
        now = row.next_attempt_at
    assert waits == [MIN, 2 * MIN, 4 * MIN, 5 * MIN]
    (d,) = tracker.deliver({"a": channel}, now)
    assert d.dead and not d.ok
    (row,) = store.outbox()
    assert row.state == "dead" and row.attempts == 5 and "503" in (row.last_error or "")
    assert channel.calls == 5
    assert tracker.deliver({"a": channel}, now + dt.timedelta(days=1)) == []


def test_non_retryable_failure_is_dead_at_once() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",)))
    tracker.record(result(v()), T0)
    (d,) = tracker.deliver({"a": Failing(retryable=False)}, T0)
    assert d.dead
    (row,) = store.outbox()
    assert row.state == "dead" and row.attempts == 1
    # after fixing the channel, retry_dead puts it back and it is sent
    store.retry_dead(T0 + H)
    ok = Recorder()
    (d,) = tracker.deliver({"a": ok}, T0 + H)
    assert d.ok and len(ok.got) == 1


def test_an_unexpected_exception_is_a_retryable_failure() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",)))
    tracker.record(result(v()), T0)

    class Boom:
        def deliver(self, message: Message) -> None:
            raise ValueError("bad")

    (d,) = tracker.deliver({"a": Boom()}, T0)
    assert not d.dead and d.error == "ValueError: bad"
    assert store.outbox()[0].state == "pending"


def test_one_failing_channel_never_stops_another() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a", "b", "c")))
    tracker.record(result(v()), T0)
    c = Recorder()
    out = tracker.deliver({"a": Failing(retryable=True), "b": Failing(retryable=False), "c": c}, T0)
    assert {d.channel: (d.ok, d.dead) for d in out} == {"a": (False, False), "b": (False, True), "c": (True, False)}
    assert len(c.got) == 1


def test_a_broken_channel_keeps_its_messages_pending() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a", "b")), attempts=3)
    tracker.record(result(v()), T0)
    b = Recorder()
    out = tracker.deliver({"b": b}, T0, broken={"a": "missing password"})
    (fail,) = [d for d in out if d.channel == "a"]
    assert not fail.ok and not fail.dead and "missing password" in (fail.error or "")
    (row,) = store.outbox()
    assert row.channel == "a" and row.state == "pending"
    # once the channel is fixed the message goes out
    a = Recorder()
    assert [d.ok for d in tracker.deliver({"a": a, "b": b}, T0 + H)] == [True]
    assert len(a.got) == 1 and len(b.got) == 1


def test_a_broken_channel_is_not_given_up_on_without_limit() -> None:
    """A channel missing from ``notifiers`` is retried like any retryable failure; after
    ``attempts`` tries it is marked dead (and shown), never silently dropped."""
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",)), attempts=2, retry_after=MIN)
    tracker.record(result(v()), T0)
    tracker.deliver({}, T0)
    (d,) = tracker.deliver({}, T0 + MIN)
    assert d.dead
    assert store.outbox()[0].state == "dead"


def test_crash_between_commit_and_delivery_delivers_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = StateStore.open(path)
    rec = Tracker(store, policy_of()).record(result(v()), T0)
    store.close()  # the process dies before delivering

    store = StateStore.open(path)
    tracker = Tracker(store, policy_of())
    a, b = Recorder(), Recorder()
    assert tracker.record(result(v()), T0 + MIN).messages == ()  # the next run adds nothing new
    out = tracker.deliver({"a": a, "b": b}, T0 + MIN)
    assert all(d.ok for d in out) and len(out) == 2
    assert [m.key for m in a.got + b.got] == [m.key for m in sorted(rec.messages, key=lambda m: m.channel)]
    assert tracker.deliver({"a": a, "b": b}, T0 + H) == []
    store.close()
    store = StateStore.open(path)
    assert Tracker(store, policy_of()).deliver({"a": a, "b": b}, T0 + 2 * H) == []
    assert len(a.got) == 1 and len(b.got) == 1
    store.close()


def test_crash_after_sending_resends_with_the_same_key_after_the_lease(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = StateStore.open(path)
    tracker = Tracker(store, policy_of(("a",)))
    tracker.record(result(v()), T0)
    a = Recorder()

    def crash(name: str) -> None:
        if name == "before-mark":
            raise SystemExit(1)

    with pytest.raises(SystemExit):
        tracker.deliver({"a": a}, T0, checkpoint=crash)
    store.close()
    store = StateStore.open(path)
    tracker = Tracker(store, policy_of(("a",)))
    assert tracker.deliver({"a": a}, T0 + MIN) == []  # still leased by the crashed run
    (d,) = tracker.deliver({"a": a}, T0 + H)
    assert d.ok and [m.key for m in a.got] == [d.key, d.key]  # at least once, same key
    store.close()


def test_outbox_payload_is_json_with_the_key(tmp_path: Path) -> None:
    store = StateStore.memory()
    rec = Tracker(store, policy_of(("a",))).record(result(v()), T0)
    (payload,) = [json.loads(r[0]) for r in store.db.execute("SELECT payload FROM outbox")]
    assert payload["key"] == rec.messages[0].key and payload["events"][0]["key"] == rec.events["a"][0].key


# --- alerts that are no longer checked -------------------------------------------------------

def test_a_series_that_vanishes_is_resolved_to_the_channels_told_and_forgotten() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",)))
    both = result(v(district="A"), v(district="B"))
    assert len(tracker.record(both, T0, scope=(["sales.min"], ["sales.min"])).events["a"]) == 2
    rec = tracker.record(result(v(district="A")), T0 + H, scope=(["sales.min"], ["sales.min"]))
    (event,) = rec.events["a"]
    assert (event.kind, event.labels, event.previous) == (EventKind.RESOLVED, (("district", "B"),), Status.BREACH)
    assert "no longer checked" in event.message and "no longer in the data" in event.message
    assert set(store.alerts()) == {("sales.min", "district=A")}
    assert [k for k in store.deliveries() if k[1] == "district=B"] == []
    assert tracker.record(result(v(district="A")), T0 + 2 * H, scope=(["sales.min"], ["sales.min"])).messages == ()


def test_rules_not_evaluated_this_run_keep_their_alerts() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",)))
    tracker.record(result(v(), v(rule="costs.max")), T0, scope=(["sales.min", "costs.max"], ["sales.min", "costs.max"]))
    # `check --rule sales.min`: costs.max was not judged, and it is still in the config.
    rec = tracker.record(result(v()), T0 + H, scope=(["sales.min"], ["sales.min", "costs.max"]))
    assert rec.messages == ()
    assert ("costs.max", "district=A") in store.alerts()


def test_a_removed_rule_is_resolved_and_forgotten_and_one_never_told_goes_quietly() -> None:
    store = StateStore.memory()
    tracker = Tracker(store, policy_of(("a",), for_checks=3))
    tracker.record(result(v(), v(rule="costs.max", status=Status.OK, value=1)), T0, scope=(["sales.min", "costs.max"], ["sales.min", "costs.max"]))
    tracker2 = Tracker(store, policy_of(("a",)))
    tracker2.record(result(v(rule="old.rule")), T0 + H, scope=(["old.rule"], ["old.rule", "sales.min", "costs.max"]))
    rec = tracker2.record(result(v()), T0 + 2 * H, scope=(["sales.min"], ["sales.min"]))
    told = [(e.rule, e.kind) for e in rec.events["a"]]
    assert ("old.rule", EventKind.RESOLVED) in told and "configuration" in next(e.message for e in rec.events["a"] if e.rule == "old.rule")
    assert not any(e.rule == "costs.max" for e in rec.events["a"])  # never fired, never told: forgotten quietly
    assert {k[0] for k in store.alerts()} == {"sales.min"}
