"""The pure alert lifecycle: ``step`` (pending, firing, keep_firing_for, hysteresis,
resolving) and ``announce`` (who is told what, once), driven by a hypothesis state machine
and pinned by examples."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from targetwatch.alerts import AlertState, ChannelState, EventKind, Policy
from targetwatch.lifecycle import announce, route, step
from targetwatch.model import Status, Verdict

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
TARGET = Decimal(100)
RULE, SERIES = "r.min", "district=A"


def verdict(status: Status, value: Decimal | None, *, target: Decimal | None = TARGET, cap: bool = False) -> Verdict:
    """A verdict against ``target``: a minimum (margin = value − target) or a cap (target − value)."""
    margin = None
    if value is not None and target is not None:
        margin = target - value if cap else value - target
    return Verdict(
        rule=RULE, title="t", kind="threshold", indicator="x", labels=(("district", "A"),),
        status=status, message=f"{status} {value}", value=value, target=target, margin=margin,
    )


def told_after(prev: AlertState | None, cur: AlertState, channel: ChannelState | None, policy: Policy, now: dt.datetime, name: str = "a"):
    return announce(prev, cur, channel, policy, now, rule=RULE, series=SERIES, channel_name=name)


# --- the state machine -----------------------------------------------------------------

durations = st.sampled_from([dt.timedelta(minutes=1), dt.timedelta(minutes=30), dt.timedelta(hours=1),
                             dt.timedelta(hours=6), dt.timedelta(days=1), dt.timedelta(days=2)])
advances = st.one_of(durations, st.integers(1, 3 * 86400).map(lambda s: dt.timedelta(seconds=s)))
values = st.integers(85, 115).map(Decimal)
statuses = st.sampled_from([Status.OK, Status.OK, Status.WARN, Status.BREACH, Status.UNKNOWN])


@st.composite
def policies(draw: st.DrawFn, channels: tuple[str, ...], cap: bool) -> Policy:
    repeat = draw(st.none() | durations)
    backoff = draw(st.sampled_from([Decimal(1), Decimal("1.5"), Decimal(2)]))
    resolve_at = draw(st.none() | st.integers(0, 10).map(lambda d: TARGET - d if cap else TARGET + d))
    return Policy(
        channels=channels,
        for_checks=draw(st.integers(1, 3)),
        for_duration=draw(st.none() | st.sampled_from([dt.timedelta(0), dt.timedelta(hours=1), dt.timedelta(days=1)])),
        keep_firing_for=draw(st.sampled_from([dt.timedelta(0), dt.timedelta(hours=1), dt.timedelta(days=1)])),
        repeat=repeat,
        repeat_backoff=backoff,
        repeat_max=draw(st.none() | st.sampled_from([dt.timedelta(hours=2), dt.timedelta(days=3)])),
        notify_resolved=draw(st.booleans()),
        resolve_at=resolve_at,
        announce_changes=draw(st.booleans()),
    )


class Told:
    """The test's own record of what one channel heard."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.episode = 0            # the episode it was last told FIRING of
        self.status: str | None = None  # the status it was last told (FIRING/CHANGED/REPEAT)
        self.value: Decimal | None = None
        self.resolved: set[int] = set()
        self.last_sent: dt.datetime | None = None
        self.repeats = 0


