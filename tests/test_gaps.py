"""Gaps in a total's observations: a total missing a sub-period (or days its observations
cannot cover) is UNKNOWN, naming what is missing, unless what was observed already decides
(``minimum``, ``cap`` and ``progress``, ``gaps``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kindkit import judge

from targetwatch import Calendar, Engine, Status
from targetwatch.default_plugins.cap import CapKind
from targetwatch.default_plugins.gaps import (
    Gap,
    covered_in,
    missing,
    ordinals_within,
    runs,
    starting_within,
)
from targetwatch.default_plugins.minimum import MinimumKind
from targetwatch.default_plugins.pace import observations_in
from targetwatch.default_plugins.progress import ProgressKind
from targetwatch.errors import ConfigError
from targetwatch.grains import Term
from targetwatch.i18n import use_locale
from targetwatch.model import Judgement, Rule
from targetwatch.plugins import Registry
from targetwatch.testing import make_rule, series

CAL = Calendar("Asia/Shanghai")
D = Decimal
MINIMUM, CAP, PROGRESS = MinimumKind(), CapKind(), ProgressKind()
H2_MONTHS = ["2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12"]
RANK = {Status.OK: 0, Status.WARN: 1, Status.BREACH: 2}


def labels(cal: Calendar, grain: str, within: str) -> list[str]:
    return [cal.period(grain, o).label for o in ordinals_within(cal, grain, cal.parse(within))]


def obs(*periods: str, cal: Calendar = CAL) -> list[tuple[Any, Decimal]]:
    return [(cal.parse(p), D(1)) for p in periods]


def named(gap: Gap | None) -> list[str]:
    return [] if gap is None else gap.named


def minimum(params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str, cal: Calendar = CAL) -> Judgement:
    return judge(MINIMUM, {"indicator": "events", "period": "2023-H2", **params}, rows, as_of, cal=cal)


def cap(params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str) -> Judgement:
    return judge(CAP, {"indicator": "events", "period": "2023-H2", "aggregate": "sum", **params}, rows, as_of, cal=CAL)


# The sub-periods expected ---------------------------------------------------------------------


def test_the_periods_of_a_grain_lying_within_a_period() -> None:
    assert labels(CAL, "month", "2023-H2") == H2_MONTHS
    assert labels(CAL, "quarter", "2023") == ["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"]
    assert labels(CAL, "month", "2023-04..2023-09") == ["2023-04", "2023-05", "2023-06", "2023-07", "2023-08", "2023-09"]
    # Only weeks entirely inside: 2023-10 starts on a Sunday and ends on a Tuesday.
    assert labels(CAL, "week", "2023-10") == ["2023-W40", "2023-W41", "2023-W42", "2023-W43"]
    assert labels(CAL, "half", "2023-Q1") == []
    assert labels(CAL, "month span", "2023") == []  # spans overlap: they never tile a period


TERMS = Calendar("Asia/Shanghai", terms=[Term("2022-autumn", dt.date(2022, 9, 1), dt.date(2023, 1, 16)),
                                         Term("2023-spring", dt.date(2023, 2, 13), dt.date(2023, 7, 8)),
                                         Term("2023-autumn", dt.date(2023, 9, 1), dt.date(2024, 1, 16))])


def test_terms_within_a_year_are_the_declared_ones_and_the_holidays_are_no_gap() -> None:
    assert labels(TERMS, "term", "2023") == ["2023-spring"]
    assert labels(TERMS, "term", "2022-09..2024-01") == ["2022-autumn", "2023-spring", "2023-autumn"]
    both = obs("2022-autumn", "2023-spring", cal=TERMS)
    assert missing(TERMS, TERMS.parse("2022-09..2023-07"), both, closed=True, aggregate="sum") is None
    one = obs("2022-autumn", cal=TERMS)
    assert named(missing(TERMS, TERMS.parse("2022-09..2023-07"), one, closed=True, aggregate="sum")) == ["2023-spring"]


# What is missing --------------------------------------------------------------------------------


def test_a_closed_period_misses_every_sub_period_without_an_observation() -> None:
    h2 = CAL.parse("2023-H2")
    gap = missing(CAL, h2, obs("2023-07", "2023-09", "2023-10"), closed=True, aggregate="sum")
    assert gap == Gap(["2023-08", "2023-11..2023-12"], 3, 6)
    assert missing(CAL, h2, obs(*H2_MONTHS), closed=True, aggregate="sum") is None


def test_an_open_period_misses_only_what_lies_before_its_newest_observation() -> None:
    h2 = CAL.parse("2023-H2")
    assert missing(CAL, h2, obs("2023-07", "2023-08"), closed=False, aggregate="sum") is None  # not reported yet
    assert missing(CAL, h2, obs("2023-07", "2023-09"), closed=False, aggregate="mean") == Gap(["2023-08"], 2, 3)
    assert named(missing(CAL, h2, obs("2023-08", "2023-09"), closed=False, aggregate="max")) == ["2023-07"]


def test_latest_count_and_a_figure_for_the_whole_period_have_no_gap() -> None:
    h2 = CAL.parse("2023-H2")
    assert missing(CAL, h2, obs("2023-07", "2023-09"), closed=True, aggregate="count") is None
    assert missing(CAL, h2, obs("2023-07", "2023-12"), closed=True, aggregate="latest") is None
    assert missing(CAL, h2, obs("2023-07", "2023-09"), closed=False, aggregate="latest") is None
    # Closed without its last month, the newest is not the half's latest: what follows it is named.
    assert missing(CAL, h2, obs("2023-07", "2023-09"), closed=True, aggregate="latest") == Gap(["2023-10..2023-12"], 2, 6)
    assert missing(CAL, h2, [(h2, D(5))], closed=True, aggregate="sum") is None


def test_days_the_observations_cannot_cover_are_missing_once_closed() -> None:
    october = CAL.parse("2023-10")
    weeks = obs("2023-W40", "2023-W41", "2023-W42", "2023-W43")
    gap = missing(CAL, october, weeks, closed=True, aggregate="sum")
    assert gap == Gap(["2023-10-01", "2023-10-30..2023-10-31"], 4, 4, ["2023-W40..2023-W43"])
    # While open, the days before its first week are missing already: no week can ever cover them.
    assert named(missing(CAL, october, weeks[1:], closed=False, aggregate="sum")) == ["2023-10-01", "2023-W40"]
    # The newest is all that counts for latest: its grain cannot reach the ends, and no day is named.
    assert missing(CAL, october, weeks[:3], closed=True, aggregate="latest") == Gap(["2023-W43"], 3, 4)
    assert missing(CAL, october, weeks, closed=True, aggregate="latest") is None
    fiscal = Calendar("Asia/Shanghai", fiscal_year_start=4)
    assert named(missing(fiscal, fiscal.parse("FY2023"), obs("2023-H2"), closed=True, aggregate="sum")) == [
        "2023-04-01..2023-06-30", "2024-01-01..2024-03-31"]


@given(st.sets(st.integers(0, 11), min_size=1), st.booleans(), st.sampled_from(["sum", "mean", "max", "min"]))
def test_observed_and_missing_are_the_expected_range_exactly(present: set[int], closed: bool, how: str) -> None:
    year = CAL.parse("2023")
    months = [CAL.period("month", 2023 * 12 + m) for m in sorted(present)]
    gap = missing(CAL, year, [(p, D(1)) for p in months], closed=closed, aggregate=how)
    last = 11 if closed else max(present)
    absent = set(range(last + 1)) - present
    assert (gap is None) == (not absent)
    if gap is not None:
        assert (gap.observed, gap.expected) == (len(present), last + 1)
        spelled = {CAL.parse(m).ordinal - 2023 * 12 for r in gap.named for m in r.split("..")}
        assert spelled <= absent and min(absent) in spelled and max(absent) in spelled
        assert len(gap.named) == len(runs([CAL.period("month", 2023 * 12 + m) for m in sorted(absent)]))


# Through the kinds ------------------------------------------------------------------------------


def test_a_closed_half_missing_months_is_unknown_naming_them() -> None:
    rows = [("2023-07", 6200), ("2023-08", 7900), ("2023-09", 8400), ("2023-10", 2100)]
    j = minimum({"min": 50000}, rows, "2024-01-05")
    assert j.status is Status.UNKNOWN and j.value is None
    assert j.message == "events in 2023-H2 is not judged: no observation for 2023-11..2023-12 (4 of 6 observed)"
    assert j.details["missing"] == ["2023-11..2023-12"] and j.details["expected_observations"] == 6
    assert j.details["total"] == D(24600) and j.period is not None and j.period.label == "2023-H2"
    assert minimum({"min": 50000, "gaps": "ignore"}, rows, "2024-01-05").status is Status.BREACH
    with use_locale("zh-CN"):
        zh = minimum({"min": 50000}, rows, "2024-01-05").message
    assert zh == "events 2023-H2 无法判定，以下期间没有观测值：2023-11..2023-12（应有 6 个，实有 4 个）"


def test_what_is_observed_may_already_decide() -> None:
    rows = [("2023-07", 30000), ("2023-09", 25000)]
    assert minimum({"min": 50000}, rows, "2024-01-05").status is Status.OK  # a sum can only grow
    assert minimum({"min": 20000, "aggregate": "max"}, rows, "2024-01-05").status is Status.OK
    assert minimum({"min": 26000, "aggregate": "min"}, rows, "2024-01-05").status is Status.BREACH  # a min only falls
    # At the minimum but in the warning band: the missing month could lift it out.
    assert minimum({"min": 50000, "warn_below": 60000}, rows, "2024-01-05").status is Status.UNKNOWN
    assert minimum({"min": 20000, "aggregate": "mean"}, rows, "2024-01-05").status is Status.UNKNOWN
    assert cap({"max": 50000}, rows, "2024-01-05").status is Status.BREACH  # already above the ceiling
    assert cap({"max": 20000, "aggregate": "max"}, rows, "2024-01-05").status is Status.BREACH
    assert cap({"max": 60000}, rows, "2024-01-05").status is Status.UNKNOWN
    assert cap({"max": 60000, "warn_at": 50000}, rows, "2024-01-05").status is Status.UNKNOWN
    assert cap({"max": 60000, "gaps": "ignore"}, rows, "2024-01-05").status is Status.OK
    j = cap({"max": 60000}, rows, "2024-01-05")
    assert j.details["max"] == D(60000) and j.details["missing"] == ["2023-08", "2023-10..2023-12"]


def test_a_minimum_below_the_minimum_stays_below() -> None:
    rows = [("2023-07", 50), ("2023-09", 150)]
    assert minimum({"min": 100, "aggregate": "min"}, rows, "2023-10-10").status is Status.WARN  # open: still time, but only lower
    assert minimum({"min": 100, "aggregate": "min"}, rows, "2024-01-05").status is Status.BREACH
    assert minimum({"min": 40, "aggregate": "min"}, rows, "2024-01-05").status is Status.UNKNOWN  # a missing month could be lower


def test_a_negative_value_takes_the_exception_away() -> None:
    rows = [("2023-07", 60000), ("2023-09", -1000)]
    assert minimum({"min": 50000}, rows, "2024-01-05").status is Status.UNKNOWN  # the missing months could be negative too
    assert cap({"max": 50000}, rows, "2024-01-05").status is Status.UNKNOWN
    assert minimum({"min": 50000, "aggregate": "max"}, rows, "2024-01-05").status is Status.OK  # a max still only grows


def test_an_open_period_is_judged_on_pace_unless_a_month_before_the_newest_is_missing() -> None:
    assert minimum({"min": 50000}, [("2023-07", 6000), ("2023-08", 6000)], "2023-10-16").status is Status.WARN
    j = minimum({"min": 50000}, [("2023-07", 6000), ("2023-09", 6000)], "2023-10-16")
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-08"]
    assert j.message == "events in 2023-H2 is not judged: no observation for 2023-08 (2 of 3 so far)"
    assert "expected" not in j.details and "forecast" not in j.details  # pace figures of a partial total
    assert minimum({"min": 50000}, [("2023-07", 16000), ("2023-09", 16000)], "2023-10-16").status is Status.OK  # on pace already
    hopeless = {"min": 50000, "hopeless_at": 2}
    assert minimum(hopeless, [("2023-07", 1000), ("2023-08", 1000)], "2023-10-16").status is Status.BREACH
    assert minimum(hopeless, [("2023-07", 1000), ("2023-09", 1000)], "2023-10-16").status is Status.UNKNOWN


def test_an_open_cap_above_its_ceiling_stands_and_on_course_to_exceed_does_not() -> None:
    assert cap({"max": 10000}, [("2023-07", 6000), ("2023-09", 6000)], "2023-10-16").status is Status.BREACH
    assert cap({"max": 20000}, [("2023-07", 6000), ("2023-08", 6000)], "2023-10-16").status is Status.WARN  # on course to exceed
    assert cap({"max": 20000}, [("2023-07", 6000), ("2023-09", 6000)], "2023-10-16").status is Status.UNKNOWN


def test_a_rolling_window_with_a_month_missing_is_unknown() -> None:
    rows = [(f"2023-{m:02d}", 100) for m in (4, 5, 7, 8, 9)]
    j = minimum({"min": 600, "period": "last 6 months"}, rows, "2023-10-16")
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-06"]
    assert minimum({"min": 500, "period": "last 6 months"}, rows, "2023-10-16").status is Status.OK
    assert minimum({"min": 600, "period": "last 6 months"}, [*rows, ("2023-06", 100)], "2023-10-16").status is Status.OK


def test_a_window_its_observations_do_not_divide_is_unknown_naming_the_days() -> None:
    # As of 2023-09-10 the last 6 months are 2023-03..2023-08: of the quarters, only Q2 lies inside.
    quarters = [("2023-Q1", 10), ("2023-Q2", 40), ("2023-Q3", 10)]
    j = minimum({"min": 100, "period": "last 6 months"}, quarters, "2023-09-10")
    assert j.status is Status.UNKNOWN
    assert j.message == ("events in 2023-03..2023-08 is not judged: the observations inside it (2023-Q2) "
                         'do not cover 2023-03-01..2023-03-31, 2023-07-01..2023-08-31 (gaps = "ignore" judges them as they are)')
    assert j.details["missing"] == ["2023-03-01..2023-03-31", "2023-07-01..2023-08-31"] and "expected_observations" not in j.details
    weekly = [(f"2023-W{w}", 10) for w in (40, 41, 42, 43)]
    assert minimum({"min": 100, "period": "2023-10"}, weekly, "2023-11-05").status is Status.UNKNOWN
    assert minimum({"min": 100, "period": "2023-10", "gaps": "ignore"}, weekly, "2023-11-05").status is Status.BREACH
    # A year from ISO weeks: 2023-01-01 belongs to 2022-W52, from the first week on.
    j = minimum({"min": 100, "period": "current year"}, [(f"2023-W{w:02d}", 1) for w in range(1, 13)], "2023-03-30")
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-01-01"]
    assert "the observations inside it (2023-W01..2023-W12) do not cover 2023-01-01 (" in j.message
    odd = minimum({"min": 100, "period": "current year"}, [(f"2023-W{w:02d}", 1) for w in range(1, 24, 2)], "2023-06-30")
    assert "(2023-W01, 2023-W03, 2023-W05, 2023-W07 and 8 more) do not cover 2023-01-01, 2023-W02, 2023-W04, 2023-W06 and 8 more gaps" in odd.message


def test_a_long_list_of_gaps_is_cut_short() -> None:
    rows = [(f"2023-{m:02d}", 1) for m in (1, 3, 5, 7, 9, 11)]
    j = minimum({"min": 100, "period": "2023"}, rows, "2024-01-05")
    assert "no observation for 2023-02, 2023-04, 2023-06, 2023-08 and 2 more gaps (6 of 12 observed)" in j.message
    assert j.details["missing"] == ["2023-02", "2023-04", "2023-06", "2023-08", "2023-10", "2023-12"]
    with use_locale("zh-CN"):
        zh = minimum({"min": 100, "period": "2023"}, rows, "2024-01-05").message
    assert "2023-02，2023-04，2023-06，2023-08 等（另有 2 处）（应有 12 个，实有 6 个）" in zh


def test_a_month_reported_late_is_a_gap_until_it_is_available(tmp_path: Path) -> None:
    rows = "".join(f"events,2023-{m:02d},A,9000,{'2023-12-20' if m == 9 else f'2023-{m + 1:02d}-05'}\n" for m in range(7, 12))
    (tmp_path / "data.csv").write_text("indicator,period,district,value,reported_at\n" + rows, encoding="utf-8")
    (tmp_path / "rules.toml").write_text(
        '[[rule]]\nid = "events"\nkind = "minimum"\nindicator = "events"\nmin = 50000\nperiod = "2023-H2"\n', encoding="utf-8")
    (tmp_path / "targetwatch.toml").write_text(
        'rules = ["rules.toml"]\ntimezone = "Asia/Shanghai"\n[[sources]]\nname = "d"\ntype = "csv"\npath = "data.csv"\n'
        '[indicators.events]\n', encoding="utf-8")
    engine = Engine.from_config(tmp_path / "targetwatch.toml", registry=Registry(entry_points=False))
    early = engine.check(as_of="2023-12-10").verdicts[0]
    assert early.status is Status.UNKNOWN and early.details["missing"] == ["2023-09"]
    assert engine.check(as_of="2023-12-21").verdicts[0].status is Status.WARN  # 45,000 by 20 December: behind pace


def test_gaps_is_a_rule_key_with_two_values() -> None:
    with pytest.raises(ConfigError, match="gaps"):
        make_rule(MINIMUM, {"indicator": "events", "min": 1, "gaps": "zero"}, CAL)
    rule: Rule = make_rule(CAP, {"indicator": "events", "max": 1, "period": "2023", "aggregate": "sum", "gaps": "ignore"}, CAL)
    assert rule.params.gaps == "ignore"


# progress: the periods starting within its window of days ----------------------------------------

YEAR = {"indicator": "places", "target": 1200, "start": "2023-01-01", "deadline": "2023-12-31"}


def progress(params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str) -> Judgement:
    return judge(PROGRESS, {**YEAR, **params}, rows, as_of, cal=CAL)


def test_the_periods_starting_within_a_window_of_days() -> None:
    def names(grain: str, first: str, last: str) -> list[str]:
        days = starting_within(CAL, grain, dt.date.fromisoformat(first), dt.date.fromisoformat(last))
        return [CAL.period(grain, o).label for o in days]

    assert names("month", "2023-01-01", "2023-12-31") == [f"2023-{m:02d}" for m in range(1, 13)]
    assert names("month", "2023-07-01", "2023-09-01") == ["2023-07", "2023-08", "2023-09"]  # September starts on the deadline
    assert names("quarter", "2023-02-15", "2023-12-31") == ["2023-Q2", "2023-Q3", "2023-Q4"]
    assert names("term", "2023-01-01", "2023-12-31") == []


def test_progress_with_a_month_missing_before_the_newest_is_unknown() -> None:
    rows = [(f"2023-{m:02d}", 50) for m in (1, 2, 4, 5, 6, 7, 8, 9)]  # March missing; 400 done, ~950 expected
    j = progress({}, rows, "2023-10-16")
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-03"] and j.period is None
    assert j.message == "places from 2023-01-01 to 2023-12-31 is not judged: no observation for 2023-03 (8 of 9 so far)"
    assert progress({"gaps": "ignore"}, rows, "2023-10-16").status is Status.WARN
    # Not yet reported is no gap: September missing while October is under way.
    assert progress({}, [(f"2023-{m:02d}", 50) for m in range(1, 9)], "2023-10-16").status is Status.WARN
    assert progress({}, [(m, 400) for m, _ in rows], "2023-10-16").status is Status.OK  # on pace whatever March was
    assert progress({"hopeless_at": 2}, [(m, 10) for m, _ in rows], "2023-10-16").status is Status.UNKNOWN
    assert progress({"hopeless_at": 2, "gaps": "ignore"}, [(m, 10) for m, _ in rows], "2023-10-16").status is Status.BREACH


def test_progress_after_the_deadline_needs_every_period_that_has_ended() -> None:
    rows = [(f"2023-{m:02d}", 90) for m in range(1, 12)]  # December never reported
    j = progress({}, rows, "2024-01-05")
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-12"]
    assert j.message.endswith("(11 of 12 observed)")
    assert progress({"gaps": "ignore"}, rows, "2024-01-05").status is Status.BREACH
    assert progress({}, [*rows, ("2023-12", 90)], "2024-01-05").status is Status.BREACH
    # The deadline has passed, but a month that started within the window has not ended yet.
    assert progress({"deadline": "2023-12-15"}, rows, "2023-12-20").status is Status.BREACH
    seed = {"target": 3000, "start": "2023-07-01", "deadline": "2023-09-01"}
    assert progress(seed, [("2023-07", 1000), ("2023-08", 1000)], "2023-09-05").status is Status.BREACH
    assert progress(seed, [("2023-07", 1000), ("2023-08", 1000)], "2023-10-05").status is Status.UNKNOWN  # September has ended


def test_running_totals_only_lack_what_follows_the_newest() -> None:
    running = [("2023-03", 100), ("2023-06", 300), ("2023-09", 500)]
    j = progress({"cumulative": True}, running, "2024-01-05")
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-10..2023-12"]
    assert progress({"cumulative": True}, [*running, ("2023-12", 1100)], "2024-01-05").status is Status.BREACH
    assert progress({"cumulative": True}, running, "2023-12-20").status is not Status.UNKNOWN  # open: the newest counts


def test_progress_counts_a_quarter_and_its_own_months_once() -> None:
    rows = [("2023-Q1", 300), ("2023-01", 100), ("2023-02", 100), ("2023-03", 100), ("2023-04", 100)]
    j = progress({"target": 400}, rows, "2023-05-10")
    assert (j.status, j.value, j.details["observations"]) == (Status.OK, D(400), 4)  # not 700
    assert progress({"target": 400}, [("2023-H1", 250), ("2023-Q3", 100)], "2023-10-16").value == D(350)


def test_progress_with_nothing_in_its_window_is_judged_as_before() -> None:
    window = {"target": 10, "start": "2023-03-01", "deadline": "2023-06-30"}
    assert progress(window, [("2023-01", 5)], "2023-08-15").status is Status.BREACH  # 0 done
    assert progress(window, [("2023-08", 1)], "2023-09-05").status is Status.BREACH


def test_running_totals_that_fall_take_the_exception_away() -> None:
    rising = [("2023-01", 800), ("2023-03", 1300)]
    assert progress({"cumulative": True}, rising, "2023-04-20").status is Status.OK  # reached; February does not matter
    falling = [("2023-01", 1300), ("2023-03", 1250)]
    assert progress({"cumulative": True}, falling, "2023-04-20").status is Status.OK  # only what follows the newest counts
    assert progress({"cumulative": True}, falling, "2024-01-05").status is Status.UNKNOWN  # April..December never reported


def test_progress_of_mixed_grains_is_counted_in_the_finest() -> None:
    mixed = [("2023-H1", 23), ("2023-Q3", 6)]
    j = progress({"target": 40}, mixed, "2024-01-05")  # the seed's fitness points, Q4 never reported
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-Q4"] and j.message.endswith("(3 of 4 observed)")
    assert progress({"target": 40}, mixed, "2023-10-16").status is Status.WARN
    assert progress({"target": 40}, [("2023-01", 5), ("2023-Q2", 6), ("2023-08", 1)], "2023-10-16").details["missing"] == [
        "2023-02..2023-03", "2023-07"]
    # Two months cover the ISO week between them (2023-W05: 30 January to 5 February) ...
    w01, w09 = CAL.parse("2023-W01").ordinal, CAL.parse("2023-W09").ordinal
    months = [CAL.parse("2023-01"), CAL.parse("2023-02")]
    assert covered_in(CAL, "week", months, range(w01, w09 + 1)) == set(range(w01, w09))
    # ... but a week overlapping a month it follows is left out (counting 27-28 February twice
    # is no answer), so its days in March are missing, named by the week.
    weeks = [("2023-01", 1), ("2023-02", 1)] + [(f"2023-W{w:02d}", 1) for w in range(9, 27)]
    j = progress({"deadline": "2023-06-30"}, weeks, "2023-07-10")
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-W09"]


# Properties -------------------------------------------------------------------------------------

amounts = st.decimals(min_value=D(0), max_value=D(100000), places=0, allow_nan=False, allow_infinity=False)
as_ofs = st.sampled_from(["2023-07-20", "2023-09-02", "2023-10-16", "2023-12-31", "2024-01-05"])
#: What a missing month turns out to be: the extremes are what could overturn a verdict.
fills = st.lists(st.sampled_from([D(0), D(1), D(100000)]), min_size=9, max_size=9)


@given(st.lists(amounts, min_size=6, max_size=6), amounts, as_ofs, st.sampled_from(["sum", "mean", "max", "min", "latest"]))
def test_with_nothing_missing_gaps_change_nothing(values: list[Decimal], bound: Decimal, as_of: str, how: str) -> None:
    visible = [r for r in zip(H2_MONTHS, values, strict=True) if r[0] < as_of[:7]]  # months not yet begun are not reported
    judged = [(minimum, {"min": bound, "aggregate": how})]
    if how in ("sum", "mean", "max"):
        judged.append((cap, {"max": bound, "aggregate": how}))
    for kind, params in judged:
        assert kind({**params, "gaps": "unknown"}, visible, as_of) == kind({**params, "gaps": "ignore"}, visible, as_of)


@settings(max_examples=400)
@given(st.lists(st.one_of(st.none(), amounts), min_size=6, max_size=6), fills, amounts,
       st.sampled_from(["sum", "max", "mean", "min"]), st.sampled_from([None, "warn"]))
def test_a_verdict_given_despite_a_gap_holds_whatever_fills_it(values: list[Decimal | None], fill: list[Decimal], bound: Decimal,
                                                               how: str, warn: str | None) -> None:
    """Soundness: a closed half judged with months missing is either UNKNOWN or the verdict the
    complete half gets, whatever non-negative values the missing months turn out to have."""
    partial = [(m, v) for m, v in zip(H2_MONTHS, values, strict=True) if v is not None]
    complete = [(m, v if v is not None else f) for m, v, f in zip(H2_MONTHS, values, fill[:6], strict=True)]
    judged: list[tuple[Any, dict[str, Any]]] = [(minimum, {"min": bound, "aggregate": how, **({"warn_below": bound * 2} if warn else {})})]
    if how != "min":
        judged.append((cap, {"max": bound, "aggregate": how, **({"warn_at": bound / 2} if warn else {})}))
    for kind, params in judged:
        before = kind(params, partial, "2024-01-05")
        after = kind(params, complete, "2024-01-05")
        assert before.status in (Status.UNKNOWN, after.status), (params, partial, complete)


@settings(max_examples=300)
@given(st.lists(st.one_of(st.none(), amounts), min_size=9, max_size=9), fills, amounts,
       st.sampled_from(["2023-10-16", "2024-01-05"]), st.booleans())
def test_a_progress_verdict_given_despite_a_gap_holds_whatever_fills_it(values: list[Decimal | None], fill: list[Decimal],
                                                                        target: Decimal, as_of: str, hopeless: bool) -> None:
    """Soundness, as for minimum and cap: what the missing months turn out to be cannot change a
    verdict given despite them. While the window is open, months after the newest reported
    one are not yet due, and stay unreported."""
    months = [f"2023-{m:02d}" for m in range(1, 10)]
    partial = [(m, v) for m, v in zip(months, values, strict=True) if v is not None]
    due = len(months) if as_of > "2023-09-30" else max((i + 1 for i, v in enumerate(values) if v is not None), default=0)
    complete = [(m, v if v is not None else f) for m, v, f in zip(months[:due], values, fill, strict=False)]
    params = {"target": target + 1, "deadline": "2023-09-30", **({"hopeless_at": 2} if hopeless else {})}
    before, after = progress(params, partial, as_of), progress(params, complete, as_of)
    assert before.status in (Status.UNKNOWN, after.status)


@given(st.lists(st.one_of(st.none(), amounts), min_size=6, max_size=6), amounts, amounts, amounts, as_ofs)
def test_monotone_in_a_value_unless_unknown(values: list[Decimal | None], a: Decimal, b: Decimal, bound: Decimal, as_of: str) -> None:
    """With the default ``gaps``, raising one month's value never makes a minimum worse (nor a
    cap better) among the verdicts that are not UNKNOWN."""
    lo, hi = sorted((a, b))
    rows = [(m, v) for m, v in zip(H2_MONTHS, values, strict=True) if v is not None and m < as_of[:7]]
    month = H2_MONTHS[0]
    with_lo = [(m, v) for m, v in rows if m != month] + [(month, lo)]
    with_hi = [(m, v) for m, v in rows if m != month] + [(month, hi)]
    with_lo.sort()
    with_hi.sort()
    low, high = minimum({"min": bound}, with_lo, as_of), minimum({"min": bound}, with_hi, as_of)
    if Status.UNKNOWN not in (low.status, high.status):
        assert RANK[high.status] <= RANK[low.status]
    low, high = cap({"max": bound}, with_lo, as_of), cap({"max": bound}, with_hi, as_of)
    if Status.UNKNOWN not in (low.status, high.status):
        assert RANK[high.status] >= RANK[low.status]


# Mixed grains: combined without overlap, nothing left out that fits ------------------------------


def labelled(rows: list[tuple[str, Any]], period: str) -> list[str]:
    return [p.label for p, _v in observations_in(series("x", rows, None, CAL), CAL.parse(period))]


def test_a_quarter_and_the_months_after_it_make_a_half() -> None:
    rows = [("2023-Q3", 30000), ("2023-10", 9000), ("2023-11", 9000), ("2023-12", 9000)]
    assert labelled(rows, "2023-H2") == ["2023-Q3", "2023-10", "2023-11", "2023-12"]
    j = minimum({"min": 50000}, rows, "2024-01-05")
    assert (j.status, j.value) == (Status.OK, D(57000))
    assert minimum({"min": 60000}, rows, "2024-01-05").status is Status.BREACH  # complete: a miss, not a gap
    j = minimum({"min": 60000}, rows[:-1], "2024-01-05")
    assert j.status is Status.UNKNOWN and j.message.endswith("no observation for 2023-12 (5 of 6 observed)")


def test_a_coarse_figure_gives_way_only_to_the_finer_ones_that_tile_it() -> None:
    assert labelled([("2023-Q1", 9), ("2023-01", 3), ("2023-02", 3), ("2023-03", 3)], "2023-H1") == ["2023-01", "2023-02", "2023-03"]
    assert labelled([("2023-H1", 20), ("2023-01", 3), ("2023-02", 3)], "2023") == ["2023-H1"]
    # A week across two months overlaps both: left out, not counted twice.
    assert labelled([("2023-01", 3), ("2023-W05", 1), ("2023-02", 3)], "2023-Q1") == ["2023-01", "2023-02"]
    nested = [("2023-H1", 20), ("2023-Q1", 9), ("2023-Q2", 11), ("2023-04", 3), ("2023-05", 4), ("2023-06", 4)]
    assert labelled(nested, "2023-H1") == ["2023-H1"]  # the figure for exactly the period
    assert labelled(nested, "2023") == ["2023-Q1", "2023-04", "2023-05", "2023-06"]  # the freshest that tile the half


grain_rows = st.lists(st.sampled_from([f"2023-{m:02d}" for m in range(1, 13)] + [f"2023-Q{q}" for q in range(1, 5)]
                                      + ["2023-H1", "2023-H2"]), unique=True)


@given(grain_rows)
def test_combined_observations_never_overlap_and_cover_at_least_any_one_grain(labels_: list[str]) -> None:
    rows = [(label, 1) for label in labels_]
    picked = [CAL.parse(label) for label in labelled(rows, "2023")]
    assert set(p.label for p in picked) <= set(labels_)
    for a, b in zip(picked, picked[1:]):
        assert a.end <= b.start  # sorted, and no day counted twice
    periods = [CAL.parse(label) for label in labels_]
    best_single_grain = max((sum(p.days for p in periods if p.grain == g) for g in {p.grain for p in periods}), default=0)
    assert sum(p.days for p in picked) >= best_single_grain
