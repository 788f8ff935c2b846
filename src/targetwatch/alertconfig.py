"""Alerting settings: the ``[alerting]`` defaults, the per-rule overrides, ``[channels.NAME]``,
``[state]`` and ``[pings]``, declared once like every other parameter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .alerts import Policy
from .errors import Problem
from .params import (
    Flag,
    Integer,
    Invalid,
    ListOf,
    Number,
    ParamType,
    ParseContext,
    Text,
    describe_found,
    dotted,
    param,
    parse,
    parse_typed,
)

if TYPE_CHECKING:
    from .plugins import Registry


class Interval(ParamType):
    """A fixed duration (seconds, minutes, hours, days, weeks): ``"90s"``, ``"30min"``, ``"6h"``, ``"1d"``."""

    expected = "a duration such as '30min', '6h', '1d' or '2w'"

    def __init__(self, *, allow_off: bool = False, allow_zero: bool = False) -> None:
        self.allow_off = allow_off
        self.allow_zero = allow_zero
        if allow_off:
            self.expected += ", or false for never"

    def convert(self, raw: object, ctx: ParseContext) -> dt.timedelta | None:
        from .periods import parse_duration

        if raw is False and self.allow_off:
            return None
        if self.allow_zero and raw in (0, "0"):
            return dt.timedelta(0)
        if isinstance(raw, bool) or not isinstance(raw, str):
            raise Invalid(describe_found(raw))
        try:
            span = parse_duration(raw)
        except (ValueError, TypeError):
            raise Invalid(describe_found(raw)) from None
        if span.months:
            raise Invalid(f"{describe_found(raw)}: months are not a fixed length here; use days")
        return dt.timedelta(seconds=span.seconds)

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "string"}, {"const": False}]} if self.allow_off else {"type": "string"}


class ForSpec(ParamType):
    """``for``: a number of consecutive non-OK checks, or a duration the status must last."""

    expected = "a number of consecutive checks (e.g. 2) or a duration (e.g. '2d')"

    def convert(self, raw: object, ctx: ParseContext) -> tuple[int, dt.timedelta | None]:
        if isinstance(raw, int) and not isinstance(raw, bool):
            if raw < 1:
                raise Invalid(f"{describe_found(raw)}: at least 1 check")
            return raw, None
        return 1, Interval().convert(raw, ctx)

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]}


class Routes(ParamType):
    """``{ "severity:critical" = ["mail"], "tag:sport" = ["hook"] }``."""

    expected = "a table of 'severity:NAME' or 'tag:NAME' to lists of channel names"

    def convert(self, raw: object, ctx: ParseContext) -> dict[str, tuple[str, ...]]:
        if not isinstance(raw, Mapping):
            raise Invalid(describe_found(raw))
        out = {}
        for key, value in raw.items():
            if not isinstance(key, str) or not key.startswith(("severity:", "tag:")):
                raise Invalid(f"found the route {key!r}")
            out[key] = ListOf(Text()).convert(value, ctx)
        return out

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}


_FOR_DOC = "Consecutive non-OK checks (or how long) before an alert fires; pending until then."
_KEEP_DOC = "Keep firing this long after the status turns OK (against flapping)."
_REPEAT_DOC = "Notify again this often while an alert keeps firing; false for never."
_BACKOFF_DOC = "Multiply the repeat interval by this after each repeat (2 = exponential back-off)."
_REPEAT_MAX_DOC = "The longest repeat interval back-off may reach."
_RESOLVED_DOC = "Send a resolved notice to the channels that were told of the alert."
_CHANGES_DOC = "Also notify when the value of a firing alert changes (a restated figure)."
_NOTIFY_DOC = "Channels to notify (names of [channels.NAME] tables)."


@attrs.frozen
class AlertingTable:
    """``[alerting]``: defaults for every rule, routing and delivery."""

    for_: tuple[int, dt.timedelta | None] = param(ForSpec(), key="for", doc=_FOR_DOC, default=(1, None), show="1")
    keep_firing_for: dt.timedelta = param(Interval(allow_zero=True), doc=_KEEP_DOC, default=dt.timedelta(0))
    repeat: dt.timedelta | None = param(Interval(allow_off=True), doc=_REPEAT_DOC, default=dt.timedelta(days=1))
    repeat_backoff: Decimal = param(Number(percent=False, minimum=1), doc=_BACKOFF_DOC, default=Decimal(1))
    repeat_max: dt.timedelta | None = param(Interval(), doc=_REPEAT_MAX_DOC, default=None)
    notify_resolved: bool = param(Flag(), doc=_RESOLVED_DOC, default=True)
    announce_changes: bool = param(Flag(), doc=_CHANGES_DOC, default=False)
    notify: tuple[str, ...] | None = param(ListOf(Text()), doc=_NOTIFY_DOC, default=None)
    routes: dict[str, tuple[str, ...]] | None = param(Routes(), doc="Channels by severity or tag for rules without their own notify: { \"severity:critical\" = [\"mail\"], \"tag:sport\" = [\"hook\"] }.", default=None)
    max_per_message: int = param(Integer(minimum=1), doc="At most this many alerts listed in one message per channel and run; the rest are counted.", default=20)
    delivery_attempts: int = param(Integer(minimum=1), doc="Tries before an undeliverable message is given up (marked dead; the run exits 3).", default=10)
    retry_after: dt.timedelta = param(Interval(), doc="Wait before retrying a failed delivery; doubles each time, at most 6h.", default=dt.timedelta(minutes=1))


@attrs.frozen
class RuleAlerting:
    """The lifecycle keys a rule may set to override ``[alerting]`` (unset: inherited)."""

    for_: tuple[int, dt.timedelta | None] | None = param(ForSpec(), key="for", doc=_FOR_DOC, default=None)
    keep_firing_for: dt.timedelta | None = param(Interval(allow_zero=True), doc=_KEEP_DOC, default=None)
    repeat: dt.timedelta | None | bool = param(Interval(allow_off=True), doc=_REPEAT_DOC, default=True, show="[alerting] repeat")
    repeat_backoff: Decimal | None = param(Number(percent=False, minimum=1), doc=_BACKOFF_DOC, default=None)
    repeat_max: dt.timedelta | None = param(Interval(), doc=_REPEAT_MAX_DOC, default=None)
    notify_resolved: bool | None = param(Flag(), doc=_RESOLVED_DOC, default=None)
    announce_changes: bool | None = param(Flag(), doc=_CHANGES_DOC, default=None)
    notify: tuple[str, ...] | None = param(ListOf(Text()), doc=_NOTIFY_DOC + " Default: routes, then [alerting] notify.", default=None)
    resolve_at: Decimal | None = param(Number(), doc="Hysteresis: a firing alert resolves only once the value is also at least (for minimums; at most for caps) this.", default=None)


@attrs.frozen
class StateTable:
    path: str = param(Text(), doc="The SQLite state file, relative to the config file.", default=".targetwatch/state.sqlite3")


@attrs.frozen
class PingsTable:
    start: str | None = param(Text(), doc="URL requested when a check starts (dead-man's switch).", default=None)
    success: str | None = param(Text(), doc="URL requested when a check finishes with exit status 0-2.", default=None)
    fail: str | None = param(Text(), doc="URL requested when a check fails (exit status 3).", default=None)
    timeout: dt.timedelta = param(Interval(), doc="Timeout of each ping; a failing ping never fails the check.", default=dt.timedelta(seconds=10))


def policy(defaults: AlertingTable, rule: RuleAlerting | None, channels: tuple[str, ...]) -> Policy:
    """The effective policy of a rule: its own keys over ``[alerting]``."""
    r = rule or RuleAlerting()

    def pick(name: str) -> Any:
        own = getattr(r, name)
        return getattr(defaults, name) if own is None else own

    checks, duration = pick("for_")
    repeat = defaults.repeat if r.repeat is True else r.repeat
    return Policy(
        channels=channels, for_checks=checks, for_duration=duration,
        keep_firing_for=pick("keep_firing_for"), repeat=repeat if isinstance(repeat, dt.timedelta) else None,
        repeat_backoff=pick("repeat_backoff"), repeat_max=pick("repeat_max"),
        notify_resolved=pick("notify_resolved"), resolve_at=r.resolve_at, announce_changes=pick("announce_changes"),
    )


@attrs.frozen
class ChannelConfig:
    """One ``[channels.NAME]`` table: its name, notifier type and converted params."""

    name: str
    type: str
    params: Any


@attrs.frozen
class AlertingSettings:
    """Everything the config says about alerting."""

    defaults: AlertingTable = AlertingTable()
    channels: Mapping[str, ChannelConfig] = attrs.field(factory=dict)
    state_path: Path = Path(".targetwatch/state.sqlite3")
    pings: PingsTable = PingsTable()

    def channels_of(self, rule_alerting: RuleAlerting | None, severity: str, tags: tuple[str, ...]) -> tuple[str, ...]:
        """A rule's channels: its own ``notify``, else the routes its severity and tags match,
        else ``[alerting] notify``."""
        from .lifecycle import route

        if rule_alerting is not None and rule_alerting.notify is not None:
            return rule_alerting.notify
        return route(severity, tags, self.defaults.routes or {}, self.defaults.notify or ())


ALERTING_TABLES = ("alerting", "channels", "state", "pings")


def alerting_from_mapping(data: Mapping[str, Any], registry: Registry, ctx: ParseContext, base_dir: Path) -> tuple[AlertingSettings, list[Problem]]:
    """Check the ``[alerting]``, ``[channels.*]``, ``[state]`` and ``[pings]`` tables."""
    problems: list[Problem] = []

    def table(name: str) -> Mapping[str, Any]:
        raw = data.get(name, {})
        if not isinstance(raw, Mapping):
            problems.append(Problem(f"expected a table [{name}]", ctx.file, ctx.locate((name,)), name))
            return {}
        return raw

    defaults, found = parse(AlertingTable, table("alerting"), ctx, ("alerting",), what="[alerting]")
    problems += found
    state, found = parse(StateTable, table("state"), ctx, ("state",), what="[state]")
    problems += found
    pings, found = parse(PingsTable, table("pings"), ctx, ("pings",), what="[pings]")
    problems += found
    channels: dict[str, ChannelConfig] = {}
    for name, raw in table("channels").items():
        kind, params, found = parse_typed(raw, registry.notifiers, ctx, ("channels", name), category="channel")
        problems += found
        if kind is not None and params is not None:
            channels[str(name)] = ChannelConfig(str(name), kind, params)
    settings = AlertingSettings(
        defaults=defaults or AlertingTable(), channels=channels,
        state_path=base_dir / (state.path if state else StateTable().path), pings=pings or PingsTable(),
    )
    if defaults is not None:
        refs: list[tuple[tuple[str | int, ...], str]] = [(("alerting", "notify"), c) for c in defaults.notify or ()]
        refs += [(("alerting", "routes", key), c) for key, chans in (defaults.routes or {}).items() for c in chans]
        problems += unknown_channels(refs, channels, ctx)
    return settings, problems


def unknown_channels(refs: list[tuple[tuple[str | int, ...], str]], channels: Mapping[str, Any], ctx: ParseContext) -> list[Problem]:
    """Problems for channel names that no ``[channels.NAME]`` table declares."""
    import difflib

    out = []
    for where, name in refs:
        if name not in channels:
            close = difflib.get_close_matches(name, list(channels), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(sorted(channels)) or "none declared"
            out.append(Problem(f"unknown channel {name!r}{hint}; channels: {known}", ctx.file, ctx.locate(where), dotted(where)))
    return out