class Lifecycle(RuleBasedStateMachine):
    """One alert, one or two channels, policies that may change between observations."""

    @initialize(data=st.data(), n_channels=st.integers(1, 2), cap=st.booleans())
    def setup(self, data: st.DataObject, n_channels: int, cap: bool) -> None:
        self.channels = ("a", "b")[:n_channels]
        self.cap = cap
        self.policy = data.draw(policies(self.channels, cap))
        self.now = T0
        self.state: AlertState | None = None
        self.channel_states: dict[str, ChannelState] = {}
        self.told = {c: Told() for c in self.channels}
        self.last: Verdict | None = None
        self.policy_changed = False
        # The test's own count of the non-OK streak (distinct check times).
        self.streak = 0
        self.streak_start: dt.datetime | None = None
        self.last_bad: dt.datetime | None = None

    def _resolvable(self, v: Verdict) -> bool:
        if v.status is not Status.OK:
            return False
        at = self.policy.resolve_at
        if at is None or v.value is None:
            return True
        return v.value <= at if self.cap else v.value >= at

    def _run(self, v: Verdict) -> tuple[AlertState | None, AlertState, dict[str, tuple[EventKind, str]]]:
        prev = self.state
        cur = step(prev, v, self.policy, self.now)
        out = {}
        for c in self.channels:
            said = announce(prev, cur, self.channel_states.get(c), self.policy, self.now, rule=RULE, series=SERIES, channel_name=c)
            if said is not None:
                kind, key, cs = said
                assert cs.episode == cur.episode and cs.last_sent == self.now
                self.channel_states[c] = cs
                out[c] = (kind, key)
        self.state = cur
        return prev, cur, out

    @rule(status=statuses, value=values, advance=advances)
    def observe(self, status: Status, value: Decimal, advance: dt.timedelta) -> None:
        self.now += advance
        v = verdict(status, None if status is Status.UNKNOWN else value, cap=self.cap)
        bad = status is not Status.OK
        if bad:
            if self.streak == 0:
                self.streak_start = self.now
            self.streak += 1
            self.last_bad = self.now
        else:
            self.streak, self.streak_start = 0, None
        prev, cur, events = self._run(v)
        was_firing = prev is not None and prev.firing
        policy = self.policy

        # `for`: never fires before it, and fires as soon as it is met.
        if not was_firing:
            due = bad and self.streak >= policy.for_checks and (
                policy.for_duration is None or self.now - self.streak_start >= policy.for_duration)
            assert cur.firing == due, (self.streak, policy)
            if cur.firing:
                assert cur.episode == (prev.episode if prev else 0) + 1 and cur.fired_at == self.now
        elif bad:
            assert cur.firing and cur.episode == prev.episode
        else:
            held = self.now - self.last_bad < policy.keep_firing_for
            assert cur.firing == (held or not self._resolvable(v))
            assert cur.episode == prev.episode

        for c in self.channels:
            t = self.told[c]
            kind, key = events.get(c, (None, None))
            if key is not None:
                event(f"{kind.value}{' (held or hysteresis)' if cur.firing and not bad else ''}")
                assert key not in t.keys, f"key {key} emitted twice to {c}"
                t.keys.add(key)
            if cur.firing:
                fresh = t.episode != cur.episode
                if fresh:
                    assert kind is EventKind.FIRING
                elif bad and t.status != status.value:
                    assert kind is EventKind.CHANGED  # an escalation (or de-escalation) is told
                elif bad and policy.announce_changes and t.value != cur.value:
                    assert kind is EventKind.CHANGED
                else:
                    assert kind in (None, EventKind.REPEAT)
                    interval = policy.repeat_interval(t.repeats)
                    due = interval is not None and self.now - t.last_sent >= interval
                    # REPEATs are never closer than the current interval, and come once it passed
                    # (a lowered repeat takes effect at this very step).
                    assert (kind is EventKind.REPEAT) == due, (interval, self.now - t.last_sent)
            else:
                # A channel whose last word on this episode was that it fired hears that it
                # resolved: when it resolves, or later (the policy asked for resolved notices
                # only after the fact) — once.
                owed = t.episode == cur.episode and cur.episode not in t.resolved and t.episode > 0
                if kind is EventKind.RESOLVED:
                    assert policy.notify_resolved and owed, "resolved an episode the channel never heard of"
                    t.resolved.add(cur.episode)
                else:
                    assert kind is None
                    if owed and policy.notify_resolved:
                        pytest.fail(f"no RESOLVED to {c} for episode {cur.episode}")
            if kind is EventKind.FIRING:
                t.episode, t.repeats = cur.episode, 0
            if kind is EventKind.REPEAT:
                t.repeats += 1
            if kind in (EventKind.FIRING, EventKind.CHANGED, EventKind.REPEAT) and bad:
                t.status = status.value
            if kind is not None:
                t.value, t.last_sent = cur.value, self.now
        self.last = v
        self.policy_changed = False

    @rule()
    def rerun(self) -> None:
        """The same observation again, no time passing (cron re-run, --as-of pinned)."""
        if self.last is None or self.policy_changed:
            return  # not a re-run of the same observation under the same policy
        before = self.state
        _prev, cur, events = self._run(self.last)
        assert events == {}
        assert cur.firing == before.firing and cur.episode == before.episode
        assert cur.consecutive == before.consecutive

    @rule(data=st.data())
    def change_policy(self, data: st.DataObject) -> None:
        self.policy = data.draw(policies(self.channels, self.cap))
        self.policy_changed = True

    @invariant()
    def pending_is_not_firing(self) -> None:
        if self.state is not None:
            assert not (self.state.pending and self.state.firing)
            for cs in self.channel_states.values():
                assert cs.episode <= self.state.episode


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(max_examples=300, stateful_step_count=30, deadline=None,
                                  suppress_health_check=[HealthCheck.too_slow])


