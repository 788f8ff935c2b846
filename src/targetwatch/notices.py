"""What each channel must hear of a run: a :class:`Notice` per alert and channel, gathered
while a check is recorded (:mod:`targetwatch.recording`), and the run's :class:`Events` by
channel, each an :class:`~targetwatch.alerts.Event` built only when its channel is asked for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

from .alerts import Event, EventKind
from .model import Status, Verdict


class Notice(NamedTuple):
    """What one channel must hear of one alert: the makings of an :class:`~targetwatch.alerts.Event`
    (built only when asked for: a first run may have hundreds of thousands)."""

    kind: EventKind
    key: str
    series: str
    verdict: Verdict
    previous: Status | None
    since: dt.datetime
    message: str
    period: str | None

    def event(self) -> Event:
        v = self.verdict
        return Event(
            kind=self.kind, key=self.key, rule=v.rule, title=v.title, labels=v.labels, status=v.status, previous=self.previous,
            message=self.message, severity=v.severity, since=self.since, value=v.value, target=v.target, unit=v.unit, period=self.period,
        )


class Events(Mapping[str, tuple[Event, ...]]):
    """The events of a run by channel, each channel's built when first asked for."""

    def __init__(self, notices: Mapping[str, Sequence[Notice]]) -> None:
        self._notices = notices
        self._events: dict[str, tuple[Event, ...]] = {}

    def __getitem__(self, channel: str) -> tuple[Event, ...]:
        events = self._events.get(channel)
        if events is None:
            events = self._events[channel] = tuple(n.event() for n in self._notices[channel])
        return events

    def __iter__(self) -> Iterator[str]:
        return iter(self._notices)

    def __len__(self) -> int:
        return len(self._notices)


__all__ = ["Events", "Notice"]
