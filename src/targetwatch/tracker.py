"""Who must be told what, now: the tracker turns a check's verdicts into alert state changes
and notifications, and delivers the outbox.

One run is one transaction: every alert's new state, every channel's record of what it was
told, the history, and the outbox messages those changes cause are committed together.
Delivery happens after the commit; a message is marked sent only once its channel took it,
so a crash in between re-sends it on the next run under the same idempotency key.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from .alerts import ChannelState, Event, EventKind, Message, Policy, idempotency_key
from .i18n import _, pgettext, status_label
from .model import Status, Verdict
from .numbers import format_number
from .recording import Events, Notice, Recording
from .state import StateStore

if TYPE_CHECKING:
    from .engine import CheckResult
    from .notify import Notifier

log = logging.getLogger("targetwatch.alerting")


@attrs.frozen
class Delivery:
    """How delivering one outbox message went."""

    channel: str
    key: str
    ok: bool
    error: str | None = None
    dead: bool = False


@attrs.frozen
class Recorded:
    """What one run changed: the verdicts marked silenced where a silence applies, the events
    per channel, and the outbox rows written."""

    verdicts: tuple[Verdict, ...]
    events: Mapping[str, tuple[Event, ...]]
    messages: tuple[Message, ...]


class Tracker:
    """The alert lifecycle over a :class:`~targetwatch.state.StateStore`.

    ``policy_for(verdict)`` gives each verdict's policy (channels included);
    ``max_per_message`` caps the events listed in one channel's digest (the rest are counted,
    and still recorded); failed deliveries are retried after ``retry_after`` doubling each
    time (at most ``retry_max``), and given up after ``attempts`` tries.
    """

    def __init__(
        self,
        store: StateStore,
        policy_for: Callable[[Verdict], Policy],
        *,
        max_per_message: int = 20,
        attempts: int = 10,
        retry_after: dt.timedelta = dt.timedelta(minutes=1),
        retry_max: dt.timedelta = dt.timedelta(hours=6),
    ) -> None:
        self.store = store
        self.policy_for = policy_for
        self.max_per_message = max_per_message
        self.attempts = attempts
        self.retry_after = retry_after
        self.retry_max = retry_max

    def record(
        self,
        result: CheckResult,
        now: dt.datetime,
        *,
        scope: tuple[Collection[str], Collection[str]] | None = None,
        checkpoint: Callable[[str], None] = lambda name: None,
    ) -> Recorded:
        """Apply one check's verdicts: in one transaction, update every alert, write history,
        and put one digest per channel with news in the outbox.

        ``scope`` = (rules evaluated by this run, rules the config still has): a remembered
        alert of an evaluated rule whose series this run did not judge, or of a rule the config
        no longer has, is forgotten — after a resolved notice ("no longer checked") to every
        channel that was told it fired. Without ``scope`` nothing is forgotten."""
        store = self.store
        # A run makes many objects that live until its end and no reference cycles: the cyclic
        # collector, left running, would walk them (and every verdict) again and again. It is
        # paused meanwhile and restored after, also on errors.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with store.transaction():
                silences = [s for s in store.silences() if s.active(now)]
                run = store.start_run(now, result.as_of, result.summary)
                recording = Recording(store, self.policy_for, now, result.as_of, run, silences)
                verdicts = recording.record(result.verdicts, scope)
                notices = recording.notices
                messages = []
                event_rows = []
                at = _t(now)
                for channel, told in notices.items():
                    message = self._digest(channel, told, result.as_of, now)
                    row_id = store.enqueue(message, now)
                    messages.append(message)
                    event_rows += [(run, at, n.verdict.rule, n.series, n.kind._value_, n.verdict.status._value_, channel, n.key, row_id) for n in told]
                store.add_events(event_rows)
                checkpoint("before-commit")
        finally:
            if collecting:
                gc.enable()
        return Recorded(verdicts, Events(notices), tuple(messages))

    def _digest(self, channel: str, notices: Sequence[Notice], as_of: dt.datetime, now: dt.datetime) -> Message:
        ranked = sorted(notices, key=lambda n: (_KIND_ORDER[n.kind._value_], _WORST_FIRST[n.verdict.status._value_], n.verdict.rule, n.verdict.labels))
        listed = [n.event() for n in ranked[: self.max_per_message]]
        omitted = len(ranked) - len(listed)
        counts = Counter("RESOLVED" if n.kind is EventKind.RESOLVED else n.verdict.status._value_ for n in ranked)
        # The text follows the current locale; the machine words (BREACH, RESOLVED) stay first.
        ordered = sorted(counts.items(), key=lambda kv: _LABEL_ORDER.get(kv[0], 9))
        head = pgettext("list separator", ", ").join(_("{count} {status}").format(count=n, status=status_label(label)) for label, n in ordered)
        first = listed[0]
        more = _(" (+{n} more)").format(n=len(ranked) - 1) if len(ranked) > 1 else ""
        subject = f"{head}: {first.title}{more}"
        lines = [_("targetwatch as of {moment}: {counts}").format(moment=as_of.isoformat(), counts=head), ""]
        for e in listed:
            series = ", ".join(f"{k}={v}" for k, v in e.labels)
            tag = status_label("RESOLVED") if e.kind is EventKind.RESOLVED else status_label(e.status.value)
            if e.kind is EventKind.REPEAT:
                tag = _("{status} (repeat)").format(status=tag)
            lines.append(f"[{tag}] {e.title}{f' [{series}]' if series else ''}")
            lines.append(f"    {e.message}")
        if omitted:
            lines.append(_("... and {n} more not listed here (run `targetwatch status` for all)").format(n=omitted))
        key = idempotency_key(channel, *sorted(n.key for n in ranked))
        return Message(channel, key, subject, "\n".join(lines) + "\n", tuple(e.as_dict() for e in listed), omitted, now, as_of)

    def deliver(
        self,
        notifiers: Mapping[str, Notifier],
        now: dt.datetime,
        *,
        broken: Mapping[str, str] | None = None,
        checkpoint: Callable[[str], None] = lambda name: None,
    ) -> list[Delivery]:
        """Send every due outbox message through its channel; one failing channel never stops
        the others. ``broken`` names channels that could not be opened (their messages wait)."""
        from .notify import DeliveryError

        out = []
        for row in self.store.claim_due(now, lease=dt.timedelta(minutes=10)):
            notifier = notifiers.get(row.channel)
            try:
                if notifier is None:
                    reason = (broken or {}).get(row.channel, "no such channel in the config")
                    raise DeliveryError(f"channel {row.channel!r} is unavailable: {reason}", retryable=True)
                checkpoint("before-send")
                notifier.deliver(row.message)
                checkpoint("before-mark")
            except Exception as exc:  # noqa: BLE001 - any channel failure is retried or given up, never fatal
                retryable = getattr(exc, "retryable", True)
                error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
                tries = row.attempts + 1
                give_up = not retryable or tries >= self.attempts
                wait = min(self.retry_after * (2 ** (tries - 1)), self.retry_max)
                self.store.mark_failed(row.id, error, None if give_up else now + wait)
                log.warning("delivery to %s failed (attempt %d%s): %s", row.channel, tries, ", giving up" if give_up else "", error)
                out.append(Delivery(row.channel, row.key, False, error, give_up))
                continue
            self.store.mark_sent(row.id, now)
            log.info("delivered %s to %s", row.key, row.channel)
            out.append(Delivery(row.channel, row.key, True))
        return out


_LABEL_ORDER = {"BREACH": 0, "ERROR": 1, "UNKNOWN": 2, "WARN": 3, "OK": 4, "RESOLVED": 5}
#: A digest lists firing alerts first, then changes, repeats and resolved ones; each the
#: worst status first (by value: an enum hashes slowly).
_KIND_ORDER = {EventKind.FIRING.value: 0, EventKind.CHANGED.value: 1, EventKind.REPEAT.value: 2, EventKind.RESOLVED.value: 3}
_WORST_FIRST = {s.value: -s.severity for s in Status}


def _t(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


__all__ = ["ChannelState", "Delivery", "Recorded", "Status", "Tracker", "format_number"]
