"""The SQLite state store: schema and migrations, transactions, the outbox (idempotent
enqueue, leases, failures, dead rows), silences and history."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from targetwatch.alerts import AlertState, ChannelState, Message
from targetwatch.model import Status
from targetwatch.state import _MIGRATIONS, SCHEMA_VERSION, Silence, StateError, StateStore

T0 = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def message(key: str = "k1", channel: str = "mail", text: str = "hello") -> Message:
    return Message(channel=channel, key=key, subject="s", text=text, events=({"kind": "firing", "rule": "r"},),
                   omitted=0, created_at=T0, as_of=T0)


def alert(status: Status = Status.BREACH, **kw: object) -> AlertState:
    base = {"status": status, "since": T0, "consecutive": 2, "bad_since": T0, "last_bad_at": T0 + MIN, "firing": True,
                "fired_at": T0 + MIN, "episode": 3, "value": Decimal("48000.50"), "target": Decimal(50000),
                "margin": Decimal("-1999.50"), "checked_at": T0 + MIN}
    base.update(kw)
    return AlertState(**base)  # type: ignore[arg-type]


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


# --- schema, reopening, damaged files --------------------------------------------------

def test_new_file_gets_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.sqlite3"
    store = StateStore.open(path)
    store.close()
    assert path.exists() and user_version(path) == SCHEMA_VERSION
    db = sqlite3.connect(path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    db.close()
    assert {"alerts", "deliveries", "runs", "history", "events", "silences", "outbox"} <= tables
    assert mode == "wal"


def test_reopen_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = StateStore.open(path)
    with store.transaction():
        store.save_alerts([("r", "district=A", '{"district": "A"}', alert(), {"title": "T"})])
        store.save_deliveries([("r", "district=A", "mail", ChannelState(3, "BREACH", Decimal(1), T0, 2))])
        store.enqueue(message(), T0)
    sid = store.add_silence("r*", [("district", "A")], T0 + dt.timedelta(days=1), "works", T0)
    store.close()

    again = StateStore.open(path)
    assert again.alerts() == {("r", "district=A"): alert()}
    assert again.deliveries() == {("r", "district=A", "mail"): ChannelState(3, "BREACH", Decimal(1), T0, 2)}
    assert [r.key for r in again.outbox()] == ["k1"]
    assert [s.id for s in again.silences()] == [sid]
    assert again.alert_rows()[0]["title"] == "T"
    again.close()
    assert user_version(path) == SCHEMA_VERSION


def test_decimals_and_moments_round_trip_exactly() -> None:
    store = StateStore.memory()
    shanghai = dt.timezone(dt.timedelta(hours=8))
    state = alert(value=Decimal("0.0489"), margin=Decimal("-1E+3"), since=dt.datetime(2024, 3, 1, 16, tzinfo=shanghai))
    with store.transaction():
        store.save_alerts([("r", "", "{}", state, {})])
    got = store.alerts()[("r", "")]
    assert got == state  # equal moments even though stored in UTC
    assert str(got.value) == "0.0489" and str(got.margin) == "-1E+3"


def test_a_newer_schema_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    StateStore.open(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StateError) as exc:
        StateStore.open(path)
    assert str(path) in str(exc.value) and "newer" in str(exc.value)
    assert user_version(path) == SCHEMA_VERSION + 1  # left as it was


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not a database, just some text that is long enough " * 40)
    with pytest.raises(StateError) as exc:
        StateStore.open(path)
    assert str(path) in str(exc.value)
    assert exc.value.__cause__ is None and exc.value.__suppress_context__  # no chained traceback


def test_an_unopenable_path_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StateError, match="cannot open the state file"):
        StateStore.open(blocker / "state.sqlite3")


def v1_file(path: Path) -> None:
    """A state file as schema 1 wrote it: an alert firing on one series, an OK one without
    values on another, what a channel was told, two runs' history."""
    db = sqlite3.connect(path)
    db.executescript(_MIGRATIONS[1])
    db.executescript("""
        INSERT INTO alerts VALUES ('sales.min', 'district=A', '{"district": "A"}', 'BREACH', '2024-03-01T08:00:00+00:00', 2,
            '2024-03-01T08:00:00+00:00', '2024-03-01T08:01:00+00:00', 1, '2024-03-01T08:01:00+00:00', 3, '48000.50', '50000',
            '-1999.50', '2024-03-01T08:01:00+00:00', 'sales', 'critical', 'BREACH: 48,000.5', '2024-02', '2024-03-01T00:00:00+00:00');
        INSERT INTO alerts VALUES ('sales.min', 'district=B', '{"district": "B"}', 'OK', '2024-03-01T08:00:00+00:00', 0,
            NULL, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, 'sales', NULL, 'no' || char(31) || 'data', NULL, NULL);
        INSERT INTO deliveries VALUES ('sales.min', 'district=A', 'mail', 3, 'BREACH', '48000.50', '2024-03-01T08:01:00+00:00', 1);
        INSERT INTO runs VALUES (1, '2024-03-01T08:00:00+00:00', '2024-03-01T00:00:00+00:00', '{}');
        INSERT INTO runs VALUES (2, '2024-03-01T08:01:00+00:00', '2024-03-01T00:00:00+00:00', '{}');
        INSERT INTO history (run, at, as_of, rule, series, status, previous, value, target, message) VALUES
            (1, '2024-03-01T08:00:00+00:00', '2024-03-01T00:00:00+00:00', 'sales.min', 'district=A', 'WARN', NULL, '49000', '50000', 'WARN: 49,000'),
            (1, '2024-03-01T08:00:00+00:00', '2024-03-01T00:00:00+00:00', 'sales.min', 'district=B', 'OK', NULL, NULL, NULL, 'no data'),
            (2, '2024-03-01T08:01:00+00:00', '2024-03-01T00:00:00+00:00', 'sales.min', 'district=A', 'BREACH', 'WARN', '48000.50', '50000', 'BREACH: 48,000.5');
        INSERT INTO events (run, at, rule, series, kind, status, channel, key, outbox) VALUES
            (2, '2024-03-01T08:01:00+00:00', 'sales.min', 'district=A', 'firing', 'BREACH', 'mail', 'k1', NULL);
        PRAGMA user_version = 1;
    """)
    db.close()


