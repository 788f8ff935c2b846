"""The alert lifecycle, as pure functions: from what was remembered and a new verdict, what
is remembered now and who must be told what. No clock, no I/O: ``now`` is an argument.

After Prometheus and Alertmanager: an alert is *pending* while a non-OK status has not yet
lasted ``for``; it *fires*; it keeps firing while not OK (and for ``keep_firing_for`` after,
and until the value passes ``resolve_at`` when the rule sets hysteresis); it *resolves*.
Each channel is told when an alert fires, when its status changes while firing, when its
value changes (if the rule asks), again every ``repeat``, and when it resolves — each once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from .alerts import AlertState, ChannelState, EventKind, Policy, idempotency_key
from .model import Status, Verdict

_OK = Status.OK
_FIRING, _CHANGED, _REPEAT, _RESOLVED = EventKind.FIRING, EventKind.CHANGED, EventKind.REPEAT, EventKind.RESOLVED
#: What a channel never told of an alert was told.
_NOTHING = ChannelState()


def _resolvable(verdict: Verdict, policy: Policy) -> bool:
    """OK, and past the hysteresis level when the rule sets one. The good side is read off the
    verdict: ``margin`` is positive on the good side of ``target``."""
    if verdict.status is not _OK:
        return False
    if policy.resolve_at is None or verdict.value is None:
        return True
    if verdict.target is not None and verdict.margin is not None and verdict.value != verdict.target:
        higher_is_better = (verdict.value > verdict.target) == (verdict.margin > 0)
    elif verdict.target is not None:
        # Exactly at the target the margin tells no side: resolve_at lies on the good side.
        higher_is_better = policy.resolve_at >= verdict.target
    else:
        higher_is_better = True
    return verdict.value >= policy.resolve_at if higher_is_better else verdict.value <= policy.resolve_at


def step(previous: AlertState | None, verdict: Verdict, policy: Policy, now: dt.datetime) -> AlertState:
    """The alert's state after ``verdict`` was observed at ``now``.

    A re-run at the same ``now`` is the same check: it changes neither the counters nor the episode.
    """
    status = verdict.status
    bad = status is not _OK
    if previous is None:
        # A first observation: as if the alert had been OK since ``now``.
        since, consecutive, bad_since, last_bad_at = now, 1 if bad else 0, now if bad else None, now if bad else None
        firing, fired_at, episode = False, None, 0
    else:
        since = previous.since if status is previous.status else now
        # A re-run at the same moment is the same check, not one more (it must not fire an alert).
        again = previous.checked_at == now and previous.status is not _OK
        consecutive = (previous.consecutive if again else previous.consecutive + 1) if bad else 0
        bad_since = (previous.bad_since or now) if bad else None
        last_bad_at = now if bad else previous.last_bad_at
        firing, fired_at, episode = previous.firing, previous.fired_at, previous.episode
    if not firing:
        lasted = policy.for_duration is None or (bad_since is not None and now - bad_since >= policy.for_duration)
        if bad and consecutive >= policy.for_checks and lasted:
            firing, fired_at, episode = True, now, episode + 1
    elif not bad:
        held = last_bad_at is not None and now - last_bad_at < policy.keep_firing_for
        if not held and _resolvable(verdict, policy):
            firing = False
    return AlertState(
        status=status, since=since, consecutive=consecutive, bad_since=bad_since,
        last_bad_at=last_bad_at, firing=firing, fired_at=fired_at, episode=episode,
        value=verdict.value, target=verdict.target, margin=verdict.margin, checked_at=now,
    )


def news(status: Status, firing: bool, episode: int, value: Decimal | None, told: ChannelState, policy: Policy,
         now: dt.datetime) -> tuple[EventKind, str] | None:
    """What a channel that was told ``told`` must hear now of an alert with this status, firing
    or not, in this episode, at this value: the event and the detail its key names — or ``None``.
    (The decision of :func:`announce`, for a caller that has not worked out the whole state.)"""
    if firing:
        announced = told.announced
        status_text = status._value_ if status is not _OK else (announced or "OK")
        if told.episode != episode or announced in (None, "RESOLVED"):
            return _FIRING, status_text
        # A status or value can recur in one episode (WARN, BREACH, WARN, BREACH): the key of a
        # change names the notice it follows, so a second change is not deduplicated away.
        if status is not _OK and announced != status_text:
            return _CHANGED, f"{announced}->{status_text} after {_after(told)}"
        if policy.announce_changes and value != told.value and status is not _OK:
            return _CHANGED, f"value {value} after {_after(told)}"
        interval = policy.repeat_interval(told.repeats)
        if interval is None or told.last_sent is None or now - told.last_sent < interval:
            return None
        return _REPEAT, str(told.repeats + 1)
    # Not firing, but this channel's last word on the episode was that it fired: it must hear
    # that it resolved — now, or after a silence that covered the moment it resolved.
    if told.episode == episode and told.announced not in (None, "RESOLVED") and policy.notify_resolved:
        return _RESOLVED, ""
    return None


def _after(told: ChannelState) -> float | str:
    return told.last_sent.timestamp() if told.last_sent else ""


def notice(kind: EventKind, detail: str, status: Status, episode: int, value: Decimal | None, told: ChannelState,
           now: dt.datetime, *, rule: str, series: str, channel_name: str) -> tuple[str, ChannelState]:
    """For what :func:`news` said: its idempotency key, and what the channel will then have
    been told."""
    key = idempotency_key(rule, series, episode, kind._value_, detail, channel_name)
    if kind is _RESOLVED:
        return key, ChannelState(episode, "RESOLVED", value, now, told.repeats)
    announced = status._value_ if status is not _OK else (told.announced or "OK")
    repeats = told.repeats + 1 if kind is _REPEAT else (0 if kind is _FIRING else told.repeats)
    return key, ChannelState(episode, announced, value, now, repeats)


def announce(
    previous: AlertState | None,
    current: AlertState,
    channel: ChannelState | None,
    policy: Policy,
    now: dt.datetime,
    *,
    rule: str,
    series: str,
    channel_name: str,
) -> tuple[EventKind, str, ChannelState] | None:
    """What ``channel_name`` must be told about this alert now, if anything: the event, its
    idempotency key, and what the channel will then have been told.

    Keys are derived from rule, series, episode, event and channel, so computing the same
    transition twice (a re-run after a crash) gives the same key.
    """
    told = channel or _NOTHING
    said = news(current.status, current.firing, current.episode, current.value, told, policy, now)
    if said is None:
        return None
    kind, detail = said
    key, state = notice(kind, detail, current.status, current.episode, current.value, told, now, rule=rule, series=series, channel_name=channel_name)
    return kind, key, state


def route(severity: str, tags: tuple[str, ...], routes: Mapping[str, tuple[str, ...]], default: tuple[str, ...]) -> tuple[str, ...]:
    """Channels for a rule without its own ``notify``: every route matching its severity
    (``severity:critical``) or one of its tags (``tag:sport``), else ``default``."""
    found: list[str] = []
    for key in (f"severity:{severity}", *(f"tag:{t}" for t in tags)):
        for channel in routes.get(key, ()):
            if channel not in found:
                found.append(channel)
    return tuple(found) or default
