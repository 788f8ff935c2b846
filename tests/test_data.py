"""Datasets built from source records: grouping, sorting, errors naming the origin."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from targetwatch.data import Dataset
from targetwatch.errors import SourceError
from targetwatch.model import LabelSelector, Record, make_labels
from targetwatch.periods import Calendar, Period

D = Decimal
CAL = Calendar("Asia/Shanghai")
TJA = make_labels({"district": "田家庵区"})
XJ = make_labels({"district": "谢家集区"})
CITY = make_labels({"district": "淮南市", "level": "city"})


class CountingCalendar:
    """Wraps a calendar and counts how often each period text is parsed."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.calls: Counter[str] = Counter()

    def parse(self, text: str) -> Period:
        self.calls[text] += 1
        return self.calendar.parse(text)


def rec(indicator: str, period: str, value: str, labels=(), origin: str | None = None) -> Record:
    return Record(indicator, period, D(value), labels, origin)


RECORDS = [
    rec("edu.expenditure", "2023-H2", "60", TJA, "data.csv:2"),
    rec("edu.expenditure", "2022-H2", "50", TJA, "data.csv:3"),
    rec("edu.expenditure", "2023-H1", "55", TJA, "data.csv:4"),
    rec("edu.expenditure", "2023-H2", "30", XJ, "data.csv:5"),
    rec("edu.expenditure", "2023-H1", "25", XJ, "data.csv:6"),
    rec("edu.expenditure", "2023-H2", "90", CITY, "data.csv:7"),
    rec("edu.rate", "2023", "0.95", TJA, "data.csv:8"),
    rec("edu.rate", "2023-H2", "0.9", TJA, "data.csv:9"),
]


def test_groups_by_indicator_and_labels_and_sorts_by_period() -> None:
    ds = Dataset.from_records(RECORDS, CAL)
    assert len(ds) == 4
    assert ds.indicators == {"edu.expenditure", "edu.rate"}
    tja = ds.get("edu.expenditure", TJA)
    assert tja is not None
    assert [str(p) for p in tja.periods] == ["2022-H2", "2023-H1", "2023-H2"]
    assert tja.values == (D(50), D(55), D(60))
    assert ds.get("edu.expenditure", XJ).values == (D(25), D(30))
    rate = ds.get("edu.rate", TJA)
    assert [str(p) for p in rate.periods] == ["2023", "2023-H2"]
    assert ds.get("edu.rate", XJ) is None
    assert ds.get("nope", TJA) is None
    assert ds.series("nope") == []
    assert {s.labels for s in ds.series("edu.expenditure")} == {TJA, XJ, CITY}
    assert sorted((s.indicator, s.labels) for s in ds) == sorted(
        [("edu.expenditure", TJA), ("edu.expenditure", XJ), ("edu.expenditure", CITY), ("edu.rate", TJA)])


