"""The state file's alerts, what each channel was told of them, the rules' last checks, and
the history of status changes (part of :class:`~targetwatch.state.StateStore`).

Since schema 2 an alert is one row holding one line (see :mod:`targetwatch.statecodec`),
relative to the last check of its rule, so that a run writes only the alerts it changed; and
the history keeps one row per run and rule, holding its entries (see
:func:`~targetwatch.statecodec.encode_entries`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, NamedTuple

from .alerts import AlertState, ChannelState
from .errors import TargetwatchError
from .model import Status
from .statecodec import (
    QUIET_GLOB,
    TAIL_QUIET_GLOB,
    Check,
    Codec,
    StateFormatError,
    decode_entries,
    encode_entries,
    encode_values,
    fields,
    glance,
    line,
    tail,
)

#: Schema 2: alerts as lines, the rules' last checks, the history by run and rule.
SCHEMA_2: Final = """
    CREATE TABLE checks (
        rule TEXT NOT NULL PRIMARY KEY, at TEXT NOT NULL, as_of TEXT NOT NULL, seq INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE alerts_2 (
        rule TEXT NOT NULL, series TEXT NOT NULL, alert TEXT NOT NULL, PRIMARY KEY (rule, series)
    ) WITHOUT ROWID;
    CREATE TABLE deliveries_2 (
        rule TEXT NOT NULL, series TEXT NOT NULL, channel TEXT NOT NULL,
        episode INTEGER NOT NULL, announced TEXT, value TEXT, last_sent TEXT,
        repeats INTEGER NOT NULL,
        PRIMARY KEY (rule, series, channel)
    ) WITHOUT ROWID;
    INSERT INTO deliveries_2 SELECT rule, series, channel, episode, announced, value, last_sent, repeats FROM deliveries;
    CREATE TABLE history_2 (
        id INTEGER PRIMARY KEY, run INTEGER NOT NULL REFERENCES runs(id), at TEXT NOT NULL,
        as_of TEXT NOT NULL, rule TEXT NOT NULL, entries TEXT NOT NULL
    )
"""

SCHEMA_2_END: Final = """
    DROP TABLE alerts;
    ALTER TABLE alerts_2 RENAME TO alerts;
    DROP TABLE deliveries;
    ALTER TABLE deliveries_2 RENAME TO deliveries;
    DROP TABLE history;
    ALTER TABLE history_2 RENAME TO history;
    CREATE INDEX history_rule ON history (rule, id);
    CREATE INDEX history_at ON history (at, id)
"""

#: What one channel was told of one alert: episode, announced, value, last_sent, repeats.
ToldRow = tuple[int, str | None, str | None, str | None, int]
#: An alert as a run writes it: rule, series, line.
AlertRow = tuple[str, str, str]
#: A history row as :meth:`AlertTables.add_history` takes it: run, at, as_of, rule, series,
#: status, previous, value, target, message.
HistoryRow = tuple[Any, ...]


class OpenAlert(NamedTuple):
    """An alert that is firing or not OK, as ``targetwatch status`` shows it."""

    rule: str
    series: str
    status: Status
    firing: bool
    since: dt.datetime
    fired_at: dt.datetime | None
    #: The series' labels, as JSON.
    labels: str
    message: str | None


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


def alert_line(codec: Codec, state: AlertState, as_of: str | None, check: Check | None, labels: str,
               title: str | None, severity: str | None, message: str | None, period: str | None) -> str:
    """The stored line of an alert (see :mod:`targetwatch.statecodec`)."""
    values = encode_values(state.value, state.target, state.margin)
    return line(tail(values, labels, title, severity, message, period),
                (values, labels, title, severity, message, period, codec.encode(state, as_of, check)))


def migrate_to_2(db: sqlite3.Connection) -> None:
    """Schema 1 → 2: each alert's columns become its line (every field absolute), each run's
    history rows of one rule one row."""
    for statement in SCHEMA_2.split(";"):
        db.execute(statement)
    codec = Codec()
    rows = []
    for r in db.execute(
        "SELECT rule, series, labels, status, since, consecutive, bad_since, last_bad_at, firing, fired_at, episode,"
        " value, target, margin, checked_at, title, severity, message, period, as_of FROM alerts"
    ):
        state = AlertState(
            status=Status(r[3]), since=_dt(r[4]) or dt.datetime.min, consecutive=r[5], bad_since=_dt(r[6]),
            last_bad_at=_dt(r[7]), firing=bool(r[8]), fired_at=_dt(r[9]), episode=r[10],
            value=_d(r[11]), target=_d(r[12]), margin=_d(r[13]), checked_at=_dt(r[14]),
        )
        rows.append((r[0], r[1], alert_line(codec, state, r[19], None, r[2], r[15], r[16], r[17], r[18])))
    db.executemany("INSERT INTO alerts_2 VALUES (?,?,?)", rows)
    _insert_history(db, "history_2", db.execute(
        "SELECT run, at, as_of, rule, series, status, previous, value, target, message FROM history ORDER BY id"
    ))
    for statement in SCHEMA_2_END.split(";"):
        db.execute(statement)


def _insert_history(db: sqlite3.Connection, table: str, rows: Iterable[HistoryRow]) -> None:
    """History rows, each run's consecutive rows of one rule (at one moment) in one row."""
    docs: list[tuple[Any, ...]] = []
    key: tuple[Any, ...] | None = None
    entries: list[tuple[Any, ...]] = []
    for run, at, as_of, rule, series, status, previous, value, target, message in rows:
        if (run, at, as_of, rule) != key:
            if key is not None:
                docs.append((*key, encode_entries(entries)))
            key, entries = (run, at, as_of, rule), []
        entries.append((series, status, previous, value, target, message))
    if key is not None:
        docs.append((*key, encode_entries(entries)))
    db.executemany(f"INSERT INTO {table} (run, at, as_of, rule, entries) VALUES (?,?,?,?,?)", docs)


class AlertTables:
    """Alerts, deliveries, checks and history of a :class:`~targetwatch.state.StateStore`."""

    db: sqlite3.Connection
    path: Path | None

    def _check_of(self, rule: str, codec: Codec) -> Check | None:
        row = self.db.execute("SELECT at, as_of, seq FROM checks WHERE rule = ?", (rule,)).fetchone()
        return None if row is None else Check(codec.moment(row[0]), row[0], row[1], row[2])

    def _checks(self, codec: Codec) -> dict[str, Check]:
        return {r[0]: Check(codec.moment(r[1]), r[1], r[2], r[3]) for r in self.db.execute("SELECT rule, at, as_of, seq FROM checks")}

    def rule_alerts(self, rule: str, codec: Codec) -> tuple[Check | None, dict[str, str]]:
        """The last check of ``rule`` and the lines of its remembered alerts, by series."""
        lines = dict(self.db.execute("SELECT series, alert FROM alerts WHERE rule = ?", (rule,)).fetchall())
        return self._check_of(rule, codec), lines

    def rule_told(self, rule: str) -> dict[str, dict[str, ToldRow]]:
        """What each channel was told of the alerts of ``rule``: by series, then channel."""
        out: dict[str, dict[str, ToldRow]] = {}
        for row in self.db.execute("SELECT series, channel, episode, announced, value, last_sent, repeats FROM deliveries WHERE rule = ?", (rule,)):
            out.setdefault(row[0], {})[row[1]] = row[2:]
        return out

    def alert_rules(self) -> list[str]:
        """The rules that have remembered alerts (one index probe per rule)."""
        return [r[0] for r in self.db.execute(
            "WITH RECURSIVE r(rule) AS (SELECT min(rule) FROM alerts"
            " UNION ALL SELECT (SELECT min(rule) FROM alerts WHERE rule > r.rule) FROM r WHERE r.rule IS NOT NULL)"
            " SELECT rule FROM r WHERE rule IS NOT NULL"
        )]

    def put_alerts(self, rows: Iterable[AlertRow]) -> None:
        """Write alerts as a run encoded them (inside the caller's transaction)."""
        self.db.executemany("INSERT OR REPLACE INTO alerts VALUES (?,?,?)", rows)

    def put_checks(self, checks: Iterable[tuple[str, Check]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO checks VALUES (?,?,?,?)", [(rule, c.at_text, c.as_of_text, c.seq) for rule, c in checks])

    def drop_checks(self, rules: Iterable[str]) -> None:
        self.db.executemany("DELETE FROM checks WHERE rule = ?", [(rule,) for rule in rules])

    def decode(self, codec: Codec, text: str, check: Check | None) -> tuple[AlertState, str | None, tuple[str, str | None, str | None, str | None, str | None]]:
        """An alert's state, the ``as_of`` it was judged for, and its labels (JSON), title,
        severity, message and period, from its line."""
        try:
            values, labels, title, severity, message, period, state = fields(text)
            decoded, as_of = codec.decode(state, values, check)
        except StateFormatError as exc:
            raise StateError(f"the state file {self.path} is damaged: {exc}") from None
        return decoded, as_of, (labels, title, severity, message, period)

    def decode_state(self, codec: Codec, state: str, values: str | tuple[Decimal | None, Decimal | None, Decimal | None],
                     check: Check | None) -> AlertState:
        """An alert's state from its state text and values (see :meth:`Codec.decode`)."""
        try:
            return codec.decode(state, values, check)[0]
        except StateFormatError as exc:
            raise StateError(f"the state file {self.path} is damaged: {exc}") from None

    def alerts(self) -> dict[tuple[str, str], AlertState]:
        """Every remembered alert, by (rule, series)."""
        codec = Codec()
        checks = self._checks(codec)
        return {(rule, series): self.decode(codec, text, checks.get(rule))[0] for rule, series, text in self.db.execute("SELECT rule, series, alert FROM alerts")}

    def alert_rows(self) -> list[dict[str, Any]]:
        """Every remembered alert with its display fields (for ``targetwatch status``)."""
        codec = Codec()
        checks = self._checks(codec)
        out = []
        for rule, series, text in self.db.execute("SELECT rule, series, alert FROM alerts ORDER BY rule, series"):
            s, as_of, (labels, title, severity, message, period) = self.decode(codec, text, checks.get(rule))
            out.append({
                "rule": rule, "series": series, "labels": labels, "status": s.status.value, "since": _t(s.since),
                "consecutive": s.consecutive, "bad_since": _t(s.bad_since), "last_bad_at": _t(s.last_bad_at),
                "firing": int(s.firing), "fired_at": _t(s.fired_at), "episode": s.episode, "value": _s(s.value),
                "target": _s(s.target), "margin": _s(s.margin), "checked_at": _t(s.checked_at), "title": title,
                "severity": severity, "message": message, "period": period, "as_of": as_of,
            })
        return out

    def open_alerts(self) -> list[OpenAlert]:
        """The alerts that are firing or not OK, worst first: firing before pending, then by
        status (BREACH, ERROR, UNKNOWN, WARN, OK), longest-standing first, then by rule and
        series. SQLite leaves out the OK alerts that are not firing (see
        :data:`~targetwatch.statecodec.QUIET_GLOB`); only the others are read."""
        moment = Codec().moment
        out = []
        try:
            for rule, series, text in self.db.execute(
                "SELECT rule, series, alert FROM alerts WHERE alert NOT GLOB ?1 OR alert GLOB ?2", (QUIET_GLOB, TAIL_QUIET_GLOB)
            ):
                status, firing, since, fired_at, labels, message = glance(text)
                if firing or status is not Status.OK:
                    out.append(OpenAlert(rule, series, status, firing, moment(since), moment(fired_at) if fired_at else None, labels, message))
        except StateFormatError as exc:
            raise StateError(f"the state file {self.path} is damaged: {exc}") from None
        except ValueError as exc:  # a moment that is not one
            raise StateError(f"the state file {self.path} is damaged: an alert's stored moment cannot be read: {exc}") from None
        out.sort(key=lambda a: (not a.firing, -a.status.severity, a.since, a.rule, a.series))
        return out

    def deliveries(self) -> dict[tuple[str, str, str], ChannelState]:
        """What each channel was last told, by (rule, series, channel)."""
        out = {}
        for row in self.db.execute("SELECT rule, series, channel, episode, announced, value, last_sent, repeats FROM deliveries"):
            out[(row[0], row[1], row[2])] = ChannelState(row[3], row[4], _d(row[5]), _dt(row[6]), row[7])
        return out

    def save_alerts(self, rows: Sequence[tuple[str, str, str, AlertState, dict[str, Any]]]) -> None:
        """Upsert alerts: (rule, series, labels json, state, display fields), every field
        written as it is (not relative to a check)."""
        codec = Codec()
        self.put_alerts(
            (rule, series, alert_line(codec, s, extra.get("as_of"), None, labels, extra.get("title"), extra.get("severity"), extra.get("message"), extra.get("period")))
            for rule, series, labels, s, extra in rows
        )

    def save_deliveries(self, rows: Sequence[tuple[str, str, str, ChannelState]]) -> None:
        self.save_told((r, s, c, st.episode, st.announced, _s(st.value), _t(st.last_sent), st.repeats) for r, s, c, st in rows)

    def save_told(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Delivery records as a run wrote them: (rule, series, channel, episode, announced,
        value, last sent, repeats)."""
        self.db.executemany("INSERT OR REPLACE INTO deliveries VALUES (?,?,?,?,?,?,?,?)", rows)

    def forget(self, rule: str, series: str) -> None:
        """Drop an alert and what its channels were told (inside the caller's transaction)."""
        self.forget_all([(rule, series)])

    def forget_all(self, keys: Sequence[tuple[str, str]]) -> None:
        """:meth:`forget` for each (rule, series)."""
        self.db.executemany("DELETE FROM alerts WHERE rule = ? AND series = ?", keys)
        self.db.executemany("DELETE FROM deliveries WHERE rule = ? AND series = ?", keys)

    # History ---------------------------------------------------------------------------

    def add_history(self, rows: Iterable[HistoryRow]) -> None:
        """History rows: (run, at, as_of, rule, series, status, previous, value, target, message)."""
        _insert_history(self.db, "history", rows)

    def add_events(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Event rows: (run, at, rule, series, kind, status, channel, key, outbox id)."""
        self.db.executemany("INSERT INTO events (run, at, rule, series, kind, status, channel, key, outbox) VALUES (?,?,?,?,?,?,?,?,?)", rows)

    def history(self, rule: str | None = None, since: dt.datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Status changes and notifications, newest first (at one moment: notifications
        first, then status changes, each in the order they were recorded)."""
        where: list[str] = ["1=1"]
        args: list[Any] = []
        if rule:
            where.append("rule = ?")
            args.append(rule)
        if since:
            where.append("at >= ?")
            args.append(_t(since))
        rows: list[dict[str, Any]] = []
        for doc, at, doc_rule in self.db.execute(f"SELECT id, at, rule FROM history WHERE {' AND '.join(where)} ORDER BY at DESC, id ASC", args).fetchall():
            if len(rows) >= limit:
                break
            (entries,) = self.db.execute("SELECT entries FROM history WHERE id = ?", (doc,)).fetchone()
            rows += [{"at": at, "rule": doc_rule, "series": series, "what": "status", "status": status, "detail": previous,
                      "channel": None, "message": message, "delivery": None, "rank": 1}
                     for series, status, previous, _value, _target, message in decode_entries(entries)]
        sql = (
            "SELECT e.at, e.rule, e.series, e.kind AS what, e.status, e.key AS detail, e.channel, NULL AS message,"
            " o.state AS delivery, 0 AS rank FROM events e LEFT JOIN outbox o ON o.id = e.outbox WHERE {w}"
            " ORDER BY e.at DESC, e.id ASC LIMIT ?"
        ).format(w=" AND ".join(f"e.{c}" if c != "1=1" else c for c in where))
        cursor = self.db.execute(sql, [*args, limit])
        names = [d[0] for d in cursor.description]
        told = [dict(zip(names, row)) for row in cursor]
        merged = sorted(sorted(told + rows, key=lambda r: r["rank"]), key=lambda r: r["at"], reverse=True)
        return merged[:limit]


__all__ = ["AlertRow", "AlertTables", "HistoryRow", "OpenAlert", "StateError", "ToldRow", "alert_line", "migrate_to_2"]
