"""Alerting configuration: ``[alerting]`` and ``[channels.*]`` parsing with located problems,
a rule's own lifecycle keys, ``policy()`` merging and channel routing precedence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from targetwatch.alertconfig import (
    AlertingSettings,
    AlertingTable,
    ForSpec,
    Interval,
    RuleAlerting,
    policy,
)
from targetwatch.alerting import rule_channel_problems
from targetwatch.config import config_from_mapping, load_config
from targetwatch.errors import ConfigError, Problem
from targetwatch.params import Invalid, ParseContext, parse
from targetwatch.plugins import Registry
from targetwatch.rules import rules_from_data

CHANNELS = {"mail": {"type": "console"}, "pager": {"type": "console", "stream": "stdout"}, "hook": {"type": "console"}}


@pytest.fixture(scope="module")
def reg() -> Registry:
    return Registry(entry_points=False)


def settings_of(reg: Registry, alerting: dict[str, Any], channels: dict[str, Any] = CHANNELS) -> AlertingSettings:
    return config_from_mapping({"alerting": alerting, "channels": channels}, reg, env={}).alerting


def problems_of(reg: Registry, data: dict[str, Any], path: Path | None = None) -> list[Problem]:
    with pytest.raises(ConfigError) as exc:
        config_from_mapping(data, reg, env={}, path=path)
    return list(exc.value.problems)


def rule_alerting(**raw: Any) -> RuleAlerting:
    got, problems = parse(RuleAlerting, raw, ParseContext())
    assert problems == [] and got is not None
    return got


# --- [alerting] ------------------------------------------------------------------------------

def test_defaults_without_an_alerting_table(reg: Registry) -> None:
    s = config_from_mapping({}, reg, env={}).alerting
    assert s.defaults == AlertingTable() and s.channels == {}
    p = policy(s.defaults, None, ())
    assert (p.for_checks, p.for_duration, p.repeat, p.notify_resolved) == (1, None, dt.timedelta(days=1), True)
    assert s.state_path.name == "state.sqlite3"


def test_alerting_table_parses(reg: Registry) -> None:
    s = settings_of(reg, {
        "for": 3, "keep_firing_for": "2h", "repeat": "6h", "repeat_backoff": 2, "repeat_max": "2d",
        "notify_resolved": False, "announce_changes": True, "notify": ["mail"],
        "routes": {"severity:critical": ["pager"], "tag:sport": ["hook", "mail"]},
        "max_per_message": 5, "delivery_attempts": 3, "retry_after": "90s",
    })
    d = s.defaults
    assert d.for_ == (3, None) and d.keep_firing_for == dt.timedelta(hours=2)
    assert d.repeat == dt.timedelta(hours=6) and d.repeat_backoff == 2 and d.repeat_max == dt.timedelta(days=2)
    assert (d.notify_resolved, d.announce_changes, d.notify) == (False, True, ("mail",))
    assert d.routes == {"severity:critical": ("pager",), "tag:sport": ("hook", "mail")}
    assert (d.max_per_message, d.delivery_attempts, d.retry_after) == (5, 3, dt.timedelta(seconds=90))
    assert set(s.channels) == {"mail", "pager", "hook"} and s.channels["pager"].type == "console"


@pytest.mark.parametrize(("raw", "expected"), [
    (1, (1, None)), (4, (4, None)), ("2d", (1, dt.timedelta(days=2))), ("30min", (1, dt.timedelta(minutes=30))),
    ("1w", (1, dt.timedelta(weeks=1))),
])
def test_for_as_checks_or_duration(reg: Registry, raw: object, expected: tuple) -> None:
    assert settings_of(reg, {"for": raw}).defaults.for_ == expected
    p = policy(settings_of(reg, {"for": raw}).defaults, None, ())
    assert (p.for_checks, p.for_duration) == expected


def test_repeat_false_means_never(reg: Registry) -> None:
    d = settings_of(reg, {"repeat": False}).defaults
    assert d.repeat is None and policy(d, None, ()).repeat is None


@pytest.mark.parametrize(("key", "raw", "words"), [
    ("for", "2x", "'2d'"), ("for", 0, "at least 1"), ("for", True, "found true"), ("for", -1, "at least 1"),
    ("repeat", "1mo", "months"), ("repeat", True, "false for never"), ("repeat", 3600, "duration"),
    ("keep_firing_for", "soon", "duration"), ("retry_after", False, "duration"), ("repeat_max", "", "duration"),
    ("repeat_backoff", "0.5", ""), ("max_per_message", 0, ""),
])
def test_bad_values_are_located(reg: Registry, key: str, raw: object, words: str, tmp_path: Path) -> None:
    path = tmp_path / "targetwatch.toml"
    (p,) = problems_of(reg, {"alerting": {key: raw}}, path)
    assert p.file == str(path) and p.key == f"alerting.{key}"
    assert words in p.message and p.message.startswith("expected")


def test_bad_duration_names_the_line_in_a_real_file(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "targetwatch.toml"
    path.write_text('rules = []\n\n[alerting]\nfor = 2\nrepeat = "every day"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path, reg, env={})
    (p,) = exc.value.problems
    assert (p.file, p.line, p.key) == (str(path), 5, "alerting.repeat")
    assert "'every day'" in p.message and str(path) in str(p)


def test_unknown_key_in_alerting_gets_a_suggestion(reg: Registry) -> None:
    (p,) = problems_of(reg, {"alerting": {"reapeat": "1h"}})
    assert p.key == "alerting.reapeat" and "did you mean 'repeat'" in p.message


def test_unknown_channels_in_notify_and_routes(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "targetwatch.toml"
    found = problems_of(reg, {"alerting": {"notify": ["mial", "mail"], "routes": {"tag:x": ["pagr"], "severity:low": ["zzz"]}},
                              "channels": CHANNELS}, path)
    by_key = {p.key: p for p in found}
    assert set(by_key) == {"alerting.notify", "alerting.routes.tag:x", "alerting.routes.severity:low"}
    assert "unknown channel 'mial'" in by_key["alerting.notify"].message and "did you mean 'mail'" in by_key["alerting.notify"].message
    assert "did you mean 'pager'" in by_key["alerting.routes.tag:x"].message
    assert "did you mean" not in by_key["alerting.routes.severity:low"].message
    assert "channels: hook, mail, pager" in by_key["alerting.routes.severity:low"].message
    assert all(p.file == str(path) for p in found)


def test_notify_without_any_channel_declared(reg: Registry) -> None:
    (p,) = problems_of(reg, {"alerting": {"notify": ["mail"]}})
    assert "unknown channel 'mail'" in p.message and "none declared" in p.message


def test_bad_route_keys_and_channel_tables(reg: Registry) -> None:
    (p,) = problems_of(reg, {"alerting": {"routes": {"team:x": ["mail"]}}, "channels": CHANNELS})
    assert p.key == "alerting.routes" and "'team:x'" in p.message
    found = problems_of(reg, {"channels": {"a": {"type": "carrier-pigeon"}, "b": {}, "c": "console", "d": {"type": "console", "colour": 1}}})
    by_key = {p.key: p.message for p in found}
    assert "found 'carrier-pigeon'" in by_key["channels.a.type"] and "console" in by_key["channels.a.type"]
    assert "'type' is missing" in by_key["channels.b.type"]
    assert "expected a table" in by_key["channels.c"]
    assert "unknown key 'colour'" in by_key["channels.d.colour"]


def test_rule_notify_naming_an_unknown_channel(reg: Registry) -> None:
    data = {"rule": [{"id": "sales.min", "kind": "threshold", "indicator": "sales", "min": 5, "notify": ["pagr"]}]}
    rules, problems = rules_from_data(data, reg.kinds, file="rules/sales.toml")
    assert problems == []
    (p,) = rule_channel_problems(rules, settings_of(reg, {}))
    assert p.file == "rules/sales.toml" and "rule 'sales.min'" in p.message and "did you mean 'pager'" in p.message


# --- a rule's own keys and policy() --------------------------------------------------------

def test_rule_keys_parse_from_a_rule_file(reg: Registry) -> None:
    data = {"rule": [{"id": "r", "kind": "threshold", "indicator": "x", "min": 5, "for": "1d", "repeat": False,
                      "resolve_at": 52000, "keep_firing_for": "0", "notify": ["mail"]},
                     {"id": "plain", "kind": "threshold", "indicator": "x", "min": 5}]}
    (r, plain), problems = rules_from_data(data, reg.kinds)
    assert problems == []
    assert r.alerting.for_ == (1, dt.timedelta(days=1)) and r.alerting.repeat is None
    assert r.alerting.resolve_at == Decimal(52000) and r.alerting.keep_firing_for == dt.timedelta(0)
    assert plain.alerting is None


def test_rule_keys_override_the_defaults() -> None:
    defaults = AlertingTable(for_=(3, None), keep_firing_for=dt.timedelta(hours=1), repeat=dt.timedelta(hours=6),
                             repeat_backoff=Decimal(2), repeat_max=dt.timedelta(days=1), notify_resolved=False,
                             announce_changes=True)
    inherited = policy(defaults, None, ("mail",))
    assert inherited.channels == ("mail",)
    assert (inherited.for_checks, inherited.keep_firing_for, inherited.repeat, inherited.repeat_backoff) == (3, dt.timedelta(hours=1), dt.timedelta(hours=6), 2)
    assert (inherited.repeat_max, inherited.notify_resolved, inherited.announce_changes, inherited.resolve_at) == (dt.timedelta(days=1), False, True, None)
    assert policy(defaults, RuleAlerting(), ("mail",)) == inherited

    own = rule_alerting(**{"for": "2h", "keep_firing_for": "0", "repeat": "30min", "repeat_backoff": 1, "repeat_max": "2h",
                           "notify_resolved": True, "announce_changes": False, "resolve_at": 52000})
    p = policy(defaults, own, ("pager",))
    assert (p.for_checks, p.for_duration) == (1, dt.timedelta(hours=2))
    assert p.keep_firing_for == dt.timedelta(0)  # a zero override is not "unset"
    assert (p.repeat, p.repeat_backoff, p.repeat_max) == (dt.timedelta(minutes=30), 1, dt.timedelta(hours=2))
    assert (p.notify_resolved, p.announce_changes, p.resolve_at, p.channels) == (True, False, Decimal(52000), ("pager",))


def test_repeat_false_on_a_rule_disables_repeats() -> None:
    defaults = AlertingTable(repeat=dt.timedelta(hours=1))
    assert policy(defaults, rule_alerting(repeat=False), ()).repeat is None
    assert policy(defaults, rule_alerting(**{"for": 2}), ()).repeat == dt.timedelta(hours=1)  # unset: inherited
    # and a rule may turn repeats back on where the defaults have none
    assert policy(AlertingTable(repeat=None), rule_alerting(repeat="2h"), ()).repeat == dt.timedelta(hours=2)


# --- routing -----------------------------------------------------------------------------------

def test_channels_of_precedence(reg: Registry) -> None:
    s = settings_of(reg, {"notify": ["mail"], "routes": {"severity:critical": ["pager"], "tag:sport": ["hook"]}})
    assert s.channels_of(rule_alerting(notify=["hook"]), "critical", ("sport",)) == ("hook",)  # the rule's own
    assert s.channels_of(rule_alerting(notify=[]), "critical", ()) == ()  # an explicit empty list: nobody
    assert s.channels_of(rule_alerting(**{"for": 2}), "critical", ()) == ("pager",)  # no notify: routes
    assert s.channels_of(None, "critical", ("sport",)) == ("pager", "hook")
    assert s.channels_of(None, "warning", ("sport",)) == ("hook",)
    assert s.channels_of(None, "warning", ("other",)) == ("mail",)  # no route: [alerting] notify
    assert settings_of(reg, {}).channels_of(None, "critical", ()) == ()


# --- the parameter types ---------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(st.integers(1, 10_000), st.sampled_from([("s", 1), ("min", 60), ("h", 3600), ("d", 86400), ("w", 604800)]))
def test_interval_converts_units(n: int, unit: tuple[str, int]) -> None:
    assert Interval().convert(f"{n}{unit[0]}", ParseContext()) == dt.timedelta(seconds=n * unit[1])


def test_interval_off_and_zero() -> None:
    ctx = ParseContext()
    assert Interval(allow_off=True).convert(False, ctx) is None
    assert Interval(allow_zero=True).convert(0, ctx) == dt.timedelta(0)
    for bad, kind in [(False, Interval()), (0, Interval()), (None, Interval(allow_off=True)), (1.5, Interval())]:
        with pytest.raises(Invalid):
            kind.convert(bad, ctx)


@given(st.integers(1, 1000))
def test_for_spec_integers_are_checks(n: int) -> None:
    assert ForSpec().convert(n, ParseContext()) == (n, None)
