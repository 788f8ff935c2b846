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

from .alerts import AlertState, ChannelState, EventKind, Policy, idempotency_key
from .model import Status, Verdict


def _resolvable(verdict: Verdict, policy: Policy) -> bool:
    """OK, and past the hysteresis level when the rule sets one. The good side is read off the
    verdict: ``margin`` is positive on the good side of ``target``."""
    if verdict.status is not Status.OK:
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
    bad = verdict.status is not Status.OK
    if previous is None:
        previous = AlertState(status=Status.OK, since=now)
    since = previous.since if verdict.status is previous.status else now
    # A re-run at the same moment is the same check, not one more (it must not fire an alert).
    again = previous.checked_at == now and previous.status is not Status.OK
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
        status=verdict.status, since=since, consecutive=consecutive, bad_since=bad_since,
        last_bad_at=last_bad_at, firing=firing, fired_at=fired_at, episode=episode,
        value=verdict.value, target=verdict.target, margin=verdict.margin, checked_at=now,
    )


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
    told = channel or ChannelState()
    if current.firing:
        status = current.status.value if current.status is not Status.OK else (told.announced or "OK")
        # A status or value can recur in one episode (WARN, BREACH, WARN, BREACH): the key of a
        # change names the notice it follows, so a second change is not deduplicated away.
        after = told.last_sent.timestamp() if told.last_sent else ""
        if told.episode != current.episode or told.announced in (None, "RESOLVED"):
            kind, detail = EventKind.FIRING, status
        elif current.status is not Status.OK and told.announced != status:
            kind, detail = EventKind.CHANGED, f"{told.announced}->{status} after {after}"
        elif policy.announce_changes and current.value != told.value and current.status is not Status.OK:
            kind, detail = EventKind.CHANGED, f"value {current.value} after {after}"
        else:
            interval = policy.repeat_interval(told.repeats)
            if interval is None or told.last_sent is None or now - told.last_sent < interval:
                return None
            kind, detail = EventKind.REPEAT, str(told.repeats + 1)
        repeats = told.repeats + 1 if kind is EventKind.REPEAT else (0 if kind is EventKind.FIRING else told.repeats)
        key = idempotency_key(rule, series, current.episode, kind.value, detail, channel_name)
        return kind, key, ChannelState(current.episode, status, current.value, now, repeats)
    # Not firing, but this channel's last word on the episode was that it fired: it must hear
    # that it resolved — now, or after a silence that covered the moment it resolved.
    told_of_it = told.episode == current.episode and told.announced not in (None, "RESOLVED")
    if told_of_it and policy.notify_resolved:
        key = idempotency_key(rule, series, current.episode, EventKind.RESOLVED.value, "", channel_name)
        return EventKind.RESOLVED, key, ChannelState(current.episode, "RESOLVED", current.value, now, told.repeats)
    return None


def route(severity: str, tags: tuple[str, ...], routes: Mapping[str, tuple[str, ...]], default: tuple[str, ...]) -> tuple[str, ...]:
    """Channels for a rule without its own ``notify``: every route matching its severity
    (``severity:critical``) or one of its tags (``tag:sport``), else ``default``."""
    found: list[str] = []
    for key in (f"severity:{severity}", *(f"tag:{t}" for t in tags)):
        for channel in routes.get(key, ()):
            if channel not in found:
                found.append(channel)
    return tuple(found) or default
