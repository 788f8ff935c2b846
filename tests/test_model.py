"""Statuses and exit codes, label selectors, labels and series."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import periods

from targetwatch.model import LabelSelector, Series, Status, exit_code, make_labels, worst
from targetwatch.periods import Calendar, Period

D = Decimal
CAL = Calendar("Asia/Shanghai")
P = CAL.parse


# -- statuses and exit codes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [(Status.OK, 0), (Status.WARN, 1), (Status.BREACH, 2), (Status.UNKNOWN, 3), (Status.ERROR, 3)],
)
def test_status_exit_code(status: Status, code: int) -> None:
    assert status.exit_code == code
    assert exit_code([status]) == code
    assert str(status) == status.name


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        ([], 0),
        ([Status.OK, Status.OK], 0),
        ([Status.OK, Status.WARN], 1),
        ([Status.WARN, Status.UNKNOWN], 3),
        ([Status.ERROR, Status.WARN, Status.OK], 3),
        ([Status.UNKNOWN, Status.BREACH], 2),  # a breach outranks "could not judge"
        ([Status.ERROR, Status.BREACH, Status.WARN], 2),
    ],
)
def test_exit_code_examples(statuses: list[Status], code: int) -> None:
    assert exit_code(statuses) == code
    assert exit_code(iter(statuses)) == code  # any iterable, consumed once


@given(st.lists(st.sampled_from(list(Status))))
def test_exit_code_precedence(statuses: list[Status]) -> None:
    if Status.BREACH in statuses:
        expected = 2
    elif Status.UNKNOWN in statuses or Status.ERROR in statuses:
        expected = 3
    elif Status.WARN in statuses:
        expected = 1
    else:
        expected = 0
    assert exit_code(statuses) == expected
    assert exit_code(reversed(statuses)) == expected


@given(st.lists(st.sampled_from(list(Status))))
def test_worst(statuses: list[Status]) -> None:
    order = [Status.OK, Status.WARN, Status.UNKNOWN, Status.ERROR, Status.BREACH]
    expected = max(statuses, key=order.index, default=Status.OK)
    assert worst(statuses) is expected


# -- labels ---------------------------------------------------------------------------------


def test_make_labels_canonical() -> None:
    expected = (("district", "田家庵区"), ("level", "county"), ("year", "2023"))
    assert make_labels({"year": 2023, "district": "田家庵区", "level": "county"}) == expected
    assert make_labels([("level", "county"), ("year", 2023), ("district", "田家庵区")]) == expected
    assert make_labels() == ()


@given(st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.integers()), st.randoms())
def test_make_labels_ignores_order(labels: dict[str, object], rnd: object) -> None:
    pairs = list(labels.items())
    rnd.shuffle(pairs)  # type: ignore[attr-defined]
    canonical = make_labels(labels)
    assert make_labels(pairs) == canonical
    assert list(canonical) == sorted(canonical)
    assert hash(canonical) == hash(make_labels(pairs))
    assert dict(canonical) == {k: str(v) for k, v in labels.items()}


# -- selectors ------------------------------------------------------------------------------

TJA = make_labels({"district": "田家庵区", "level": "county"})
XJ = make_labels({"district": "谢家集区", "level": "county"})
CITY = make_labels({"district": "淮南市", "level": "city"})
BARE = make_labels({"level": "county"})
ALL = [TJA, XJ, CITY, BARE]


def chosen(raw: object) -> list[tuple[tuple[str, str], ...]]:
    sel = LabelSelector.from_mapping(raw)
    return [labels for labels in ALL if sel.matches(labels)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ALL),
        ({}, ALL),
        ({"district": "田家庵区"}, [TJA]),
        ({"district": ["田家庵区", "谢家集区"]}, [TJA, XJ]),
        ({"district": ["田家庵区"], "level": "county"}, [TJA]),
        ({"level": {"not": "city"}}, [TJA, XJ, BARE]),
        ({"district": {"not": ["田家庵区", "谢家集区"]}}, [CITY, BARE]),  # a missing label is "not equal"
        ({"district": {"match": ".*区"}}, [TJA, XJ]),
        ({"district": {"match": "田家"}}, []),  # anchored: a prefix is not a match
        ({"district": {"match": "家庵"}}, []),  # nor a substring
        ({"district": {"match": "田家庵区|淮南市"}}, [TJA, CITY]),  # alternation anchored as a whole
        ({"district": {"match": ".*"}}, [TJA, XJ, CITY]),  # a missing label never matches a regex
        ({"level": "county", "district": {"match": "谢.*"}}, [XJ]),
        ({"district": "nowhere"}, []),
    ],
)
def test_selector_matches(raw: object, expected: list[object]) -> None:
    assert chosen(raw) == expected


def test_selector_numbers_match_their_text() -> None:
    sel = LabelSelector.from_mapping({"year": 2023, "grade": [1, 2]})
    assert sel.matches(make_labels({"year": "2023", "grade": "2"}))
    assert not sel.matches(make_labels({"year": "2023", "grade": "3"}))


def test_selector_is_canonical_and_hashable() -> None:
    a = LabelSelector.from_mapping({"b": "1", "a": "2"})
    b = LabelSelector.from_mapping({"a": "2", "b": "1"})
    assert a == b and hash(a) == hash(b)
    assert [name for name, _ in a.matchers] == ["a", "b"]
    assert a.equalities() == (("a", "2"), ("b", "1"))
    assert LabelSelector.from_mapping({"a": ["x", "y"], "b": {"not": "z"}}).equalities() == ()


def test_invalid_regex() -> None:
    with pytest.raises(ValueError, match=r"label 'district': invalid regular expression '\('"):
        LabelSelector.from_mapping({"district": {"match": "("}})


@pytest.mark.parametrize(
    "cond",
    [[], 1.5, True, None, {"foo": "x"}, {"not": "a", "match": "b"}, {"match": 1}, {"not": 1},
     {}, [["a"]], [None], {"match": ["a"]}],
)
def test_bad_condition_shapes_are_rejected(cond: object) -> None:
    with pytest.raises(ValueError, match="label 'district'"):
        LabelSelector.from_mapping({"district": cond})


@pytest.mark.parametrize("raw", ["district=x", ["district"], 5])
def test_selector_must_be_a_table(raw: object) -> None:
    with pytest.raises(ValueError, match="found"):
        LabelSelector.from_mapping(raw)


label_values = st.sampled_from(["a", "b", "c", "田家庵区"])


@given(st.dictionaries(st.sampled_from(["x", "y", "z"]), label_values),
       st.dictionaries(st.sampled_from(["x", "y", "z"]), label_values | st.lists(label_values, min_size=1)))
def test_equality_selector_semantics(labels: dict[str, str], raw: dict[str, object]) -> None:
    sel = LabelSelector.from_mapping(raw)
    expected = all(
        labels.get(k) in (v if isinstance(v, list) else [v]) for k, v in raw.items()
    )
    assert sel.matches(make_labels(labels)) == expected
    negated = LabelSelector.from_mapping({k: {"not": v} for k, v in raw.items()})
    expected_not = all(
        labels.get(k) not in (v if isinstance(v, list) else [v]) for k, v in raw.items()
    )
    assert negated.matches(make_labels(labels)) == expected_not


# -- series ---------------------------------------------------------------------------------


def series(*obs: tuple[str, str]) -> Series:
    pairs = sorted((P(p), D(v)) for p, v in obs)
    return Series("edu.expenditure", TJA, tuple(p for p, _ in pairs), tuple(v for _, v in pairs))


NESTED = series(("2023", "100"), ("2023-H1", "40"), ("2023-Q1", "15"), ("2023-01", "5"),
                ("2023-02", "6"), ("2023-H2", "60"), ("2023-07", "9"), ("2024-01", "7"))


def test_series_sorted_by_start_then_end() -> None:
    assert [str(p) for p in NESTED.periods] == [
        "2023-01", "2023-Q1", "2023-H1", "2023", "2023-02", "2023-07", "2023-H2", "2024-01"]
    assert len(NESTED) == 8
    assert next(iter(NESTED)) == (P("2023-01"), D(5))
    assert NESTED.label_map == {"district": "田家庵区", "level": "county"}


@pytest.mark.parametrize(
    ("period", "value"),
    [("2023", "100"), ("2023-H1", "40"), ("2023-Q1", "15"), ("2023-01", "5"), ("2023-H2", "60"),
     ("2024-01", "7"), ("2023-Q3", None), ("2022", None), ("2023-03", None), ("2025", None),
     ("2023-01-01", None), ("2023-W01", None)],
)
def test_value_at_exact_period_only(period: str, value: str | None) -> None:
    # 2023, 2023-H1, 2023-Q1 and 2023-01 all start on Jan 1: value_at must pick the exact one
    assert NESTED.value_at(P(period)) == (None if value is None else D(value))


def test_within() -> None:
    assert NESTED.within(P("2023-H1")) == [(P("2023-01"), D(5)), (P("2023-Q1"), D(15)),
                                           (P("2023-H1"), D(40)), (P("2023-02"), D(6))]
    assert [str(p) for p, _ in NESTED.within(P("2023-H2"))] == ["2023-07", "2023-H2"]
    assert NESTED.within(P("2022")) == []
    assert [str(p) for p, _ in NESTED.within(P("2024"))] == ["2024-01"]


def test_latest() -> None:
    assert NESTED.latest() == (P("2024-01"), D(7))
    assert series().latest() is None


@pytest.mark.parametrize(
    ("day", "count"),
    [
        (dt.date(2022, 12, 31), 0),
        (dt.date(2023, 1, 1), 4),  # everything starting on Jan 1, including the whole year
        (dt.date(2023, 1, 31), 4),
        (dt.date(2023, 2, 1), 5),
        (dt.date(2023, 7, 1), 7),
        (dt.date(2023, 12, 31), 7),
        (dt.date(2024, 1, 1), 8),
    ],
)
def test_visible_cuts_periods_not_yet_started(day: dt.date, count: int) -> None:
    seen = NESTED.visible(day)
    assert len(seen) == count
    assert seen.periods == NESTED.periods[:count]
    assert seen.values == NESTED.values[:count]
    assert all(p.start <= day for p in seen.periods)
    assert (seen.indicator, seen.labels) == (NESTED.indicator, NESTED.labels)


@given(st.dates(dt.date(2022, 6, 1), dt.date(2024, 6, 1)))
def test_visible_is_exactly_the_started_observations(day: dt.date) -> None:
    seen = NESTED.visible(day)
    assert list(seen) == [(p, v) for p, v in NESTED if p.start <= day]
    latest = seen.latest()
    assert latest is None or latest[0].start <= day


def any_period() -> st.SearchStrategy[Period]:
    return st.one_of(*(periods(g) for g in ("year", "half", "quarter", "month", "week", "day")))


@st.composite
def mixed_series(draw: st.DrawFn) -> Series:
    """A series of periods of mixed grains (nested, overlapping, sharing start days)."""
    found = draw(st.sets(any_period(), max_size=25)) if draw(st.booleans()) else set()
    ordered = sorted(found)
    values = tuple(D(i) for i in range(len(ordered)))
    return Series("x", (), tuple(ordered), values)


@given(mixed_series(), any_period())
def test_lookups_match_a_scan_of_every_observation(s: Series, period: Period) -> None:
    expected = next((v for p, v in s if p == period), None)
    assert s.value_at(period) == expected
    for p, v in s:  # every observation is found by its own period
        assert s.value_at(p) == v
    assert s.within(period) == [(p, v) for p, v in s if p.start >= period.start and p.end <= period.end]
    day = period.start
    seen = s.visible(day)
    assert list(seen) == [(p, v) for p, v in s if p.start <= day]
    assert (seen is s) == all(p.start <= day for p in s.periods)
