"""The state store: one embedded SQLite file that remembers, between cron runs, each alert's
state, what each channel was told, silences, the outbox of notifications and the history.

WAL journal, a busy timeout, and explicit ``BEGIN IMMEDIATE`` transactions: a run's state
changes and the notifications they cause are committed together or not at all.

Since schema 2 an alert's lifecycle state is one text relative to its rule's last check
(see :mod:`targetwatch.statecodec`), so that a run rewrites only the alerts it changed.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import attrs

from .alerts import Message
from .state_alerts import (
    AlertRow,
    AlertTables,
    HistoryRow,
    OpenAlert,
    StateError,
    ToldRow,
    migrate_to_2,
)

SCHEMA_VERSION: Final = 2

#: Each version's migration: an SQL script, or a function given the connection.
_MIGRATIONS: Final[dict[int, str | Callable[[sqlite3.Connection], None]]] = {
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
    2: migrate_to_2,
}

def _t(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


def _dt(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


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


class StateStore(AlertTables):
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
            # Larger pages for a new file (a file that exists keeps its own): a first run
            # writes hundreds of thousands of alerts, and fewer, fuller pages write faster.
            db.execute("PRAGMA page_size = 16384")
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
            # A file already at this schema needs no write lock to open: `status` or `history`
            # read it while a check is writing (WAL readers never wait for the writer).
            if self.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                return
            with self.transaction(migrating=True):
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise self._newer(version)
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    migration = _MIGRATIONS[target]
                    if callable(migration):
                        migration(self.db)
                    else:
                        for statement in migration.split(";"):
                            if statement.strip():
                                self.db.execute(statement)
                    self.db.execute(f"PRAGMA user_version = {target}")
        except sqlite3.DatabaseError as exc:
            raise StateError(f"the state file {self.path} is not usable: {exc}") from None

    def _newer(self, version: int) -> StateError:
        return StateError(f"the state file {self.path} was written by a newer targetwatch (schema {version}, this one knows {SCHEMA_VERSION})")

    @contextmanager
    def transaction(self, *, migrating: bool = False) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any exception. The schema is read
        again under the lock: a file opened without it may have been migrated since by a
        newer targetwatch, and must not take rows of the old shape."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StateError(f"the state file {self.path} is busy ({exc}); another process holds it too long") from None
        if not migrating:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                self.db.execute("ROLLBACK")
                raise self._newer(version) if version > SCHEMA_VERSION else StateError(
                    f"the state file {self.path} went back to schema {version} while open; this targetwatch writes schema {SCHEMA_VERSION}"
                )
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def start_run(self, started_at: dt.datetime, as_of: dt.datetime, summary: dict[str, int]) -> int:
        cursor = self.db.execute("INSERT INTO runs (started_at, as_of, summary) VALUES (?,?,?)", (_t(started_at), _t(as_of), json.dumps(summary)))
        return int(cursor.lastrowid or 0)

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


__all__ = ["AlertRow", "HistoryRow", "OpenAlert", "OutboxRow", "Silence", "StateError", "StateStore", "ToldRow"]