# --- examples ------------------------------------------------------------------------------

def run(policy: Policy, observations: list[tuple[dt.timedelta, Verdict]]) -> list[tuple[AlertState, EventKind | None]]:
    """Feed observations (offset from T0, verdict) to one alert and channel 'a'."""
    state: AlertState | None = None
    told: ChannelState | None = None
    out = []
    for offset, v in observations:
        now = T0 + offset
        cur = step(state, v, policy, now)
        said = told_after(state, cur, told, policy, now)
        if said is not None:
            told = said[2]
        out.append((cur, said[0] if said else None))
        state = cur
    return out


H = dt.timedelta(hours=1)


def test_hysteresis_on_a_minimum() -> None:
    policy = Policy(channels=("a",), resolve_at=Decimal(52000), repeat=None)
    t = Decimal(50000)
    got = run(policy, [
        (0 * H, verdict(Status.BREACH, Decimal(48000), target=t)),
        (1 * H, verdict(Status.OK, Decimal(51000), target=t)),
        (2 * H, verdict(Status.OK, Decimal(51999), target=t)),
        (3 * H, verdict(Status.OK, Decimal(52000), target=t)),
    ])
    assert [(s.firing, k) for s, k in got] == [
        (True, EventKind.FIRING), (True, None), (True, None), (False, EventKind.RESOLVED)]


def test_hysteresis_on_a_cap_works_on_the_low_side() -> None:
    policy = Policy(channels=("a",), resolve_at=Decimal(90), repeat=None)
    got = run(policy, [
        (0 * H, verdict(Status.BREACH, Decimal(120), cap=True)),
        (1 * H, verdict(Status.OK, Decimal(95), cap=True)),
        (2 * H, verdict(Status.OK, Decimal(100), cap=True)),  # exactly at the cap: still above 90
        (3 * H, verdict(Status.OK, Decimal(90), cap=True)),
    ])
    assert [(s.firing, k) for s, k in got] == [
        (True, EventKind.FIRING), (True, None), (True, None), (False, EventKind.RESOLVED)]


def test_hysteresis_on_a_minimum_exactly_at_target_stays_firing() -> None:
    policy = Policy(channels=("a",), resolve_at=Decimal(110), repeat=None)
    got = run(policy, [(0 * H, verdict(Status.BREACH, Decimal(90))), (1 * H, verdict(Status.OK, Decimal(100)))])
    assert got[-1][0].firing


def test_without_resolve_at_ok_resolves_at_once() -> None:
    got = run(Policy(channels=("a",)), [(0 * H, verdict(Status.BREACH, Decimal(90))), (1 * H, verdict(Status.OK, Decimal(100)))])
    assert [(s.firing, k) for s, k in got] == [(True, EventKind.FIRING), (False, EventKind.RESOLVED)]