def test_each_distinct_period_text_is_parsed_once() -> None:
    cal = CountingCalendar(CAL)
    many = [rec("x", p, str(i), make_labels({"n": str(i // 3)}))
            for i, p in enumerate(["2023-H1", "2023-H2", "2023"] * 100)]
    ds = Dataset.from_records(many, cal)  # type: ignore[arg-type]
    assert cal.calls == {"2023-H1": 1, "2023-H2": 1, "2023": 1}
    assert len(ds) == 100


def test_empty() -> None:
    ds = Dataset.from_records([], CAL)
    assert len(ds) == 0 and list(ds) == [] and ds.indicators == set()


@pytest.mark.parametrize("bad", ["2023-H3", "not a period", "", "2023-13"])
def test_bad_period_names_the_record_origin(bad: str) -> None:
    records = [rec("edu.expenditure", "2023-H1", "1", TJA, "data.csv:2"),
               rec("edu.expenditure", bad, "1", TJA, "data.csv:3")]
    with pytest.raises(SourceError) as info:
        Dataset.from_records(records, CAL, source="csv")
    text = str(info.value)
    assert "data.csv:3" in text
    assert repr(bad) in text
    assert text.startswith("source 'csv': ")
    assert info.value.source == "csv"
    assert info.value.problem is not None and info.value.problem.file == "data.csv:3"


def test_duplicate_names_both_origins() -> None:
    records = [*RECORDS, rec("edu.expenditure", "2023-H1", "56", TJA, "more.csv:40")]
    with pytest.raises(SourceError) as info:
        Dataset.from_records(records, CAL, source="csv")
    text = str(info.value)
    assert "data.csv:4" in text and "more.csv:40" in text
    assert "duplicate" in text and "edu.expenditure" in text and "2023-H1" in text


def test_duplicate_written_two_ways_is_still_a_duplicate() -> None:
    records = [rec("x", "2023-07", "1", origin="a.csv:2"), rec("x", "2023-7", "2", origin="a.csv:3")]
    with pytest.raises(SourceError, match="duplicate") as info:
        Dataset.from_records(records, CAL)
    assert "a.csv:2" in str(info.value) and "a.csv:3" in str(info.value)


def test_same_period_for_different_labels_or_indicators_is_not_a_duplicate() -> None:
    records = [rec("x", "2023", "1", TJA), rec("x", "2023", "2", XJ), rec("y", "2023", "3", TJA)]
    assert len(Dataset.from_records(records, CAL)) == 3


def test_select() -> None:
    ds = Dataset.from_records(RECORDS, CAL)
    everything = ds.select("edu.expenditure", LabelSelector())
    assert [s.labels for s in everything] == sorted([TJA, XJ, CITY])
    assert [s.labels for s in ds.select("edu.expenditure", LabelSelector.from_mapping({"district": "田家庵区"}))] == [TJA]
    districts = LabelSelector.from_mapping({"district": {"match": ".*区"}})
    assert [s.labels for s in ds.select("edu.expenditure", districts)] == sorted([TJA, XJ])
    not_city = LabelSelector.from_mapping({"level": {"not": "city"}})
    assert [s.labels for s in ds.select("edu.expenditure", not_city)] == sorted([TJA, XJ])
    assert ds.select("nope", LabelSelector()) == []


def test_visible_cuts_observations_not_yet_started() -> None:
    ds = Dataset.from_records(RECORDS, CAL)
    seen = ds.visible(dt.date(2023, 6, 30))
    assert [str(p) for p in seen.get("edu.expenditure", TJA).periods] == ["2022-H2", "2023-H1"]
    assert [str(p) for p in seen.get("edu.rate", TJA).periods] == ["2023"]
    city = seen.get("edu.expenditure", CITY)
    assert city is not None and len(city) == 0  # the series is known, its data is not yet
    on_start = ds.visible(dt.date(2023, 7, 1))
    assert [str(p) for p in on_start.get("edu.expenditure", TJA).periods] == ["2022-H2", "2023-H1", "2023-H2"]
    assert len(ds.get("edu.expenditure", TJA)) == 3  # the original is unchanged


@settings(max_examples=50)
@given(st.lists(st.tuples(st.sampled_from(["2023-H1", "2023-H2", "2024-H1", "2023", "2023-Q3"]),
                          st.sampled_from([TJA, XJ])), unique=True),
       st.dates(dt.date(2022, 12, 1), dt.date(2024, 7, 1)))
def test_visible_property(keys: list[tuple[str, tuple]], day: dt.date) -> None:
    records = [rec("x", p, str(i), labels) for i, (p, labels) in enumerate(keys)]
    ds = Dataset.from_records(records, CAL)
    for s in ds.visible(day):
        full = ds.get(s.indicator, s.labels)
        assert list(s) == [(p, v) for p, v in full if p.start <= day]
    for s in ds:
        assert list(s.periods) == sorted(s.periods)


def test_merged() -> None:
    a = Dataset.from_records([rec("x", "2023", "1", TJA)], CAL)
    b = Dataset.from_records([rec("x", "2023", "2", XJ), rec("y", "2023", "3", TJA)], CAL)
    both = a.merged(b)
    assert len(both) == 3
    assert both.get("x", XJ).values == (D(2),)
    assert len(a) == 1 and len(b) == 2  # inputs untouched
    assert a.get("x", XJ) is None


def test_merged_rejects_the_same_series_from_two_sources() -> None:
    a = Dataset.from_records([rec("x", "2023", "1", TJA)], CAL)
    b = Dataset.from_records([rec("x", "2024", "2", TJA)], CAL)
    with pytest.raises(SourceError, match="more than one source") as info:
        a.merged(b)
    assert "x" in str(info.value) and "田家庵区" in str(info.value)
    assert len(a) == 1 and a.get("x", TJA).values == (D(1),)


def test_visible_is_the_dataset_itself_when_nothing_is_cut() -> None:
    ds = Dataset.from_records(RECORDS, CAL)
    assert ds.visible(dt.date(2024, 1, 1)) is ds
    cut = ds.visible(dt.date(2023, 6, 30))
    assert cut is not ds and len(cut) == len(ds)
    assert [s.indicator for s in cut] == [s.indicator for s in ds]


def test_merged_into_an_empty_dataset() -> None:
    b = Dataset.from_records([rec("x", "2023", "2", XJ), rec("y", "2023", "3", TJA)], CAL)
    both = Dataset().merged(b)
    assert [(s.indicator, s.labels) for s in both] == [(s.indicator, s.labels) for s in b]
    assert len(Dataset().merged(Dataset())) == 0
