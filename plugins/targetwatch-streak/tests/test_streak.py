"""The ``streak`` rule kind, judged directly, through the engine and through ``targetwatch check``."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import targetwatch_streak
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from targetwatch_streak import StreakKind

from targetwatch.cli import cli
from targetwatch.errors import ConfigError
from targetwatch.model import Judgement, Status
from targetwatch.periods import Calendar, Term
from targetwatch.plugins import Registry, provided_by
from targetwatch.testing import check, judge, make_registry

D = Decimal
KIND = StreakKind()
AFTER_2023 = "2024-01-01"  # every quarter of 2023 has closed
RANK = {Status.OK: 0, Status.WARN: 1, Status.BREACH: 2}


def quarters(*values: Any, year: int = 2021) -> list[tuple[str, Any]]:
    """Consecutive quarters from ``year``-Q1 with these values."""
    return [(f"{year + i // 4}-Q{i % 4 + 1}", v) for i, v in enumerate(values)]


def streak(rows: list[tuple[str, Any]], as_of: str = "2030-01-01", **params: Any) -> Judgement:
    return judge(KIND, {"indicator": "x", **params}, rows, as_of)


# -- packaging -------------------------------------------------------------------------------


def test_plugin_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGETWATCH_PLUGINS", "streak")
    registry = Registry()
    assert "streak" in registry.kinds
    assert provided_by(registry, "kind", "streak") == "streak"
    info = next(p for p in registry.plugins() if p.name == "streak")
    assert info.origin == "package targetwatch-streak" and info.version == "0.1.0"


def test_registered_through_the_hook_on_a_fresh_registry() -> None:
    registry = make_registry(targetwatch_streak)
    assert isinstance(registry.kinds["streak"], StreakKind)
    assert provided_by(registry, "kind", "streak") == "targetwatch_streak"


# -- the verdicts ------------------------------------------------------------------------------


def test_trailing_windows_reported_as_spans_are_compared_in_order() -> None:
    """Data may report rolling windows (``2023-01..2023-06``, the six months to June); a streak
    over them names their grain as it is."""
    rows = [("2023-01..2023-06", 600), ("2023-02..2023-07", 590), ("2023-03..2023-08", 580), ("2023-04..2023-09", 570)]
    j = streak(rows, "2023-12-01")
    assert j.status is Status.BREACH
    assert j.period is not None and j.period.label == "2023-04..2023-09"
    assert j.details["grain"] == "month span"
    short = streak(rows[:2], "2023-12-01")
    assert short.status is Status.UNKNOWN
    assert short.message == "x has 2 closed month span observations up to 2023-12-01; a streak of 3 falls needs 4"


def test_a_missing_rolling_window_is_the_one_a_period_before() -> None:
    rows = [("2022-12..2023-05", 620), ("2023-01..2023-06", 610), ("2023-03..2023-08", 580), ("2023-04..2023-09", 570)]
    j = streak(rows, "2023-12-01")
    assert j.status is Status.UNKNOWN
    assert j.details["missing"] == "2023-02..2023-07"
    assert "but 2023-02..2023-07 is missing" in j.message


def test_windows_of_another_length_are_not_compared() -> None:
    """A 3-month and a 6-month window are both month spans, but a fall from one to the other
    is no fall."""
    rows = [("2023-01..2023-03", 900), ("2023-02..2023-07", 800), ("2023-03..2023-05", 700), ("2023-04..2023-09", 600)]
    j = streak(rows, "2023-12-01")
    assert j.status is Status.UNKNOWN and "has 2 closed month span observations" in j.message


def test_three_falls_in_a_row_is_a_breach() -> None:
    j = streak(quarters(100, 95, 90, 85, year=2023), AFTER_2023)
    assert j.status is Status.BREACH
    assert (j.value, j.target, j.margin, j.unit) == (3, 3, -1, "")
    assert j.period is not None and j.period.label == "2023-Q4"
    assert j.message == "x has fallen 3 times in a row: 100 (2023-Q1) → 95 (2023-Q2) → 90 (2023-Q3) → 85 (2023-Q4); 3 in a row is a breach"
    assert j.details["streak"] == 3 and j.details["since"] == "2023-Q1" and j.details["change"] == -15
    assert j.details["run"] == [["2023-Q1", 100], ["2023-Q2", 95], ["2023-Q3", 90], ["2023-Q4", 85]]
    assert (j.details["latest"], j.details["period"], j.details["grain"]) == (85, "2023-Q4", "quarter")


def test_two_falls_are_not_a_breach_but_may_warn() -> None:
    rows = quarters(80, 100, 95, 90, year=2023)  # a rise, then two falls
    ok = streak(rows, AFTER_2023)
    assert (ok.status, ok.value, ok.margin) == (Status.OK, 2, 0)
    assert "has fallen 2 times in a row: 100 (2023-Q2) → 95 (2023-Q3) → 90 (2023-Q4)" in ok.message
    warned = streak(rows, AFTER_2023, warn_periods=2)
    assert warned.status is Status.WARN and warned.message.endswith("3 in a row is a breach, 2 a warning")
    assert streak(rows, AFTER_2023, warn_periods=1).status is Status.WARN


def test_no_fall_says_since_when() -> None:
    j = streak(quarters(100, 95, 90, 91, year=2023), AFTER_2023)
    assert (j.status, j.value, j.margin) == (Status.OK, 0, 2)
    assert j.message == "x 91 for 2023-Q4 has not fallen since 2023-Q3 (90); 3 in a row is a breach"


def test_an_equal_value_breaks_a_fall() -> None:
    j = streak(quarters(100, 95, 95, 90, 85), periods=3)
    assert (j.status, j.value) == (Status.OK, 2)
    assert streak(quarters(100, 95, 94.99, 90, 85), periods=3).status is Status.BREACH


def test_rise() -> None:
    rows = quarters("1.1%", "1.2%", "1.3%", "1.4%")
    j = streak(rows, direction="rise")
    assert j.status is Status.BREACH and "has risen 3 times in a row" in j.message
    assert streak(rows).status is Status.OK  # they did not fall
    assert streak(quarters(1, 2, 2, 3), direction="rise").status is Status.OK


def test_too_little_history_is_unknown_never_ok() -> None:
    j = streak(quarters(100, 120, 130))  # rising, yet only 3 observations for a streak of 3
    assert j.status is Status.UNKNOWN
    assert j.message == "x has 3 closed quarterly observations up to 2030-01-01; a streak of 3 falls needs 4"
    one = streak(quarters(100), periods=1, direction="rise")
    assert one.status is Status.UNKNOWN and "has 1 closed quarterly observation up to" in one.message
    assert streak([], periods=1).message == "x has no closed observations up to 2030-01-01; a streak of 1 fall needs 2"
    assert streak(quarters(100, 90), periods=1).status is Status.BREACH


def test_only_closed_periods_count_unless_include_open() -> None:
    rows = quarters(100, 95, 90, 85, year=2023)
    open_q4 = "2023-11-15"  # 2023-Q4 has started (its value is seen) but not ended
    j = streak(rows, open_q4)
    assert j.status is Status.UNKNOWN and "3 closed quarterly observations" in j.message
    assert streak(rows, open_q4, periods=2).period.label == "2023-Q3"  # type: ignore[union-attr]
    assert streak(rows, open_q4, include_open=True).status is Status.BREACH
    assert streak(rows, "2024-01-01").status is Status.BREACH  # Q4 closed at midnight


def test_closed_is_measured_in_the_configured_time_zone() -> None:
    rows = quarters(100, 95, 90, 85, year=2023)
    shanghai = Calendar("Asia/Shanghai")
    # 2023-12-31T17:00Z is already 2024-01-01 01:00 in Shanghai: Q4 has closed there.
    j = judge(KIND, {"indicator": "x"}, rows, "2023-12-31T17:00:00+00:00", calendar=shanghai)
    assert j.status is Status.BREACH
    assert judge(KIND, {"indicator": "x"}, rows, "2023-12-31T17:00:00+00:00").status is Status.UNKNOWN


def test_a_gap_stops_the_count_and_is_unknown_when_it_matters() -> None:
    rows = [("2023-01", 100), ("2023-02", 90), ("2023-04", 80), ("2023-05", 70)]  # March missing
    j = streak(rows)
    assert j.status is Status.UNKNOWN
    assert "back to 2023-04, but 2023-03 is missing, so the streak may be longer" in j.message
    assert j.details["missing"] == "2023-03" and j.details["streak"] == 1
    assert streak(rows, allow_gaps=True).status is Status.BREACH
    # A gap behind a value that did not fall does not matter: the streak is decided.
    assert streak([("2023-01", 100), ("2023-03", 70), ("2023-04", 80), ("2023-05", 70)]).status is Status.OK
    # Nor does one behind a streak already long enough.
    assert streak([("2022-11", 1), ("2023-02", 99), ("2023-03", 90), ("2023-04", 80), ("2023-05", 70)]).status is Status.BREACH


def test_grain_defaults_to_the_newest_observation() -> None:
    rows = [("2023-H1", 500), ("2023-H2", 400), ("2023-01", 10), ("2023-02", 20), ("2023-03", 30), ("2023-04", 40)]
    halves = streak(rows, periods=1)  # 2023-H2 starts last: the newest observation is a half
    assert halves.status is Status.BREACH and halves.details["grain"] == "half"
    assert streak(rows, periods=2).message == "x has 2 closed half-yearly observations up to 2030-01-01; a streak of 2 falls needs 3"
    months = streak(rows, direction="rise", grain="month")
    assert months.status is Status.BREACH and months.details["grain"] == "month" and months.value == 3


def test_terms_are_consecutive_in_the_configured_list() -> None:
    terms = [
        Term("2022-autumn", dt.date(2022, 9, 1), dt.date(2023, 1, 15)),
        Term("2023-spring", dt.date(2023, 2, 10), dt.date(2023, 7, 1)),
        Term("2023-autumn", dt.date(2023, 9, 1), dt.date(2024, 1, 20)),
    ]
    cal = Calendar("Asia/Shanghai", terms=terms)
    rows = [("2022-autumn", 30), ("2023-spring", 20), ("2023-autumn", 10)]
    j = judge(KIND, {"indicator": "x", "periods": 2}, rows, "2024-02-01", calendar=cal)
    assert j.status is Status.BREACH and j.details["grain"] == "term"


def test_message_keeps_a_long_streak_short() -> None:
    rows = [(f"2023-{m:02d}", 100 - m) for m in range(1, 13)]
    j = streak(rows, periods=3)
    assert j.value == 11 and j.message.count("→") == 5 and "…" in j.message


def test_units_show_in_the_message() -> None:
    j = judge(KIND, {"indicator": "x", "periods": 1}, [("2022", "4.9%"), ("2023", "4.8%")], "2024-01-01", units={"x": "%"})
    assert "4.9% (2022) → 4.8% (2023)" in j.message


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"periods": 0}, "periods: expected a whole number of at least 1, found int 0"),
        ({"periods": 3, "warn_periods": 3}, "warn_periods: expected fewer than periods (3), found 3"),
        ({"direction": "falls"}, "did you mean 'fall'?"),
        ({"grain": "quater"}, "did you mean 'quarter'?"),
        ({"allow_gaps": "yes"}, "allow_gaps: expected true or false, found 'yes'"),
    ],
)
def test_bad_params_are_named(params: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        streak(quarters(1, 2, 3, 4), **params)
    assert expected in str(raised.value)


# -- properties ------------------------------------------------------------------------------

values = st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=3, allow_nan=False, allow_infinity=False)
series_values = st.lists(values, min_size=0, max_size=9)
periods_st = st.integers(min_value=1, max_value=5)
scales = st.sampled_from([D("10000"), D("0.0001"), D("1e8"), D("3"), D("0.7")])


@given(series_values, periods_st, scales, st.sampled_from(["fall", "rise"]))
def test_scale_never_changes_a_verdict(vals: list[Decimal], periods: int, scale: Decimal, direction: str) -> None:
    plain = streak(quarters(*vals), periods=periods, direction=direction)
    scaled = streak(quarters(*[v * scale for v in vals]), periods=periods, direction=direction)
    assert (plain.status, plain.value) == (scaled.status, scaled.value)


@given(series_values, periods_st, st.decimals(min_value=D("0.001"), max_value=D("1000"), places=3))
def test_raising_the_newest_value_never_turns_ok_into_breach(vals: list[Decimal], periods: int, more: Decimal) -> None:
    before = streak(quarters(*vals), periods=periods)
    if before.status is not Status.OK:
        return
    after = streak(quarters(*vals[:-1], vals[-1] + more), periods=periods)
    assert after.status is Status.OK and after.value is not None and after.value <= before.value  # type: ignore[operator]


@given(periods_st, st.lists(st.decimals(min_value=D("0.001"), max_value=D("100"), places=3), min_size=5, max_size=5), values)
def test_exactly_periods_falls_is_a_breach_one_fewer_is_not(periods: int, drops: list[Decimal], start: Decimal) -> None:
    def falling(n: int) -> list[Decimal]:
        out = [start - 1000, start]  # a rise first, so the streak is exactly the n falls after it
        for drop in drops[:n]:
            out.append(out[-1] - drop)
        return out

    exactly = streak(quarters(*falling(periods)), periods=periods)
    assert (exactly.status, exactly.value) == (Status.BREACH, periods)
    fewer = streak(quarters(*falling(periods - 1)), periods=periods)
    assert (fewer.status, fewer.value) == (Status.OK, periods - 1)
    if periods > 1:
        warned = streak(quarters(*falling(periods - 1)), periods=periods, warn_periods=periods - 1)
        assert warned.status is Status.WARN


@given(series_values, periods_st)
def test_a_fall_mirrored_is_a_rise(vals: list[Decimal], periods: int) -> None:
    fall = streak(quarters(*vals), periods=periods)
    rise = streak(quarters(*[-v for v in vals]), periods=periods, direction="rise")
    assert (fall.status, fall.value, fall.margin) == (rise.status, rise.value, rise.margin)


@given(series_values, periods_st)
def test_one_more_fall_extends_the_streak(vals: list[Decimal], periods: int) -> None:
    base = streak(quarters(*vals), periods=periods)
    if base.status is Status.UNKNOWN:
        return
    longer = streak(quarters(*vals, vals[-1] - 1), periods=periods)
    assert longer.value == base.value + 1  # type: ignore[operator]
    assert RANK[longer.status] >= RANK[base.status]


# -- through the engine and the command line ---------------------------------------------------

RULES = """\
[[rule]]
id = "funding.no-long-decline"
title = "教育经费不连续三个季度下降"
kind = "streak"
indicator = "education.expenditure"
periods = 3
warn_periods = 2
message = "{title}: {streak} falls in a row since {since}"
"""

ROWS = [
    {"indicator": "education.expenditure", "period": p, "value": v, "district": d}
    for d, vals in {"田家庵区": (100, 98, 97, 95), "谢家集区": (100, 101, 99, 98)}.items()
    for p, v in quarters(*vals, year=2023)
]


def test_a_rule_file_through_the_engine() -> None:
    result = check(RULES, ROWS, AFTER_2023, registry=make_registry(targetwatch_streak), timezone="Asia/Shanghai")
    got = {v.label_map["district"]: (v.status, v.message) for v in result.verdicts}
    assert got == {
        "田家庵区": (Status.BREACH, "教育经费不连续三个季度下降: 3 falls in a row since 2023-Q1"),
        "谢家集区": (Status.WARN, "教育经费不连续三个季度下降: 2 falls in a row since 2023-Q2"),
    }
    assert result.exit_code == 2


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with the rule file above, its data as CSV and a JSON Lines channel; returns
    its config. Only the installed ``streak`` entry point is loaded, no other plugin."""
    monkeypatch.setenv("TARGETWATCH_PLUGINS", "streak")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "funding.toml").write_text(RULES, encoding="utf-8")
    lines = ["indicator,period,district,value"] + [f"{r['indicator']},{r['period']},{r['district']},{r['value']}" for r in ROWS]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = tmp_path / "targetwatch.toml"
    config.write_text(
        textwrap.dedent(
            """\
            rules = ["rules"]
            timezone = "Asia/Shanghai"
            as_of = "2024-01-05"

            [[sources]]
            name = "bureau"
            type = "csv"
            path = "data.csv"

            [indicators."education.expenditure"]
            title = "教育经费"
            unit = "万元"

            [channels.log]
            type = "file"
            path = "notifications.jsonl"

            [alerting]
            notify = ["log"]
            """
        ),
        encoding="utf-8",
    )
    return config


