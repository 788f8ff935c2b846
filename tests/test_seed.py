"""The seed example's verdicts, pinned and checked by hand against
examples/district-education/observations.csv and the report's figures (as of 2023-10-16,
the config's pinned as_of, in Asia/Shanghai)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from targetwatch.engine import CheckResult, Engine
from targetwatch.model import Status, Verdict
from targetwatch.plugins import Registry

#: rule id -> status, with the hand computation behind it
EXPECTED = {
    # 17,192 (2023-H1) against 13,909 (2022-H1): +23.6 %, at least the minimum 0 %.
    "funding.expenditure-yoy": Status.OK,
    # 720 secured in 2023-H1, within 2023: exactly the minimum 720 (inclusive).
    "funding.city-surcharge": Status.OK,
    # 0 (2023-07) + 3,240 (2023-08) = 3,240 of 3,240 by 2023-09-01.
    "places.new-school-places": Status.OK,
    # 1 on 2023-08-28, before the deadline 2023-09-01.
    "places.longhu-campus": Status.OK,
    # Still 0 on 2023-09-30; the deadline 2023-12-31 is 76 days away, within warn_days 90.
    "places.linchang-school": Status.WARN,
    # 800 in 2023-H1, within 2023: exactly the minimum 800.
    "places.childcare": Status.OK,
    # 97.2 % (2023-H1) ≥ 95 %.
    "preschool.enrolment-rate": Status.OK,
    # 15,058 / 16,002 = 94.1 % (2023-spring) ≥ 90 %.
    "preschool.inclusive-coverage": Status.OK,
    # 64 / 64 = 100 % ≥ 100 % (inclusive).
    "preschool.extended-hours": Status.OK,
    # 4.95 % in 2023-autumn > the cap 4.89 % (illustrative data, a deliberate breach).
    "schools.private-share-cap": Status.BREACH,
    # 60 % passes the minimum 50 % but is below the warning level 70 %.
    "schools.group-members": Status.WARN,
    # 6,200 + 7,900 + 8,400 + 2,100 = 24,600 so far; pace 50,000 × 107/184 = 29,076: behind, open.
    "sport.events-h2": Status.WARN,
    # 23 + 6 = 29; pace 40 × 288/365 = 31.56 by 2023-10-16: behind, deadline not reached.
    "sport.fitness-points": Status.WARN,
    # Newest data is for 2023-10, still open: 0 days old ≤ 45 d.
    "sport.events-data-fresh": Status.OK,
    # 32,700 is the most of the 7 districts in 2023-H1.
    "elderly.learners-rank": Status.OK,
    # Newest data 2023-H1 ended with 2023-06-30: 107 days before 2023-10-16 > 100 d.
    "elderly.learners-data-fresh": Status.BREACH,
    # 24 / 72 = 33.3 % ≥ 30 %.
    "teachers.rising-star-share": Status.OK,
    # 24 is the most of the 7 districts (the city total 淮南市 excluded).
    "teachers.rising-star-rank": Status.OK,
}


@pytest.fixture(scope="module")
def seed_result(seed_config: Path) -> CheckResult:
    return Engine.from_config(seed_config, registry=Registry(entry_points=False)).check()


@pytest.fixture(scope="module")
def verdicts(seed_result: CheckResult) -> dict[str, Verdict]:
    out = {v.rule: v for v in seed_result.verdicts}
    assert len(out) == len(seed_result.verdicts), "one verdict per rule: each watches one district"
    return out


def test_every_rule_has_the_expected_status(verdicts: dict[str, Verdict]) -> None:
    assert {rule: v.status for rule, v in verdicts.items()} == EXPECTED


def test_summary_and_exit_code(seed_result: CheckResult) -> None:
    assert str(seed_result.as_of) == "2023-10-16 00:00:00+08:00"
    assert seed_result.problems == ()
    assert seed_result.summary == {"OK": 12, "WARN": 4, "BREACH": 2, "UNKNOWN": 0, "ERROR": 0}
    assert seed_result.exit_code == 2


def test_every_verdict_is_for_the_district(verdicts: dict[str, Verdict]) -> None:
    assert {v.labels for v in verdicts.values()} == {(("district", "田家庵区"),)}


def test_growth_is_the_reports_23_6_percent(verdicts: dict[str, Verdict]) -> None:
    v = verdicts["funding.expenditure-yoy"]
    assert v.value is not None
    assert round(v.value, 6) == round(Decimal(17192) / Decimal(13909) - 1, 6) == Decimal("0.236034")
    assert round(v.value, 3) == Decimal("0.236")  # "同比增长23.6%"
    assert (str(v.period), v.details["base_period"], v.details["current"], v.details["base"]) == ("2023-H1", "2022-H1", 17192, 13909)
    assert v.unit == "%" and v.target == 0


def test_values_checked_by_hand(verdicts: dict[str, Verdict]) -> None:
    def values(rule: str) -> tuple[Decimal | None, Decimal | None]:
        return verdicts[rule].value, verdicts[rule].target

    assert values("funding.city-surcharge") == (720, 720)
    assert values("places.new-school-places") == (3240, 3240)
    assert values("places.childcare") == (800, 800)
    assert values("preschool.enrolment-rate") == (Decimal("0.972"), Decimal("0.95"))
    coverage, _ = values("preschool.inclusive-coverage")
    assert coverage is not None and abs(coverage - Decimal(15058) / Decimal(16002)) < Decimal("1e-9")
    assert values("preschool.extended-hours") == (1, 1)
    assert values("schools.private-share-cap") == (Decimal("0.0495"), Decimal("0.0489"))
    assert values("schools.group-members") == (Decimal("0.6"), Decimal("0.5"))
    total, expected = values("sport.events-h2")
    assert total == 24600 and expected is not None
    assert abs(expected - Decimal(50000 * 107) / 184) < Decimal("0.01")  # 107 of H2's 184 days elapsed
    done, pace = values("sport.fitness-points")
    assert done == 29 and pace is not None and abs(Fraction(pace) - Fraction(40 * 288, 365)) < Fraction(1, 10**5)
    assert values("sport.events-data-fresh")[0] == 0
    assert values("elderly.learners-data-fresh") == (107, 100)
    share, _ = values("teachers.rising-star-share")
    assert share is not None and abs(share - Decimal(1) / 3) < Decimal("1e-9")
    assert values("elderly.learners-rank") == (1, 1) and values("teachers.rising-star-rank") == (1, 1)
    assert verdicts["elderly.learners-rank"].details["peers_count"] == 7
    assert verdicts["teachers.rising-star-rank"].details["peers_count"] == 7  # 淮南市 is not a peer
    assert verdicts["places.linchang-school"].details["days_left"] == 76


def test_the_user_message_template_is_used(verdicts: dict[str, Verdict]) -> None:
    assert verdicts["preschool.inclusive-coverage"].message == "普惠性幼儿园覆盖率 94.1% (2023-spring), 目标 ≥ 90%"


def test_after_the_deadlines_being_behind_is_a_miss(seed_config: Path) -> None:
    later = Engine.from_config(seed_config, registry=Registry(entry_points=False)).check(as_of="2024-01-15")
    statuses = {v.rule: v.status for v in later.verdicts}
    changed = {rule: status for rule, status in statuses.items() if status != EXPECTED[rule]}
    assert changed == {
        "places.linchang-school": Status.BREACH,  # deadline 2023-12-31 passed, still 0
        "sport.events-h2": Status.UNKNOWN,  # H2 closed, November and December never reported
        "sport.fitness-points": Status.UNKNOWN,  # 29 of 40 by 2023-12-31, but 2023-Q4 never reported
        "sport.events-data-fresh": Status.BREACH,  # newest data (2023-10) 75 days old > 45 d
    }