def test_a_schema_1_file_is_upgraded_keeping_every_alert_delivery_and_history_entry(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    v1_file(path)
    store = StateStore.open(path)
    assert user_version(path) == SCHEMA_VERSION == 2
    assert store.alerts() == {
        ("sales.min", "district=A"): alert(fired_at=T0 + MIN),
        ("sales.min", "district=B"): AlertState(status=Status.OK, since=T0),
    }
    rows = {r["series"]: r for r in store.alert_rows()}
    assert {k: rows["district=A"][k] for k in ("labels", "title", "severity", "message", "period", "as_of", "checked_at", "value")} == {
        "labels": '{"district": "A"}', "title": "sales", "severity": "critical", "message": "BREACH: 48,000.5", "period": "2024-02",
        "as_of": "2024-03-01T00:00:00+00:00", "checked_at": "2024-03-01T08:01:00+00:00", "value": "48000.50",
    }
    assert [rows["district=B"][k] for k in ("severity", "period", "as_of", "message")] == [None, None, None, "no\x1fdata"]
    assert store.deliveries() == {("sales.min", "district=A", "mail"): ChannelState(3, "BREACH", Decimal("48000.50"), T0 + MIN, 1)}
    assert [(h["what"], h["series"], h["status"], h["detail"], h["message"]) for h in store.history()] == [
        ("firing", "district=A", "BREACH", "k1", None),
        ("status", "district=A", "BREACH", "WARN", "BREACH: 48,000.5"),
        ("status", "district=A", "WARN", None, "WARN: 49,000"),
        ("status", "district=B", "OK", None, "no data"),
    ]
    store.close()


def test_an_upgraded_file_goes_on_from_where_it_was(tmp_path: Path) -> None:
    """The next check after an upgrade steps the alerts on from their remembered states."""
    from targetwatch.alerts import Policy
    from targetwatch.engine import CheckResult
    from targetwatch.model import Verdict
    from targetwatch.tracker import Tracker

    path = tmp_path / "state.sqlite3"
    v1_file(path)
    store = StateStore.open(path)
    verdict = Verdict(rule="sales.min", title="sales", kind="minimum", indicator="sales", labels=(("district", "A"),),
                      status=Status.BREACH, message="BREACH: 48,000.5", value=Decimal("48000.50"), target=Decimal(50000))
    now = T0 + dt.timedelta(days=2)
    recorded = Tracker(store, lambda v: Policy(channels=("mail",))).record(CheckResult(T0, (verdict,)), now)
    state = store.alerts()[("sales.min", "district=A")]
    assert (state.consecutive, state.episode, state.since, state.checked_at) == (3, 3, T0, now)
    assert [e.kind.value for e in recorded.events["mail"]] == ["repeat"]
    store.close()


# --- the alerts that are firing or not OK ---------------------------------------------------

def test_open_alerts_are_the_firing_and_not_ok_ones_worst_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from targetwatch import state_alerts
    from targetwatch.statecodec import glance as real

    hour = dt.timedelta(hours=1)
    rows = [
        ("r1", "a", alert(Status.OK, firing=False, fired_at=None), {}),
        ("r1", "b", alert(Status.OK), {}),  # resolving: OK, still firing
        ("r2", "a", alert(Status.WARN, since=T0 + hour), {}),
        ("r2", "b", alert(Status.BREACH, firing=False, fired_at=None, since=T0 + 2 * hour), {}),
        ("r3", "a", alert(since=T0 + hour), {}),
        ("r3", "b", alert(), {"message": "BREACH: 48,000.5"}),
        ("r0", "z", alert(Status.UNKNOWN), {}),
        ("r4", "a", alert(Status.ERROR, firing=False, fired_at=None), {}),
        ("r4", "b", alert(Status.WARN, firing=False, fired_at=None), {"title": "OK", "severity": "0"}),  # reads like a quiet state
        ("r5", "a", alert(Status.OK, firing=False, fired_at=None), {"message": "OK", "period": "0"}),
        ("r5", "b", alert(Status.OK, firing=False, fired_at=None), {"title": "a\x1fb"}),  # written as JSON
    ]
    store = StateStore.memory()
    with store.transaction():
        store.save_alerts([(rule, series, '{"district": "A"}', state, extra) for rule, series, state, extra in rows])
    read: list[str] = []

    def glance(text: str) -> tuple[Status, bool, str, str, str, str | None]:
        read.append(text)
        return real(text)

    monkeypatch.setattr(state_alerts, "glance", glance)
    got = store.open_alerts()
    assert [(a.rule, a.series) for a in got] == [
        ("r3", "b"), ("r3", "a"), ("r0", "z"), ("r2", "a"), ("r1", "b"),  # firing: BREACH, UNKNOWN, WARN, OK; oldest first
        ("r2", "b"), ("r4", "a"), ("r4", "b"),  # pending
    ]
    # Only these, and the two lines SQLite cannot tell from them, are read.
    assert len(read) == len(got) + 2
    first = got[0]
    assert (first.status, first.firing, first.since, first.fired_at, first.message) == (Status.BREACH, True, T0, T0 + MIN, "BREACH: 48,000.5")
    assert first.labels == '{"district": "A"}' and got[-1].fired_at is None
    assert StateStore.memory().open_alerts() == []


def test_open_alerts_of_a_damaged_line_name_the_file() -> None:
    store = StateStore.memory()
    with store.transaction():
        store.put_alerts([("r", "", "1\x1f2\x1f3\x1f{}\x1ft\x1fs\x1fm\x1fp\x1fNOT A STATE")])
    with pytest.raises(StateError, match="damaged"):
        store.open_alerts()
    with store.transaction():
        store.put_alerts([("r", "", "\x1f\x1f\x1f{}\x1ft\x1fs\x1fm\x1fp\x1fBREACH\x1f1\x1f0\x1f\x1f\x1f\x1f\x1fnot a moment\x1f\x1f0")])
    with pytest.raises(StateError, match="damaged"):
        store.open_alerts()


# --- transactions ------------------------------------------------------------------------

def test_transaction_rolls_back_everything_on_error() -> None:
    store = StateStore.memory()
    with pytest.raises(RuntimeError), store.transaction():
        store.save_alerts([("r", "", "{}", alert(), {})])
        run = store.start_run(T0, T0, {"OK": 1})
        store.add_history([(run, "t", "t", "r", "", "BREACH", None, "1", "2", "m")])
        store.enqueue(message(), T0)
        raise RuntimeError("crash mid-run")
    assert store.alerts() == {}
    assert store.outbox() == []
    assert store.history() == []
    assert store.db.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    with store.transaction():  # and the store is usable afterwards
        store.enqueue(message(), T0)
    assert len(store.outbox()) == 1


def test_a_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    one = StateStore.open(path)
    two = StateStore.open(path, timeout=0.1)
    with one.transaction():
        one.enqueue(message("a"), T0)
        with pytest.raises(StateError, match="busy"), two.transaction():
            pass
        assert two.outbox() == []  # uncommitted rows are invisible to the other connection
    assert [r.key for r in two.outbox()] == ["a"]
    one.close()
    two.close()



def test_a_reader_opens_the_file_while_a_check_writes_it(tmp_path: Path) -> None:
    """`targetwatch status` during a long check: opening a file already at this schema takes
    no write lock, so it neither waits for the writer nor fails as busy, and it reads what
    was committed before the writer's transaction."""
    path = tmp_path / "state.sqlite3"
    writer = StateStore.open(path)
    writer.enqueue(message("before"), T0)
    with writer.transaction():
        writer.enqueue(message("during"), T0)
        reader = StateStore.open(path, timeout=0.1)
        assert [r.key for r in reader.outbox()] == ["before"]
        assert reader.open_alerts() == []
        reader.close()
    writer.close()


def test_a_file_to_migrate_still_waits_for_the_writer(tmp_path: Path) -> None:
    """Migrating does write: it takes the lock, and says the file is busy when it cannot."""
    path = tmp_path / "state.sqlite3"
    StateStore.open(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA user_version = 1")
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StateError, match="busy"):
            StateStore.open(path, timeout=0.1)
    finally:
        other.execute("ROLLBACK")
        other.close()



def test_a_writer_that_opened_before_a_newer_targetwatch_migrated_writes_nothing(tmp_path: Path) -> None:
    """Opened without the lock at this schema, then a newer targetwatch migrates the file:
    the next write sees the new schema under the lock and refuses, naming the file."""
    path = tmp_path / "state.sqlite3"
    store = StateStore.open(path)
    newer = sqlite3.connect(path, isolation_level=None)
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.close()
    with pytest.raises(StateError, match=f"newer targetwatch .schema {SCHEMA_VERSION + 1}"):
        store.add_silence("r1", (), T0 + dt.timedelta(days=1), "late", T0)
    assert user_version(path) == SCHEMA_VERSION + 1
    plain = sqlite3.connect(path)
    assert plain.execute("SELECT count(*) FROM silences").fetchone() == (0,)
    plain.close()
    store.close()


# --- outbox --------------------------------------------------------------------------------

def test_enqueue_is_idempotent_per_key() -> None:
    store = StateStore.memory()
    with store.transaction():
        first = store.enqueue(message("k", text="first"), T0)
        second = store.enqueue(message("k", text="second"), T0 + MIN)
        other = store.enqueue(message("k2"), T0)
    assert first == second != other
    rows = store.outbox()
    assert [(r.key, r.message.text) for r in rows] == [("k", "first"), ("k2", "hello")]
    assert rows[0].message == message("k", text="first")
    assert rows[0].state == "pending" and rows[0].attempts == 0 and rows[0].next_attempt_at == T0


def test_claim_due_leases_rows(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = StateStore.open(path)
    with store.transaction():
        store.enqueue(message("a"), T0)
        store.enqueue(message("b"), T0 + dt.timedelta(hours=1))  # not due yet
    lease = dt.timedelta(minutes=10)
    assert [r.key for r in store.claim_due(T0, lease)] == ["a"]
    other = StateStore.open(path)  # a concurrent run
    assert other.claim_due(T0 + MIN, lease) == []
    assert store.claim_due(T0 + 9 * MIN, lease) == []
    # the lease expires: a run that crashed mid-delivery does not hold its rows for ever
    assert [r.key for r in other.claim_due(T0 + lease, lease)] == ["a"]
    assert [r.key for r in other.claim_due(T0 + 2 * lease + dt.timedelta(hours=1), lease)] == ["a", "b"]
    store.close()
    other.close()


def test_mark_sent() -> None:
    store = StateStore.memory()
    with store.transaction():
        rid = store.enqueue(message(), T0)
    store.claim_due(T0, dt.timedelta(minutes=10))
    store.mark_sent(rid, T0 + MIN)
    assert store.outbox() == []
    (row,) = store.outbox(states=("sent",))
    assert row.sent_at == T0 + MIN and row.attempts == 1 and row.state == "sent"
    assert store.claim_due(T0 + dt.timedelta(days=1), dt.timedelta(minutes=10)) == []


def test_mark_failed_retry_then_dead_then_retry_dead() -> None:
    store = StateStore.memory()
    with store.transaction():
        rid = store.enqueue(message(), T0)
    lease = dt.timedelta(minutes=10)
    store.claim_due(T0, lease)
    store.mark_failed(rid, "timeout", T0 + 2 * MIN)
    (row,) = store.outbox()
    assert (row.state, row.attempts, row.last_error, row.next_attempt_at) == ("pending", 1, "timeout", T0 + 2 * MIN)
    assert store.claim_due(T0 + MIN, lease) == []       # not due yet
    assert len(store.claim_due(T0 + 2 * MIN, lease)) == 1  # due, and the failure released the lease
    store.mark_failed(rid, "401 unauthorized", None)
    (row,) = store.outbox()
    assert (row.state, row.attempts, row.last_error) == ("dead", 2, "401 unauthorized")
    assert store.outbox(states=("pending",)) == []
    assert store.claim_due(T0 + dt.timedelta(days=1), lease) == []

    assert store.retry_dead(T0 + dt.timedelta(days=1)) == 1
    (row,) = store.outbox()
    assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 0, T0 + dt.timedelta(days=1))
    assert [r.id for r in store.claim_due(T0 + dt.timedelta(days=1), lease)] == [rid]
    assert store.retry_dead(T0) == 0


# --- silences --------------------------------------------------------------------------------

def test_silences_add_list_end() -> None:
    store = StateStore.memory()
    until = T0 + dt.timedelta(hours=2)
    a = store.add_silence("sales.*", [("district", "A")], until, "roadworks", T0, created_by="ops")
    b = store.add_silence("*", [], until, "holiday", T0)
    (sa, sb) = store.silences()
    assert sa == Silence(a, "sales.*", (("district", "A"),), T0, until, "roadworks", "ops", None)
    assert sb.id == b and sb.labels == ()
    assert store.end_silence(b, T0 + MIN) is True
    assert store.end_silence(b, T0 + 2 * MIN) is False  # already ended
    assert store.end_silence(999, T0) is False
    assert [s.id for s in store.silences()] == [a]
    ended = next(s for s in store.silences(include_ended=True) if s.id == b)
    assert ended.ended_at == T0 + MIN and not ended.active(T0 + MIN)


def test_silence_active_until_its_expiry() -> None:
    s = Silence(1, "r", (), T0, T0 + dt.timedelta(hours=1), "why")
    assert s.active(T0) and s.active(T0 + 59 * MIN)
    assert not s.active(T0 + dt.timedelta(hours=1))
    assert not Silence(1, "r", (), T0, T0 + dt.timedelta(hours=1), "why", ended_at=T0).active(T0)


@pytest.mark.parametrize(("pattern", "labels", "rule", "have", "expected"), [
    ("sales.*", (), "sales.q1", (("district", "A"),), True),
    ("sales.*", (), "costs.q1", (), False),
    ("sales.q?", (), "sales.q1", (), True),
    ("Sales.*", (), "sales.q1", (), False),  # case matters
    ("*", (("district", "A"),), "x", (("district", "A"), ("level", "1")), True),
    ("*", (("district", "A"),), "x", (("district", "B"),), False),
    ("*", (("district", "A"),), "x", (), False),
    ("*", (("district", "A"), ("level", "1")), "x", (("district", "A"),), False),
])
def test_silence_matches(pattern: str, labels: tuple, rule: str, have: tuple, expected: bool) -> None:
    assert Silence(1, pattern, labels, T0, T0, "r").matches(rule, have) is expected


# --- history ---------------------------------------------------------------------------------

def test_history_is_newest_first_and_merges_status_changes_and_events() -> None:
    store = StateStore.memory()
    for i, (status, kind) in enumerate([("BREACH", "firing"), ("WARN", "changed"), ("OK", "resolved")]):
        at = T0 + i * dt.timedelta(hours=1)
        with store.transaction():
            run = store.start_run(at, at, {})
            store.add_history([(run, at.isoformat(), at.isoformat(), "r", "district=A", status, None, "1", "2", f"msg {i}")])
            store.add_history([(run, at.isoformat(), at.isoformat(), "other", "", status, None, "1", "2", "o")])
            sent = (at + MIN).isoformat()
            store.add_events([(run, sent, "r", "district=A", kind, status, "mail", f"key{i}", None)])
    got = store.history(rule="r")
    assert [(h["what"], h["status"], h["detail"], h["channel"]) for h in got] == [
        ("resolved", "OK", "key2", "mail"), ("status", "OK", None, None),
        ("changed", "WARN", "key1", "mail"), ("status", "WARN", None, None),
        ("firing", "BREACH", "key0", "mail"), ("status", "BREACH", None, None),
    ]
    assert got[1]["message"] == "msg 2" and {h["rule"] for h in got} == {"r"}
    recent = store.history(since=T0 + dt.timedelta(hours=1))
    assert len(recent) == 6 and all(h["at"] >= (T0 + dt.timedelta(hours=1)).isoformat() for h in recent)
    assert [h["what"] for h in store.history(limit=2)] == ["resolved", "status"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.text("abc", min_size=1, max_size=3), st.booleans()), max_size=12))
def test_enqueue_keeps_one_row_per_key(ops: list[tuple[str, bool]]) -> None:
    store = StateStore.memory()
    first_text: dict[str, str] = {}
    for i, (key, crash) in enumerate(ops):
        try:
            with store.transaction():
                store.enqueue(message(key, text=str(i)), T0)
                if crash:
                    raise RuntimeError
        except RuntimeError:
            continue
        first_text.setdefault(key, str(i))
    assert {r.key: r.message.text for r in store.outbox()} == first_text