def test_keep_firing_for_holds_then_resolves() -> None:
    policy = Policy(channels=("a",), keep_firing_for=dt.timedelta(hours=3), repeat=None)
    got = run(policy, [
        (0 * H, verdict(Status.BREACH, Decimal(90))),
        (1 * H, verdict(Status.OK, Decimal(100))),   # 0h since last bad... last bad was at 0h: 1h < 3h
        (2 * H, verdict(Status.BREACH, Decimal(90))),  # flaps back: same episode, nothing new
        (4 * H, verdict(Status.OK, Decimal(100))),   # 2h after the last bad
        (5 * H, verdict(Status.OK, Decimal(100))),   # 3h after: the window is over
    ])
    assert [(s.firing, s.episode, k) for s, k in got] == [
        (True, 1, EventKind.FIRING), (True, 1, None), (True, 1, None), (True, 1, None), (False, 1, EventKind.RESOLVED)]


def test_for_checks_keeps_the_alert_pending() -> None:
    policy = Policy(channels=("a",), for_checks=3)
    got = run(policy, [(i * H, verdict(Status.WARN, Decimal(90))) for i in range(4)])
    assert [(s.pending, s.firing, k) for s, k in got] == [
        (True, False, None), (True, False, None), (False, True, EventKind.FIRING), (False, True, None)]


def test_for_duration_needs_the_status_to_last() -> None:
    policy = Policy(channels=("a",), for_duration=dt.timedelta(hours=2))
    got = run(policy, [(i * H, verdict(Status.BREACH, Decimal(90))) for i in range(4)])
    assert [s.firing for s, _ in got] == [False, False, True, True]


def test_ok_between_resets_the_for_count() -> None:
    policy = Policy(channels=("a",), for_checks=2)
    got = run(policy, [(0 * H, verdict(Status.WARN, Decimal(90))), (1 * H, verdict(Status.OK, Decimal(100))),
                       (2 * H, verdict(Status.WARN, Decimal(90))), (3 * H, verdict(Status.WARN, Decimal(90)))])
    assert [s.firing for s, _ in got] == [False, False, False, True]


def test_rerun_at_the_same_moment_is_not_another_check() -> None:
    policy = Policy(channels=("a",), for_checks=2)
    v = verdict(Status.BREACH, Decimal(90))
    first = step(None, v, policy, T0)
    again = step(first, v, policy, T0)
    assert not again.firing and again.consecutive == 1
    assert step(again, v, policy, T0 + H).firing


def test_escalation_while_firing_is_changed_once() -> None:
    got = run(Policy(channels=("a",), repeat=None), [
        (0 * H, verdict(Status.WARN, Decimal(95))), (1 * H, verdict(Status.BREACH, Decimal(80))),
        (2 * H, verdict(Status.BREACH, Decimal(80))), (3 * H, verdict(Status.BREACH, Decimal(70)))])
    assert [k for _, k in got] == [EventKind.FIRING, EventKind.CHANGED, None, None]


def test_flapping_severity_gets_distinct_keys() -> None:
    """WARN→BREACH, BREACH→WARN, WARN→BREACH again: three notices, three keys (a receiver
    deduplicating on the key must not drop the second escalation)."""
    policy = Policy(channels=("a",), repeat=None)
    state = told = None
    keys = []
    for i, s in enumerate([Status.WARN, Status.BREACH, Status.WARN, Status.BREACH]):
        cur = step(state, verdict(s, Decimal(90)), policy, T0 + i * H)
        said = told_after(state, cur, told, policy, T0 + i * H)
        assert said is not None
        keys.append(said[1])
        state, told = cur, said[2]
    assert len(set(keys)) == 4


def test_announce_changes_reports_a_restated_value() -> None:
    policy = Policy(channels=("a",), repeat=None, announce_changes=True)
    got = run(policy, [(0 * H, verdict(Status.BREACH, Decimal(90))), (1 * H, verdict(Status.BREACH, Decimal(90))),
                       (2 * H, verdict(Status.BREACH, Decimal(85)))])
    assert [k for _, k in got] == [EventKind.FIRING, None, EventKind.CHANGED]


