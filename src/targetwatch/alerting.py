"""Alerting for a loaded config: the state store, each rule's policy, the channels, and one
call that records a check and delivers what it caused. The CLI's ``check`` is a thin layer
over :meth:`Alerting.process`; an embedding program can call it the same way."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

import attrs

from .alertconfig import AlertingSettings, policy, unknown_channels
from .alerts import Policy
from .engine import CheckResult
from .errors import ConfigError, Problem
from .model import Rule, Verdict
from .notify import ChannelContext, Notifier
from .params import ParseContext
from .plugins import Registry
from .state import StateStore
from .tracker import Delivery, Tracker

log = logging.getLogger("targetwatch.alerting")


@attrs.frozen
class Processed:
    """A check after alerting: verdicts marked silenced, what was delivered, what is dead."""

    result: CheckResult
    deliveries: tuple[Delivery, ...]
    dead: int


class Alerting:
    """State, policies and channels of one config."""

    def __init__(self, settings: AlertingSettings, rules: Sequence[Rule], registry: Registry, *, base_dir: str | None = None, store: StateStore | None = None) -> None:
        from pathlib import Path

        self.settings = settings
        self.registry = registry
        self.base_dir = Path(base_dir) if base_dir else settings.state_path.parent
        self.rules = {r.id: r for r in rules}
        problems = rule_channel_problems(rules, settings)
        if problems:
            raise ConfigError(problems)
        self._store = store
        self._policies: dict[str, Policy] = {}

    @property
    def store(self) -> StateStore:
        if self._store is None:
            self._store = StateStore.open(self.settings.state_path)
        return self._store

    def policy_for(self, verdict: Verdict) -> Policy:
        cached = self._policies.get(verdict.rule)
        if cached is None:
            rule = self.rules.get(verdict.rule)
            own = rule.alerting if rule else None
            channels = self.settings.channels_of(own, verdict.severity, verdict.tags)
            cached = self._policies[verdict.rule] = policy(self.settings.defaults, own, channels)
        return cached

    def tracker(self) -> Tracker:
        d = self.settings.defaults
        return Tracker(self.store, self.policy_for, max_per_message=d.max_per_message, attempts=d.delivery_attempts, retry_after=d.retry_after)

    def open_channels(self) -> tuple[dict[str, Notifier], dict[str, str]]:
        """Open every configured channel; one that fails to open is reported, not fatal."""
        notifiers: dict[str, Notifier] = {}
        broken: dict[str, str] = {}
        for name, channel in self.settings.channels.items():
            try:
                notifiers[name] = self.registry.notifiers[channel.type].open(channel.params, ChannelContext(name, self.base_dir))
            except Exception as exc:  # noqa: BLE001 - one broken channel never stops the others
                broken[name] = f"{type(exc).__name__}: {exc}"
                log.error("channel %r could not be opened: %s", name, broken[name])
        return notifiers, broken

    def process(
        self,
        result: CheckResult,
        now: dt.datetime,
        *,
        exclusive: bool = False,
        evaluated: Sequence[str] | None = None,
        checkpoint: Callable[[str], None] = lambda name: None,
    ) -> Processed:
        """Record ``result`` (state, history, outbox) in one transaction, then deliver.

        ``exclusive``: the caller holds the run lock, so messages a crashed run had leased are
        sent now rather than when the lease runs out. ``evaluated``: the ids of the rules this
        run judged; alerts of their series no longer judged, and of rules the config no longer
        has (or has disabled), are resolved and forgotten.
        """
        tracker = self.tracker()
        if exclusive:
            released = self.store.release_leases()
            if released:
                log.info("released %d message(s) a crashed run had been sending", released)
        known = [r.id for r in self.rules.values() if r.enabled]
        scope = None if evaluated is None else (evaluated, known)
        recorded = tracker.record(result, now, scope=scope, checkpoint=checkpoint)
        notifiers, broken = self.open_channels()
        deliveries = tracker.deliver(notifiers, now, broken=broken, checkpoint=checkpoint)
        dead = self.store.outbox(states=("dead",))
        problems = [Problem(f"channel {name!r} could not be opened: {reason}") for name, reason in broken.items()]
        if dead:
            problems.append(Problem(f"{len(dead)} notification{'s' if len(dead) != 1 else ''} could not be delivered and {'were' if len(dead) != 1 else 'was'} given up; see `targetwatch outbox`"))
        if problems or recorded.verdicts is not result.verdicts:
            # (A result left as it was keeps its counts: a new one counts its verdicts again.)
            result = attrs.evolve(result, verdicts=recorded.verdicts, problems=(*result.problems, *problems))
        return Processed(result, tuple(deliveries), len(dead))

    def mark_silenced(self, result: CheckResult, now: dt.datetime) -> CheckResult:
        """For a dry run: mark silenced verdicts without changing any state."""
        silences = [s for s in self.store.silences() if s.active(now)]
        out = []
        for v in result.verdicts:
            s = next((s for s in silences if s.matches(v.rule, v.labels)), None)
            out.append(v if s is None else attrs.evolve(v, silenced=f"{s.reason} (silence #{s.id})"))
        return attrs.evolve(result, verdicts=tuple(out))


def rule_channel_problems(rules: Sequence[Rule], settings: AlertingSettings) -> list[Problem]:
    """Problems for channels a rule's ``notify`` names that the config does not declare."""
    problems = []
    for rule in rules:
        names = rule.alerting.notify if rule.alerting is not None and rule.alerting.notify else ()
        refs: list[tuple[tuple[str | int, ...], str]] = [(("notify",), c) for c in names]
        for problem in unknown_channels(refs, settings.channels, ParseContext()):
            problems.append(attrs.evolve(problem, file=rule.file, line=rule.line, message=f"rule {rule.id!r}: {problem.message}"))
    return problems
