"""Every built-in kind judges a rule's series in one batch (``evaluate_batch``) exactly as it
judges each series alone (``evaluate``): what a batch works out once per rule (templates,
bounds in words, resolved periods, base periods, the pace line, peer groups) must never leak
from one series into another's verdict."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targetwatch import testing
from targetwatch.data import Dataset
from targetwatch.i18n import use_locale
from targetwatch.kind import EvalContext
from targetwatch.model import Indicator, Judgement
from targetwatch.numbers import exact_context
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
KINDS = testing.make_registry().kinds  # the built-ins only
MONTHS = [f"{y}-{m:02d}" for y in (2021, 2022, 2023) for m in range(1, 13)]

#: Rules of every built-in kind, in many of their variants (all read indicator "a"; coverage
#: divides by "b" with the same labels).
RULES: list[tuple[str, dict[str, Any]]] = [
    ("threshold", {"indicator": "a", "min": 100, "warn_min": 150}),
    ("threshold", {"indicator": "a", "range": "@50:120", "warn_range": "0:300", "period": "2023-06"}),
    ("threshold", {"indicator": "a", "max": 400, "period": "previous month"}),
    ("cap", {"indicator": "a", "max": 300, "warn_at": 250}),
    ("cap", {"indicator": "a", "max": 1500, "aggregate": "sum", "period": "current year", "warn_at": 1400}),
    ("cap", {"indicator": "a", "max": 200, "aggregate": "mean", "period": "current quarter"}),
    ("cap", {"indicator": "a", "max": 200, "aggregate": "max", "period": "previous half"}),
    ("growth", {"indicator": "a", "compare": "year_on_year", "min": "-3%", "warn_min": "0%"}),
    ("growth", {"indicator": "a", "compare": "period_on_period", "min": "-7%", "max": "20%", "include_open": True}),
    ("growth", {"indicator": "a", "compare": "baseline", "baseline": "2021-01", "min": "5%", "period": "2023-03"}),
    ("growth", {"indicator": "a", "compare": "cagr", "baseline": "2021-02", "min": "1%", "period": "2023-02"}),
    ("growth", {"indicator": "a", "compare": "year_on_year", "period": "current month", "include_open": False}),
    ("minimum", {"indicator": "a", "min": 600, "period": "previous half", "warn_below": 700}),
    ("minimum", {"indicator": "a", "min": 2000, "period": "current year", "hopeless_at": 2}),
    ("minimum", {"indicator": "a", "min": 100, "period": "current quarter", "aggregate": "mean", "warn_below": 150}),
    ("minimum", {"indicator": "a", "min": 3, "period": "current year", "aggregate": "count"}),
    ("minimum", {"indicator": "a", "min": 100, "period": "2023-Q2", "aggregate": "latest", "pace": False}),
    ("progress", {"indicator": "a", "target": 2000, "start": "2023-01-01", "deadline": "2023-12-31", "hopeless_at": 2}),
    ("progress", {"indicator": "a", "target": 900, "start": "2023-01-01", "deadline": "2023-12-31", "cumulative": True}),
    ("progress", {"indicator": "a", "target": 900, "start": "2022-01-01", "deadline": "2022-12-31"}),
    ("coverage", {"numerator": "a", "denominator": "b", "min": "86%", "warn_min": "88%"}),
    ("coverage", {"numerator": "a", "denominator": "b", "min": "50%", "max": "100%", "period": "2023-05"}),
    ("coverage", {"numerator": "a", "min": "90%"}),
    ("rank", {"indicator": "a", "max_rank": 2, "warn_gap": 20}),
    ("rank", {"indicator": "a", "max_rank": 1, "within": ["group"], "order": "asc"}),
    ("share", {"indicator": "a", "min": "20%", "within": ["group"]}),
    ("share", {"indicator": "a", "max": "60%", "total": {"region": "T"}, "period": "2023-08"}),
    ("milestone", {"indicator": "a", "deadline": "2023-11-01", "done_at": 250}),
    ("milestone", {"indicator": "a", "deadline": "2023-06-30", "done_at": 300, "warn_days": 10}),
    ("freshness", {"indicator": "a", "max_age": "45d", "warn_age": "20d"}),
    ("freshness", {"indicator": "a", "max_age": "2mo"}),
]

values = st.one_of(st.integers(-20, 400), st.decimals(min_value=-5, max_value=400, places=3, allow_nan=False, allow_infinity=False))


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    """Series of "a" and "b" for a few regions in two groups: monthly data with gaps, now and
    then a quarter, some regions without "b" or without any observation."""
    out = []
    for i, region in enumerate(["R1", "R2", "R3", "R4", "T"]):
        labels = {"region": region, "group": "G1" if i % 2 else "G2"}
        for indicator in ("a", "b"):
            if region == "R4" and indicator == "b":
                continue
            months = draw(st.lists(st.sampled_from(MONTHS), max_size=30, unique=True))
            rows = [(m, draw(values)) for m in months]
            if draw(st.booleans()):
                rows.append(("2023-Q2", draw(values)))
            out.append(testing.series(indicator, rows, labels, CAL))
    return Dataset(out)


def outcome(fn: Callable[[], list[Judgement]]) -> list[str] | str:
    try:
        return [repr(j) for j in fn()]
    except Exception as exc:  # noqa: BLE001 - a batch fails as one: compare the failure
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize(("kind", "params"), RULES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(RULES)])
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=datasets(), as_of=st.sampled_from(["2023-10-16", "2023-07-01T08:00", "2023-12-31T23:59", "2022-03-15", "2024-02-01"]),
       locale=st.sampled_from(["en", "zh-CN"]))
def test_a_batch_judges_each_series_as_it_would_alone(kind: str, params: Mapping[str, Any], data: Dataset, as_of: str, locale: str) -> None:
    rule = testing.make_rule(KINDS[kind], params, CAL)
    moment = CAL.moment(as_of)
    visible = data.visible(moment)
    selected = visible.select(rule.indicator, rule.selector)
    units = {"a": Indicator("a", unit="人"), "b": Indicator("b", unit="%")}

    def batch() -> list[Judgement]:
        ctx = EvalContext(moment, CAL, visible, units)
        with decimal.localcontext(exact_context()):
            return KINDS[kind].evaluate_batch(rule, selected, ctx)

    def one_by_one() -> list[Judgement]:
        out = []
        for series in selected:  # a fresh context for each: nothing remembered between them
            ctx = EvalContext(moment, CAL, visible, units)
            with decimal.localcontext(exact_context()):
                out.append(KINDS[kind].evaluate(rule, series, ctx))
        return out

    with use_locale(locale):
        assert outcome(batch) == outcome(one_by_one)


def test_every_built_in_kind_is_covered() -> None:
    assert {kind for kind, _ in RULES} == set(KINDS)


def test_a_batch_of_series_of_other_indicators_uses_their_units() -> None:
    rule = testing.make_rule(KINDS["threshold"], {"indicator": "a", "min": 10}, CAL)
    a = testing.series("a", [("2023-09", 12345)], {"region": "R1"}, CAL)
    b = testing.series("b", [("2023-09", 12345)], {"region": "R1"}, CAL)
    ctx = EvalContext(CAL.moment("2023-10-16"), CAL, Dataset([a, b]), {"a": Indicator("a", unit="人"), "b": Indicator("b", unit="kg")})
    first, second = KINDS["threshold"].evaluate_batch(rule, [a, b], ctx)
    assert first.message == "a 12,345 人 for 2023-09 is at least 10 人"
    assert second.message == "b 12,345 kg for 2023-09 is at least 10 kg"


def test_a_context_remembers_what_depends_only_on_the_moment() -> None:
    ctx = EvalContext(CAL.moment("2023-10-16"), CAL, Dataset(), {})
    half = ctx.resolve("previous half")
    assert half is ctx.resolve("previous half") and half.label == "2023-H1"
    assert ctx.ended(half) and ctx.started(half)
    current = ctx.resolve("current year")
    assert ctx.started(current) and not ctx.ended(current)
    assert ctx.elapsed(current) == CAL.elapsed_fraction(current, ctx.as_of)
    assert not ctx.started(CAL.parse("2023-10-17")) and ctx.started(CAL.parse("2023-10-16"))
    assert ctx.ended(CAL.parse("2023-10-15")) and not ctx.ended(CAL.parse("2023-10-16"))
    assert dt.date(2023, 10, 16) == ctx.today


class _Counting:
    """A PreparedKind for the test: prepare counts its calls, judge reports the context."""

    def __init__(self, exact: bool) -> None:
        from targetwatch.kind import PreparedKind

        outer = self
        self.prepared = 0

        class Kind(PreparedKind):
            name = "counting"
            summary = "test"
            Params = object

            def prepare(self, rule: Any, ctx: Any) -> int:
                outer.prepared += 1
                return outer.prepared

            def judge(self, rule: Any, series: Any, ctx: Any, prepared: Any) -> Judgement:
                from targetwatch.model import Status

                return Judgement(Status.OK, f"{prepared} {decimal.getcontext().prec}")

        Kind.exact = exact
        self.kind = Kind()


@pytest.mark.parametrize("exact", [True, False])
def test_a_prepared_kind_prepares_once_per_batch_and_judges_in_its_context(exact: bool) -> None:
    counting = _Counting(exact)
    series = [object(), object(), object()]
    with decimal.localcontext(decimal.Context(prec=7)):
        batch = counting.kind.evaluate_batch(None, series, None)  # type: ignore[arg-type]
        alone = counting.kind.evaluate(None, series[0], None)  # type: ignore[arg-type]
    prec = exact_context().prec if exact else 7
    assert [j.message for j in batch] == [f"1 {prec}"] * 3  # one prepare for the three
    assert alone.message == f"2 {prec}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    calls=st.lists(
        st.tuples(
            st.decimals(allow_nan=False, allow_infinity=False, places=None, min_value=-10**9, max_value=10**9)
            | st.integers(-10**6, 10**6),
            st.sampled_from([None, "", "%", "人", "万元", "days"]),
            st.integers(-3, 3),
        ),
        max_size=30,
    ),
    locale=st.sampled_from(["en", "zh-CN"]),
)
def test_a_context_formats_each_number_as_format_number_does(
    calls: list[tuple[decimal.Decimal | int, str | None, int]], locale: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The context remembers the text of each number it formatted; an equal number written
    with other digits (1.5 and 1.50, 0 and -0) or an int gets the same text as
    ``format_number`` gives, and a full memory starts afresh without changing any text."""
    from targetwatch import kind
    from targetwatch.numbers import format_number

    monkeypatch.setattr(kind, "_SHOWN_MAX", 4)
    with use_locale(locale):
        ctx = EvalContext(dt.datetime(2023, 10, 16, tzinfo=CAL.tzinfo), CAL, Dataset())
        for value, unit, shift in calls:
            if isinstance(value, decimal.Decimal):
                value = value.scaleb(shift)
                for same in (value, value.quantize(decimal.Decimal(1).scaleb(-3)) if value.adjusted() < 20 else value, -value):
                    assert ctx.fmt(same, unit) == format_number(same, unit)
            else:
                assert ctx.fmt(value, unit) == format_number(value, unit)
            assert ctx.fmt(None, unit) == format_number(None, unit)