def test_targetwatch_check_with_a_streak_rule(project: Path) -> None:
    config, tmp_path = project, project.parent
    result = CliRunner().invoke(cli, ["check", "-c", str(config), "--format", "json"])
    assert result.exit_code == 2, result.output
    doc = json.loads(result.stdout)
    verdicts = {v["labels"]["district"]: v for v in doc["verdicts"]}
    breach = verdicts["田家庵区"]
    assert (breach["status"], breach["kind"], breach["value"], breach["target"]) == ("BREACH", "streak", 3, 3)
    assert breach["details"]["run"][0] == ["2023-Q1", 100]
    assert verdicts["谢家集区"]["status"] == "WARN"
    sent = [json.loads(line) for line in (tmp_path / "notifications.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(sent) == 1 and "教育经费不连续三个季度下降" in sent[0]["text"]
    table = CliRunner().invoke(cli, ["check", "-c", str(config), "--dry-run"])
    assert "BREACH" in table.stdout and "3 falls in a row since 2023-Q1" in table.stdout


def test_validate_names_a_bad_streak_key(project: Path) -> None:
    bad = project.parent / "rules" / "funding.toml"
    bad.write_text(RULES.replace("warn_periods = 2", "warn_periods = 5"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "-c", str(project)])
    assert result.exit_code == 3
    assert "funding.toml:7: rule[0].warn_periods: rule 'funding.no-long-decline': expected fewer than periods (3), found 5" in result.stderr
