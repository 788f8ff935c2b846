"""The alerting vocabulary: what is remembered per alert and per channel, the policy that
drives the lifecycle, and the events and messages that reach notification channels."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from .model import Status


class EventKind(enum.Enum):
    """Why a channel is told something: an alert started firing, its status changed while
    firing, its value changed (when the rule asks), it is repeated, or it resolved."""

    FIRING = "firing"
    CHANGED = "changed"
    REPEAT = "repeat"
    RESOLVED = "resolved"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class Policy:
    """How one rule alerts. ``for_checks``/``for_duration``: how long a non-OK status must last
    before the alert fires (pending until then). ``keep_firing_for``: how long it keeps firing
    after turning OK (against flapping). ``resolve_at``: hysteresis — the value must also reach
    this level (on the good side) to resolve. ``repeat``: re-notify while firing, the interval
    multiplied by ``repeat_backoff`` after each repeat, capped at ``repeat_max``."""

    channels: tuple[str, ...] = ()
    for_checks: int = 1
    for_duration: dt.timedelta | None = None
    keep_firing_for: dt.timedelta = dt.timedelta(0)
    repeat: dt.timedelta | None = dt.timedelta(days=1)
    repeat_backoff: Decimal = Decimal(1)
    repeat_max: dt.timedelta | None = None
    notify_resolved: bool = True
    resolve_at: Decimal | None = None
    announce_changes: bool = False

    def repeat_interval(self, repeats_sent: int) -> dt.timedelta | None:
        """The wait before the next repeat, after ``repeats_sent`` repeats in this episode."""
        if self.repeat is None:
            return None
        return _repeat_interval(self.repeat, self.repeat_backoff, self.repeat_max, repeats_sent)


@functools.lru_cache(maxsize=4096)
def _repeat_interval(repeat: dt.timedelta, backoff: Decimal, repeat_max: dt.timedelta | None, repeats_sent: int) -> dt.timedelta:
    # Remembered (a run asks for every firing alert, with the few policies of its rules), so
    # worked out in decimal's default context whatever the caller's.
    with decimal.localcontext(decimal.Context()):
        seconds = Decimal(repeat.total_seconds()) * backoff ** repeats_sent
        if repeat_max is not None:
            seconds = min(seconds, Decimal(repeat_max.total_seconds()))
    return dt.timedelta(seconds=float(seconds))


@attrs.frozen
class AlertState:
    """What is remembered of one rule on one series between runs."""

    status: Status
    since: dt.datetime
    consecutive: int = 0
    bad_since: dt.datetime | None = None
    last_bad_at: dt.datetime | None = None
    firing: bool = False
    fired_at: dt.datetime | None = None
    episode: int = 0
    value: Decimal | None = None
    target: Decimal | None = None
    margin: Decimal | None = None
    checked_at: dt.datetime | None = None

    @property
    def pending(self) -> bool:
        """Not OK, but not (yet) firing: waiting for ``for``."""
        return self.status is not Status.OK and not self.firing


@attrs.frozen
class ChannelState:
    """What one channel was last told about one alert."""

    episode: int = 0
    announced: str | None = None
    value: Decimal | None = None
    last_sent: dt.datetime | None = None
    repeats: int = 0


@attrs.frozen
class Event:
    """One thing to tell one channel about one alert."""

    kind: EventKind
    key: str
    rule: str
    title: str
    labels: tuple[tuple[str, str], ...]
    status: Status
    previous: Status | None
    message: str
    severity: str
    since: dt.datetime
    value: Decimal | None = None
    target: Decimal | None = None
    unit: str | None = None
    period: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (numbers as text, exactly)."""
        return {
            "kind": self.kind.value, "key": self.key, "rule": self.rule, "title": self.title,
            "labels": dict(self.labels), "status": self.status.value,
            "previous": self.previous.value if self.previous else None, "message": self.message,
            "severity": self.severity, "since": self.since.isoformat(),
            "value": None if self.value is None else str(self.value),
            "target": None if self.target is None else str(self.target),
            "unit": self.unit, "period": self.period,
        }


@attrs.frozen
class Message:
    """What one run has to say to one channel: a digest of events (at most the channel's cap;
    ``omitted`` counts the rest), with an idempotency ``key`` a receiver can dedupe on."""

    channel: str
    key: str
    subject: str
    text: str
    events: tuple[Mapping[str, Any], ...]
    omitted: int
    created_at: dt.datetime
    as_of: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel, "key": self.key, "subject": self.subject, "text": self.text,
            "events": [dict(e) for e in self.events], "omitted": self.omitted,
            "created_at": self.created_at.isoformat(), "as_of": self.as_of.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        return cls(
            channel=data["channel"], key=data["key"], subject=data["subject"], text=data["text"],
            events=tuple(data["events"]), omitted=int(data["omitted"]),
            created_at=dt.datetime.fromisoformat(data["created_at"]),
            as_of=dt.datetime.fromisoformat(data["as_of"]),
        )


def idempotency_key(*parts: object) -> str:
    """A stable key from its parts (rule, series, episode, event, detail, channel)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()
    return digest[:32]