def test_repeat_with_backoff_and_cap() -> None:
    policy = Policy(channels=("a",), repeat=H, repeat_backoff=Decimal(2), repeat_max=3 * H)
    assert [policy.repeat_interval(n) for n in range(4)] == [H, 2 * H, 3 * H, 3 * H]
    hours = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    got = run(policy, [(h * H, verdict(Status.BREACH, Decimal(90))) for h in hours])
    sent = [h for h, (_, k) in zip(hours, got) if k is not None]
    assert sent == [0, 1, 3, 6, 9, 12]
    assert Policy(repeat=None).repeat_interval(0) is None


def test_lowering_repeat_takes_effect_at_once() -> None:
    slow = Policy(channels=("a",), repeat=dt.timedelta(days=7))
    fast = Policy(channels=("a",), repeat=H)
    v = verdict(Status.BREACH, Decimal(90))
    s0 = step(None, v, slow, T0)
    _, _, told = told_after(None, s0, None, slow, T0)
    s1 = step(s0, v, fast, T0 + H)
    said = told_after(s0, s1, told, fast, T0 + H)
    assert said is not None and said[0] is EventKind.REPEAT


def test_raising_for_checks_takes_effect_at_once() -> None:
    v = verdict(Status.BREACH, Decimal(90))
    s0 = step(None, v, Policy(for_checks=3), T0)
    s1 = step(s0, v, Policy(for_checks=1), T0 + H)
    assert not s0.firing and s1.firing


def test_resolved_goes_only_to_the_channel_that_was_told() -> None:
    policy = Policy(channels=("a", "b"), repeat=None)
    v_bad, v_ok = verdict(Status.BREACH, Decimal(90)), verdict(Status.OK, Decimal(100))
    s0 = step(None, v_bad, policy, T0)
    told_a = told_after(None, s0, None, policy, T0, "a")
    s1 = step(s0, v_ok, policy, T0 + H)
    assert told_after(s0, s1, told_a[2], policy, T0 + H, "a")[0] is EventKind.RESOLVED
    assert told_after(s0, s1, None, policy, T0 + H, "b") is None  # b never heard of it
    # and a channel told of an older episode hears nothing either
    assert told_after(s0, s1, ChannelState(episode=0, announced="BREACH"), policy, T0 + H, "b") is None


def test_notify_resolved_false_sends_no_resolved_but_next_episode_fires() -> None:
    policy = Policy(channels=("a",), notify_resolved=False, repeat=None)
    got = run(policy, [(0 * H, verdict(Status.BREACH, Decimal(90))), (1 * H, verdict(Status.OK, Decimal(100))),
                       (2 * H, verdict(Status.BREACH, Decimal(90)))])
    assert [(s.episode, k) for s, k in got] == [(1, EventKind.FIRING), (1, None), (2, EventKind.FIRING)]


def test_keys_are_deterministic() -> None:
    policy = Policy(channels=("a",))
    v = verdict(Status.BREACH, Decimal(90))
    s = step(None, v, policy, T0)
    assert told_after(None, s, None, policy, T0) == told_after(None, s, None, policy, T0)
    assert told_after(None, s, None, policy, T0, "a")[1] != told_after(None, s, None, policy, T0, "b")[1]


def test_unknown_is_not_ok_and_fires() -> None:
    got = run(Policy(channels=("a",)), [(0 * H, verdict(Status.UNKNOWN, None))])
    assert got[0][0].firing and got[0][1] is EventKind.FIRING


@pytest.mark.parametrize(("severity", "tags", "expected"), [
    ("critical", (), ("mail", "pager")),
    ("warning", ("sport",), ("hook", "mail")),
    ("critical", ("sport",), ("mail", "pager", "hook")),
    ("warning", ("other",), ("default",)),
])
def test_route(severity: str, tags: tuple[str, ...], expected: tuple[str, ...]) -> None:
    routes = {"severity:critical": ("mail", "pager"), "tag:sport": ("hook", "mail")}
    assert route(severity, tags, routes, ("default",)) == expected
