"""The state store: one embedded SQLite file that remembers, between cron runs, each alert's
state, what each channel was told, silences, the outbox of notifications and the history.

WAL journal, a busy timeout, and explicit ``BEGIN IMMEDIATE`` transactions: a run's state
changes and the notifications they cause are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import attrs

from .alerts import AlertState, ChannelState, Message
from .errors import TargetwatchError
from .model import Status

SCHEMA_VERSION: Final = 1

_MIGRATIONS: Final[dict[int, str]] = {
    1: """
    CREATE TABLE alerts (
        rule TEXT NOT NULL, series TEXT NOT NULL, labels TEXT NOT NULL,
        status TEXT NOT NULL, since TEXT NOT NULL, consecutive INTEGER NOT NULL,
        bad_since TEXT, last_bad_at TEXT, firing INTEGER NOT NULL, fired_at TEXT,
        episode INTEGER NOT NULL, value TEXT, target TEXT, margin TEXT, checked_at TEXT,
        title TEXT, severity TEXT, message TEXT, period TEXT, as_of TEXT,
        PRIMARY KEY (rule, series)
    );
    CREATE TABLE deliveries (
        rule TEXT NOT NULL, series TEXT NOT NULL, channel TEXT NOT NULL,
        episode INTEGER NOT NULL, announced TEXT, value TEXT, last_sent TEXT,
        repeats INTEGER NOT NULL,
        PRIMARY KEY (rule, series, channel)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, as_of TEXT NOT NULL,
        summary TEXT NOT NULL
    );
    CREATE TABLE history (
        id INTEGER PRIMARY KEY, run INTEGER NOT NULL REFERENCES runs(id), at TEXT NOT NULL,
        as_of TEXT NOT NULL, rule TEXT NOT NULL, series TEXT NOT NULL, status TEXT NOT NULL,
        previous TEXT, value TEXT, target TEXT, message TEXT NOT NULL
    );
    CREATE INDEX history_rule ON history (rule, series, id);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY, run INTEGER NOT NULL REFERENCES runs(id), at TEXT NOT NULL,
        rule TEXT NOT NULL, series TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
        channel TEXT NOT NULL, key TEXT NOT NULL, outbox INTEGER REFERENCES outbox(id)
    );
    CREATE INDEX events_rule ON events (rule, series, id);
    CREATE TABLE silences (
        id INTEGER PRIMARY KEY, rule TEXT NOT NULL, labels TEXT NOT NULL,
        created_at TEXT NOT NULL, until TEXT NOT NULL, reason TEXT NOT NULL,
        created_by TEXT, ended_at TEXT
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,
        created_at TEXT NOT NULL, payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL, last_error TEXT, state TEXT NOT NULL DEFAULT 'pending',
        sent_at TEXT, lease_until TEXT
    );
    CREATE INDEX outbox_pending ON outbox (state, next_attempt_at);
    """,
}


class StateError(TargetwatchError):
    """The state file cannot be opened, is from a newer targetwatch, or is damaged."""


def _t(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


def _dt(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _d(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@attrs.frozen
class Silence:
    """A silence: rule id pattern (shell-style), label equalities, until when, and why."""

    id: int
    rule: str
    labels: tuple[tuple[str, str], ...]
    created_at: dt.datetime
    until: dt.datetime
    reason: str
    created_by: str | None = None
    ended_at: dt.datetime | None = None

    def active(self, now: dt.datetime) -> bool:
        return self.ended_at is None and now < self.until

    def matches(self, rule: str, labels: Iterable[tuple[str, str]]) -> bool:
        from fnmatch import fnmatchcase

        have = dict(labels)
        return fnmatchcase(rule, self.rule) and all(have.get(k) == v for k, v in self.labels)


@attrs.frozen
class OutboxRow:
    """A notification waiting in (or delivered from) the outbox."""

    id: int
    key: str
    channel: str
    created_at: dt.datetime
    message: Message
    attempts: int
    next_attempt_at: dt.datetime
    state: str
    last_error: str | None = None
    sent_at: dt.datetime | None = None


class StateStore:
    """The SQLite state file. Open it with :meth:`open`; write inside :meth:`transaction`."""

    def __init__(self, connection: sqlite3.Connection, path: Path | None) -> None:
        self.db = connection
        self.path = path

    @classmethod
    def open(cls, path: str | Path, *, timeout: float = 30.0) -> StateStore:
        """Open (creating it and its folder if needed) and migrate the state file."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open the state file {path}: {exc}") from None
        store = cls(db, path)
        try:
            store._migrate()
        except BaseException:
            db.close()
            raise
        return store

    @classmethod
    def memory(cls) -> StateStore:
        """A throw-away in-memory store (backtests, tests)."""
        db = sqlite3.connect(":memory:", isolation_level=None)
        store = cls(db, None)
        store._migrate()
        return store

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        try:
            with self.transaction():
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StateError(f"the state file {self.path} was written by a newer targetwatch (schema {version}, this one knows {SCHEMA_VERSION})")
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[target].split(";"):
                        if statement.strip():
                            self.db.execute(statement)
                    self.db.execute(f"PRAGMA user_version = {target}")
        except sqlite3.DatabaseError as exc:
            raise StateError(f"the state file {self.path} is not usable: {exc}") from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any exception."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StateError(f"the state file {self.path} is busy ({exc}); another process holds it too long") from None
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # Alerts and deliveries ------------------------------------------------------------

    def alerts(self) -> dict[tuple[str, str], AlertState]:
        """Every remembered alert, by (rule, series)."""
        out = {}
        for row in self.db.execute(
            "SELECT rule, series, status, since, consecutive, bad_since, last_bad_at, firing, fired_at,"
            " episode, value, target, margin, checked_at FROM alerts"
        ):
            out[(row[0], row[1])] = AlertState(
                status=Status(row[2]), since=_dt(row[3]) or dt.datetime.min, consecutive=row[4],
                bad_since=_dt(row[5]), last_bad_at=_dt(row[6]), firing=bool(row[7]), fired_at=_dt(row[8]),
                episode=row[9], value=_d(row[10]), target=_d(row[11]), margin=_d(row[12]), checked_at=_dt(row[13]),
            )
        return out

    def alert_rows(self) -> list[dict[str, Any]]:
        """Every remembered alert with its display fields (for ``targetwatch status``)."""
        cursor = self.db.execute("SELECT * FROM alerts ORDER BY rule, series")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def deliveries(self) -> dict[tuple[str, str, str], ChannelState]:
        """What each channel was last told, by (rule, series, channel)."""
        out = {}
        for row in self.db.execute("SELECT rule, series, channel, episode, announced, value, last_sent, repeats FROM deliveries"):
            out[(row[0], row[1], row[2])] = ChannelState(row[3], row[4], _d(row[5]), _dt(row[6]), row[7])
        return out

    def save_alerts(self, rows: Sequence[tuple[str, str, str, AlertState, dict[str, Any]]]) -> None:
        """Upsert alerts: (rule, series, labels json, state, display fields)."""
        self.db.executemany(
            "INSERT OR REPLACE INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (rule, series, labels, s.status.value, _t(s.since), s.consecutive, _t(s.bad_since), _t(s.last_bad_at),
                 int(s.firing), _t(s.fired_at), s.episode, _s(s.value), _s(s.target), _s(s.margin), _t(s.checked_at),
                 extra.get("title"), extra.get("severity"), extra.get("message"), extra.get("period"), extra.get("as_of"))
                for rule, series, labels, s, extra in rows
            ],
        )

    def save_deliveries(self, rows: Sequence[tuple[str, str, str, ChannelState]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO deliveries VALUES (?,?,?,?,?,?,?,?)",
            [(r, s, c, st.episode, st.announced, _s(st.value), _t(st.last_sent), st.repeats) for r, s, c, st in rows],
        )

    def forget(self, rule: str, series: str) -> None:
        """Drop an alert and what its channels were told (inside the caller's transaction)."""
        self.db.execute("DELETE FROM alerts WHERE rule = ? AND series = ?", (rule, series))
        self.db.execute("DELETE FROM deliveries WHERE rule = ? AND series = ?", (rule, series))

    def start_run(self, started_at: dt.datetime, as_of: dt.datetime, summary: dict[str, int]) -> int:
        cursor = self.db.execute("INSERT INTO runs (started_at, as_of, summary) VALUES (?,?,?)", (_t(started_at), _t(as_of), json.dumps(summary)))
        return int(cursor.lastrowid or 0)

    def add_history(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """History rows: (run, at, as_of, rule, series, status, previous, value, target, message)."""
        self.db.executemany(
            "INSERT INTO history (run, at, as_of, rule, series, status, previous, value, target, message) VALUES (?,?,?,?,?,?,?,?,?,?)", rows
        )

    def add_events(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Event rows: (run, at, rule, series, kind, status, channel, key, outbox id)."""
        self.db.executemany("INSERT INTO events (run, at, rule, series, kind, status, channel, key, outbox) VALUES (?,?,?,?,?,?,?,?,?)", rows)

    def history(self, rule: str | None = None, since: dt.datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Status changes and notifications, newest first."""
        where: list[str] = ["1=1"]
        args: list[Any] = []
        if rule:
            where.append("rule = ?")
            args.append(rule)
        if since:
            where.append("at >= ?")
            args.append(_t(since))
        sql = (
            "SELECT at, rule, series, 'status' AS what, status, previous AS detail, NULL AS channel,"
            " message, NULL AS delivery, 1 AS rank FROM history WHERE {w}"
            " UNION ALL SELECT e.at, e.rule, e.series, e.kind, e.status, e.key, e.channel, NULL,"
            " o.state, 0 FROM events e LEFT JOIN outbox o ON o.id = e.outbox WHERE {we}"
            " ORDER BY at DESC, rank ASC LIMIT ?"
        ).format(w=" AND ".join(where), we=" AND ".join(f"e.{c}" if c != "1=1" else c for c in where))
        cursor = self.db.execute(sql, [*args, *args, limit])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    # Silences --------------------------------------------------------------------------

    def add_silence(self, rule: str, labels: Iterable[tuple[str, str]], until: dt.datetime, reason: str, now: dt.datetime, created_by: str | None = None) -> int:
        with self.transaction():
            cursor = self.db.execute(
                "INSERT INTO silences (rule, labels, created_at, until, reason, created_by) VALUES (?,?,?,?,?,?)",
                (rule, json.dumps(sorted(labels), ensure_ascii=False), _t(now), _t(until), reason, created_by),
            )
        return int(cursor.lastrowid or 0)

    def end_silence(self, silence_id: int, now: dt.datetime) -> bool:
        with self.transaction():
            cursor = self.db.execute("UPDATE silences SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (_t(now), silence_id))
        return cursor.rowcount == 1

    def silences(self, *, include_ended: bool = False) -> list[Silence]:
        sql = "SELECT id, rule, labels, created_at, until, reason, created_by, ended_at FROM silences"
        if not include_ended:
            sql += " WHERE ended_at IS NULL"
        out = []
        for row in self.db.execute(sql + " ORDER BY id"):
            labels = tuple((str(k), str(v)) for k, v in json.loads(row[2]))
            out.append(Silence(row[0], row[1], labels, _dt(row[3]) or dt.datetime.min, _dt(row[4]) or dt.datetime.min, row[5], row[6], _dt(row[7])))
        return out

    # Outbox ----------------------------------------------------------------------------

    def enqueue(self, message: Message, now: dt.datetime) -> int:
        """Put a message in the outbox (inside the caller's transaction); a key already there
        is not added twice. Returns the row id."""
        self.db.execute(
            "INSERT OR IGNORE INTO outbox (key, channel, created_at, payload, next_attempt_at) VALUES (?,?,?,?,?)",
            (message.key, message.channel, _t(now), json.dumps(message.as_dict(), ensure_ascii=False), _t(now)),
        )
        return int(self.db.execute("SELECT id FROM outbox WHERE key = ?", (message.key,)).fetchone()[0])

    def _outbox_rows(self, where: str, args: Sequence[Any]) -> list[OutboxRow]:
        rows = []
        sql = "SELECT id, key, channel, created_at, payload, attempts, next_attempt_at, state, last_error, sent_at FROM outbox WHERE " + where + " ORDER BY id"
        for r in self.db.execute(sql, args):
            rows.append(OutboxRow(r[0], r[1], r[2], _dt(r[3]) or dt.datetime.min, Message.from_dict(json.loads(r[4])), r[5], _dt(r[6]) or dt.datetime.min, r[7], r[8], _dt(r[9])))
        return rows

    def claim_due(self, now: dt.datetime, lease: dt.timedelta) -> list[OutboxRow]:
        """Pending rows due by ``now``, leased to this run so that no other run sends them at
        the same time."""
        with self.transaction():
            rows = self._outbox_rows("state = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)", (_t(now), _t(now)))
            self.db.executemany("UPDATE outbox SET lease_until = ? WHERE id = ?", [(_t(now + lease), r.id) for r in rows])
        return rows

    def release_leases(self) -> int:
        """Clear every lease: for a caller holding the run lock, any lease is a dead run's."""
        with self.transaction():
            cursor = self.db.execute("UPDATE outbox SET lease_until = NULL WHERE lease_until IS NOT NULL")
        return cursor.rowcount

    def mark_sent(self, row_id: int, now: dt.datetime) -> None:
        with self.transaction():
            self.db.execute("UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL, lease_until = NULL WHERE id = ?", (_t(now), row_id))

    def mark_failed(self, row_id: int, error: str, retry_at: dt.datetime | None) -> None:
        """Record a failed attempt; ``retry_at`` of ``None`` gives up (the row is dead)."""
        with self.transaction():
            if retry_at is None:
                self.db.execute("UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?, lease_until = NULL WHERE id = ?", (error, row_id))
            else:
                self.db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, lease_until = NULL WHERE id = ?", (error, _t(retry_at), row_id))

    def outbox(self, *, states: Sequence[str] = ("pending", "dead")) -> list[OutboxRow]:
        marks = ",".join("?" for _ in states)
        return self._outbox_rows(f"state IN ({marks})", tuple(states))

    def retry_dead(self, now: dt.datetime) -> int:
        """Put dead rows back in the queue (after fixing a channel)."""
        with self.transaction():
            cursor = self.db.execute("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE state = 'dead'", (_t(now),))
        return cursor.rowcount
