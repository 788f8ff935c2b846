"""Two languages: the locale as an input, the catalogs kept in step with the sources, every
built-in kind's messages in Chinese, numbers in 万, and the command line in either language."""

from __future__ import annotations

import datetime as dt
import gettext
import importlib.util
import io
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from wcwidth import wcswidth

from targetwatch import i18n
from targetwatch.cli import cli
from targetwatch.i18n import UnknownLocaleError, normalize, status_label, use_locale
from targetwatch.model import Judgement, Status
from targetwatch.numbers import format_number, parse_number
from targetwatch.periods import Calendar, Term
from targetwatch.plugins import Registry
from targetwatch.testing import judge, series

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = Calendar("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("targetwatch_i18n_script", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


script = _script()


# -- the catalogs --------------------------------------------------------------------------


def test_catalogs_are_complete_and_fresh() -> None:
    """The .pot holds every message in the sources, zh_CN translates each (none fuzzy, the
    same placeholders) and the committed .mo is compiled from the .po as it stands."""
    assert script.problems("zh_CN") == []


def test_a_new_message_or_an_edited_translation_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    po = script.read_po(script.po_path("zh_CN"))
    edited = [e for e in po if e.msgid == "no verdicts"][0]
    edited.strings = ["（改过）"]
    header = po[0].strings[0]
    path = tmp_path / "zh_CN" / "LC_MESSAGES" / "targetwatch.po"
    path.parent.mkdir(parents=True)
    path.write_text(script.format_po(header, po[1:], nplurals=1), encoding="utf-8")
    path.with_suffix(".mo").write_bytes((script.po_path("zh_CN").with_suffix(".mo")).read_bytes())
    monkeypatch.setattr(script, "po_path", lambda language: path)
    assert any(".mo is stale" in p for p in script.problems("zh_CN"))

    real_extract = script.extract
    monkeypatch.setattr(script, "extract", lambda: [*real_extract(), script.Entry("a brand-new message", locations=["x.py"])])
    found = script.problems("zh_CN")
    assert any("'a brand-new message' is missing from zh_CN" in p for p in found)
    assert any("targetwatch.pot is stale" in p for p in found)


def test_extraction_refuses_an_f_string_inside_the_lookup(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text('from targetwatch.i18n import _\nx = 3\nmessage = _(f"{x} apples")\n', encoding="utf-8")
    with pytest.raises(script.ExtractError, match=r"mod.py:3: _\(\) needs a string literal"):
        script.extract(package)
    (package / "mod.py").write_text('from targetwatch.i18n import _, ngettext, pgettext\n_("a"); ngettext("{n} b", "{n} bs", 2); pgettext("c", "d")\n', encoding="utf-8")
    found = {(e.context, e.msgid, e.plural) for e in script.extract(package)}
    assert found == {(None, "a", None), (None, "{n} b", "{n} bs"), ("c", "d", None)}


def test_placeholders_of_both_styles() -> None:
    assert script.placeholders("{what}: {total!r} of {n:,} %(period)s 100%%") == {"what", "total", "n", "period"}


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\x04"), min_size=1, max_size=30)

_NAMES = ("what", "total", "period", "n")
_field = st.builds(
    lambda name, access, conversion, spec: "{" + name + access + conversion + spec + "}",
    st.sampled_from(_NAMES),
    st.sampled_from(["", ".__class__", "[0]"]),
    st.sampled_from(["", "!r", "!s", "!a"]),
    st.sampled_from(["", ":>6", ":*^9", ":"]),
)
_literal = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8).map(lambda t: t.replace("{", "{{").replace("}", "}}"))


def _outcome(make: Callable[[], str]) -> object:
    """The text made, or the type of the error raised."""
    try:
        return make()
    except Exception as exc:  # noqa: BLE001 - compared by the caller
        return type(exc)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(_literal | _field, max_size=8),
    order=st.permutations(_NAMES),
    values=st.lists(st.one_of(_text, st.lists(_text, min_size=1, max_size=2)), min_size=4, max_size=4),
)
def test_positional_formats_as_the_named_fields_do(parts: list[str], order: list[str], values: list[object]) -> None:
    # Any template of named fields (as a translation may write them: in any order, repeated,
    # with conversions, specs and indexing) comes out as str.format with keywords makes it.
    template = "".join(parts)
    named = dict(zip(order, values))
    assert _outcome(lambda: i18n.positional(template, *order)(*values)) == _outcome(lambda: template.format(**named))


@pytest.mark.parametrize("template", ["{what} {other}", "{what", "}", "{0}", "{}", "{what:{n}}", "{what!x}"])
def test_positional_fails_as_the_named_fields_would(template: str) -> None:
    # A template it cannot number (a field it was not given, malformed, positional, nested)
    # is formatted by name: the same result, or the same error.
    expected = _outcome(lambda: template.format(what="a", n=5))
    assert _outcome(lambda: i18n.positional(template, "what", "n")("a", 5)) == expected


@settings(max_examples=60, deadline=None)
@given(entries=st.dictionaries(st.tuples(st.none() | _text, _text), _text, min_size=1, max_size=8))
def test_po_and_mo_round_trip(entries: dict[tuple[str | None, str], str]) -> None:
    """What a .po says, written and read back and compiled, is what gettext then returns."""
    header = "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=1; plural=0;\n"
    items = [script.Entry(msgid, context=ctx, strings=[msgstr]) for (ctx, msgid), msgstr in entries.items()]
    items.append(script.Entry("{n} day", "{n} days", strings=["{n} 天"]))
    text = script.format_po(header, items, nplurals=1)
    read = script.read_po(_write(text))
    assert [(e.context, e.msgid, e.plural, e.strings) for e in read[1:]] == [(e.context, e.msgid, e.plural, e.strings) for e in items]
    catalog = gettext.GNUTranslations(io.BytesIO(script.compile_mo(read)))
    for (ctx, msgid), msgstr in entries.items():
        assert (catalog.gettext(msgid) if ctx is None else catalog.pgettext(ctx, msgid)) == msgstr
    assert catalog.ngettext("{n} day", "{n} days", 5) == "{n} 天"


def _write(text: str) -> Path:
    import tempfile

    handle = tempfile.NamedTemporaryFile("w", suffix=".po", delete=False, encoding="utf-8")
    with handle:
        handle.write(text)
    return Path(handle.name)


def test_fuzzy_and_untranslated_entries_stay_out_of_the_mo() -> None:
    items = [script.Entry("", strings=["Content-Type: text/plain; charset=UTF-8\n"]), script.Entry("a", strings=["甲"]),
             script.Entry("b", strings=["乙"], fuzzy=True), script.Entry("c", strings=[""])]
    catalog = gettext.GNUTranslations(io.BytesIO(script.compile_mo(items)))
    assert (catalog.gettext("a"), catalog.gettext("b"), catalog.gettext("c")) == ("甲", "b", "c")
    assert "#, fuzzy" in script.format_po("", items[1:])


# -- the locale as an input ----------------------------------------------------------------


@pytest.mark.parametrize(("name", "canonical"), [("en", "en"), ("zh-CN", "zh-CN"), ("zh_CN", "zh-CN"), ("zh-Hans", "zh-CN"), ("ZH_cn", "zh-CN"), (" EN ", "en")])
def test_locale_names(name: str, canonical: str) -> None:
    assert normalize(name) == canonical


def test_an_unknown_locale_names_the_available_ones() -> None:
    with pytest.raises(UnknownLocaleError, match=r"unknown locale 'fr'; available: 'en', 'zh-CN' \(also 'zh_CN', 'zh-Hans'\)"):
        normalize("fr")


def test_use_locale_restores_and_does_not_leak_into_threads() -> None:
    seen: list[str] = []
    assert i18n.current() == "en"
    with use_locale("zh_CN") as name:
        assert name == "zh-CN" and i18n.current() == "zh-CN"
        with use_locale("en"):
            assert i18n._("no verdicts") == "no verdicts"
        assert i18n._("no verdicts") == "没有判定结果"
        worker = threading.Thread(target=lambda: seen.append(i18n.current()))
        worker.start()
        worker.join(timeout=10)
    assert i18n.current() == "en" and seen == ["en"]
    with pytest.raises(RuntimeError), use_locale("zh-CN"):
        raise RuntimeError("boom")
    assert i18n.current() == "en"


def test_status_words() -> None:
    assert [status_label(s.value) for s in Status] == ["OK", "WARN", "BREACH", "UNKNOWN", "ERROR"]
    with use_locale("zh-CN"):
        assert [status_label(s.value) for s in Status] == ["OK 正常", "WARN 预警", "BREACH 未达标", "UNKNOWN 无法判断", "ERROR 出错"]
        assert status_label("RESOLVED") == "RESOLVED 已恢复"
        assert status_label("SOMETHING") == "SOMETHING"


# -- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "en", "zh"),
    [
        (32700, "人", "32,700 人", "3.27万人"),
        (32712, "人", "32,712 人", "3.2712万人"),
        (10000, "人次", "10,000 人次", "1万人次"),
        (9999, "人次", "9,999 人次", "9,999 人次"),
        (Decimal("-123456.5"), "元", "-123,456.5 元", "-12.3457万元"),
        (17192, "万元", "17,192 万元", "17,192 万元"),
        (Decimal("1234.5"), None, "1,234.5", "1,234.5"),
        (Decimal("0.0489"), "%", "4.89%", "4.89%"),
        (3240, "places", "3,240 places", "3,240 places"),
        (Decimal("107"), "days", "107 days", "107 天"),
        (None, "人", "—", "—"),
    ],
)
def test_format_number_by_locale(value: Decimal | int | None, unit: str | None, en: str, zh: str) -> None:
    assert format_number(value, unit) == en
    with use_locale("zh-CN"):
        assert format_number(value, unit) == zh


@given(st.integers(min_value=10_000, max_value=10**15), st.sampled_from(["人", "人次", "元"]))
def test_wan_keeps_every_whole_unit(n: int, unit: str) -> None:
    """万 with four decimals is exact for whole counts: the text parses back to the number."""
    with use_locale("zh-CN"):
        text = format_number(n, unit)
    assert text.endswith("万" + unit)
    assert parse_number(text.removesuffix(unit)) == n


# -- every built-in kind in Chinese -------------------------------------------------------

AUG, OCT = "2023-08-15", "2023-10-16"
MONTHS = [("2023-07", 6200), ("2023-08", 7900), ("2023-09", 8400)]
PEERS = [series("learners", [("2023-H1", v)], {"district": d}, SHANGHAI) for d, v in (("B", 30000), ("C", 12000), ("D", 500))]
NO_PEER_DATA = [series("learners", [("2022-H1", 1)], {"district": "B"}, SHANGHAI)]
DENOMINATOR = [series("kg.all", [("2023-H1", 64), ("2022-H1", 0)], {"district": "A"}, SHANGHAI)]
NO_AWARDS = [series("awards", [("2022-H1", 1)], {"district": "B"}, SHANGHAI)]
TERMS = Calendar("Asia/Shanghai", terms=[Term("2023-spring", dt.date(2023, 2, 1), dt.date(2023, 7, 1))])
TOTAL = [series("awards", [("2023-H1", 72), ("2022-H1", 0)], {"district": "city"}, SHANGHAI)]

#: (kind, params, rows, as_of, extra judge arguments, status, a phrase the Chinese message holds)
CASES: list[tuple[str, dict[str, Any], list[tuple[str, Any]], str, dict[str, Any], Status, str]] = [
    ("threshold", {"indicator": "rate", "min": "95%"}, [("2023-H1", "97.2%")], OCT, {"units": {"rate": "%"}}, Status.OK, "达到要求（不低于 95%）"),
    ("threshold", {"indicator": "rate", "min": "95%", "warn_min": "98%"}, [("2023-H1", "97.2%")], OCT, {"units": {"rate": "%"}}, Status.WARN, "但未达到预警线（应不低于 98%）"),
    ("threshold", {"indicator": "rate", "range": "@10:20"}, [("2023-H1", 15)], OCT, {}, Status.BREACH, "未达到要求（应在 10 至 20 范围之外）"),
    ("threshold", {"indicator": "rate", "min": 1, "max": 9}, [("2023-H1", 5)], OCT, {}, Status.OK, "在 1 至 9 范围之内"),
    ("threshold", {"indicator": "rate", "max": 4}, [("2023-H1", 5)], OCT, {}, Status.BREACH, "应不高于 4"),
    ("threshold", {"indicator": "rate", "min": 1, "period": "2022"}, [("2023-H1", 5)], OCT, {}, Status.UNKNOWN, "没有 rate 在 2022 的观测数据"),
    ("threshold", {"indicator": "rate", "min": 1}, [("2024-H1", 5)], OCT, {}, Status.UNKNOWN, "截至 2023-10-16 没有 rate 的观测数据"),
    ("threshold", {"indicator": "rate", "min": 1, "period": "current term"}, [("2023-H1", 5)], OCT, {"calendar": TERMS}, Status.UNKNOWN, "无法解析期间 'current term'："),
    ("cap", {"indicator": "share", "max": "4.89%"}, [("2023-H1", "4.95%")], OCT, {"units": {"share": "%"}}, Status.BREACH, "高于上限 4.89%"),
    ("cap", {"indicator": "share", "max": "4.89%", "warn_at": "4.5%"}, [("2023-H1", "4.6%")], OCT, {"units": {"share": "%"}}, Status.WARN, "但高于预警线 4.5%"),
    ("cap", {"indicator": "share", "max": "4.89%"}, [("2023-H1", "4%")], OCT, {"units": {"share": "%"}}, Status.OK, "未超过上限 4.89%"),
    ("cap", {"indicator": "spend", "max": 30000, "aggregate": "sum", "period": "2023-H2"}, MONTHS, OCT, {"units": {"spend": "元"}}, Status.WARN, "按当前进度将超过上限 3万元"),
    ("cap", {"indicator": "spend", "max": 60000, "aggregate": "sum", "period": "2023-H2"}, MONTHS, OCT, {"units": {"spend": "元"}}, Status.OK, "也未超过截至目前的额度"),
    ("cap", {"indicator": "spend", "max": 6000, "aggregate": "mean", "period": "2023-H2"}, MONTHS, OCT, {}, Status.WARN, "截至目前平均值为 7,500，高于上限 6,000，统计期尚未结束"),
    ("cap", {"indicator": "spend", "max": 6000, "aggregate": "max", "period": "2023-H2"}, MONTHS, "2024-01-01", {}, Status.BREACH, "2023-H2 最大值为 8,400，高于上限"),
    ("cap", {"indicator": "spend", "max": 6000, "aggregate": "sum", "period": "2024"}, MONTHS, OCT, {}, Status.UNKNOWN, "2024 尚未开始（2024-01-01 开始）"),
    ("cap", {"indicator": "spend", "max": 6000, "aggregate": "sum", "period": "2023-Q4"}, MONTHS, OCT, {}, Status.UNKNOWN, "2023-Q4 内目前没有 spend 的观测数据"),
    ("minimum", {"indicator": "people", "min": 50000, "period": "2023-H2"}, MONTHS, OCT, {"units": {"people": "人次"}}, Status.WARN, "落后于进度：目前完成 2.25万人次，按时间进度应完成 2.9076万人次"),
    ("minimum", {"indicator": "people", "min": 50000, "period": "2023-H2", "hopeless_at": 1}, MONTHS, OCT, {"units": {"people": "人次"}}, Status.BREACH, "预计无法完成"),
    ("minimum", {"indicator": "people", "min": 30000, "period": "2023-H2"}, MONTHS, OCT, {"units": {"people": "人次"}}, Status.OK, "按进度：目前完成 2.25万人次"),
    ("minimum", {"indicator": "people", "min": 20000, "period": "2023-H2"}, MONTHS, OCT, {"units": {"people": "人次"}}, Status.OK, "已提前达到目标 2万人次"),
    ("minimum", {"indicator": "people", "min": 50000, "period": "2023-H2", "gaps": "ignore"}, MONTHS, "2024-01-05", {"units": {"people": "人次"}}, Status.BREACH, "距目标 5万人次 还差 2.75万人次"),
    ("minimum", {"indicator": "people", "min": 20000, "period": "2023-H2", "warn_below": 25000, "gaps": "ignore"}, MONTHS, "2024-01-05", {"units": {"people": "人次"}}, Status.WARN, "达到目标 2万人次，但低于预警线 2.5万人次"),
    ("minimum", {"indicator": "people", "min": 50000, "period": "2023-H2"}, MONTHS, "2024-01-05", {"units": {"people": "人次"}}, Status.UNKNOWN, "people 2023-H2 无法判定，以下期间没有观测值：2023-10..2023-12（应有 6 个，实有 3 个）"),
    ("minimum", {"indicator": "people", "min": 20000, "period": "2023-H2"}, MONTHS, "2024-01-05", {"units": {"people": "人次"}}, Status.OK, "：2.25万人次，达到目标 2万人次"),
    ("minimum", {"indicator": "people", "min": 9000, "period": "2023-H2", "aggregate": "latest"}, MONTHS, OCT, {}, Status.WARN, "people 2023-H2（最新值）：目前为 8,400，低于目标 9,000；统计期到 2023-12-31 结束"),
    ("growth", {"indicator": "spend", "min": "5%"}, [("2022-H1", 13909), ("2023-H1", 17192)], OCT, {"units": {"spend": "万元"}}, Status.OK, "与 2022-H1 的 13,909 万元 相比，同比增长 +23.6%，达到最低要求 +5%"),
    ("growth", {"indicator": "spend", "min": "5%", "compare": "period_on_period"}, [("2022-H2", 100), ("2023-H1", 101)], OCT, {}, Status.BREACH, "环比增长 +1%，低于最低要求 +5%"),
    ("growth", {"indicator": "spend", "min": "0%", "warn_min": "5%", "compare": "baseline", "baseline": "2021"}, [("2021", 100), ("2022", 101)], OCT, {}, Status.WARN, "与基期 2021 的 100 相比，增长 +1%，达到最低要求 0%，但低于预警线 +5%"),
    ("growth", {"indicator": "spend", "min": "5%", "compare": "cagr", "baseline": "2020"}, [("2020", 100), ("2022", 121)], OCT, {}, Status.OK, "年均复合增长 +10%"),
    ("growth", {"indicator": "spend", "max": "10%"}, [("2021", 100), ("2022", 200)], OCT, {}, Status.BREACH, "高于上限 +10%"),
    ("growth", {"indicator": "spend"}, [("2021", 0), ("2022", 200)], OCT, {}, Status.UNKNOWN, "基数（2021 的 0）为零，无法计算增长率"),
    ("growth", {"indicator": "spend"}, [("2021", -1), ("2022", 200)], OCT, {}, Status.UNKNOWN, "为负数，增长率没有意义"),
    ("growth", {"indicator": "spend"}, [("2022", 200)], OCT, {}, Status.UNKNOWN, "没有 spend 在基期 2021 的观测数据"),
    ("growth", {"indicator": "spend", "period": "2023"}, [("2022", 1), ("2023", 2)], OCT, {}, Status.UNKNOWN, "2023 尚未结束（至 2023-12-31）"),
    ("growth", {"indicator": "spend"}, [("2023", 2)], OCT, {}, Status.UNKNOWN, "截至 2023-10-16 没有 spend 已结束期间的观测数据（2023 尚未结束）"),
    ("growth", {"indicator": "spend", "compare": "cagr", "baseline": "2022-H1"}, [("2022-H1", 1), ("2023", 2)], "2024-01-05", {}, Status.UNKNOWN, "两个期间的粒度不同（half 与 year）"),
    ("coverage", {"numerator": "kg.inclusive", "denominator": "kg.all", "min": "90%"}, [("2023-H1", 60)], OCT, {"others": DENOMINATOR, "labels": {"district": "A"}}, Status.OK, "2023-H1 覆盖率 93.75%（64 中的 60），达标（不低于 90%）"),
    ("coverage", {"numerator": "kg.inclusive", "denominator": "kg.all", "min": "90%", "warn_min": "95%"}, [("2023-H1", 60)], OCT, {"others": DENOMINATOR, "labels": {"district": "A"}}, Status.WARN, "达标，但低于预警线（不低于 90%，低于 95% 预警）"),
    ("coverage", {"numerator": "kg.inclusive", "denominator": "kg.all", "min": "95%", "max": "100%"}, [("2023-H1", 60)], OCT, {"others": DENOMINATOR, "labels": {"district": "A"}}, Status.BREACH, "比下限低 1.25 个百分点（介于 95% 与 100% 之间）"),
    ("coverage", {"numerator": "kg.inclusive", "min": "50%", "max": "90%"}, [("2023-H1", "95%")], OCT, {}, Status.BREACH, "高于上限（介于 50% 与 90% 之间）"),
    ("coverage", {"numerator": "kg.inclusive", "denominator": "kg.all", "min": "90%", "period": "2022-H1"}, [("2022-H1", 1)], OCT, {"others": DENOMINATOR, "labels": {"district": "A"}}, Status.UNKNOWN, "分母 kg.all 在 2022-H1 为 0，无法计算占比"),
    ("coverage", {"numerator": "kg.inclusive", "denominator": "kg.all", "min": "90%"}, [("2023-H1", 60)], OCT, {"labels": {"district": "A"}}, Status.UNKNOWN, "没有标签相同（district=A）的分母 kg.all 的观测数据"),
    ("coverage", {"numerator": "kg.inclusive", "denominator": "kg.all", "min": "90%", "period": "2021-H1"}, [("2023-H1", 60)], OCT, {"others": DENOMINATOR, "labels": {"district": "A"}}, Status.UNKNOWN, "没有 kg.inclusive 和 kg.all 在 2021-H1 的观测数据"),
    ("coverage", {"numerator": "kg.inclusive", "denominator": "kg.all", "min": "90%"}, [("2021-H1", 60)], OCT, {"others": DENOMINATOR, "labels": {"district": "A"}}, Status.UNKNOWN, "没有 kg.inclusive 与 kg.all 都有观测数据的期间"),
    ("progress", {"indicator": "places", "target": 3240, "start": "2023-01-01", "deadline": "2023-09-01"}, [("2023-08", 3240)], OCT, {}, Status.OK, "已完成：3,240，目标 3,240（期限 2023-09-01）"),
    ("progress", {"indicator": "places", "target": 3240, "start": "2023-01-01", "deadline": "2023-09-01", "gaps": "ignore"}, [("2023-08", 3000)], OCT, {}, Status.BREACH, "未完成：截至 2023-09-01 完成 3,000，目标 3,240"),
    ("progress", {"indicator": "places", "target": 3240, "start": "2023-07-01", "deadline": "2023-09-01"}, [("2023-07", 1000), ("2023-09", 2000)], OCT, {}, Status.UNKNOWN, "places 2023-07-01 至 2023-09-01 无法判定，以下期间没有观测值：2023-08（应有 3 个，实有 2 个）"),
    ("progress", {"indicator": "places", "target": 40, "start": "2023-01-01", "deadline": "2023-12-31"}, [("2023-H1", 29)], OCT, {}, Status.WARN, "落后于进度：已完成 29，按时间进度应完成 31.56（时间已过 78.9%）；预计到 2023-12-31 完成 36.75；需每天完成 0.1429 才能达到 40"),
    ("progress", {"indicator": "places", "target": 40, "start": "2023-01-01", "deadline": "2023-12-31", "hopeless_at": 1}, [("2023-H1", 29)], OCT, {}, Status.BREACH, "预计无法完成：已完成 29"),
    ("progress", {"indicator": "places", "target": 40, "start": "2023-01-01", "deadline": "2023-12-31"}, [("2023-H1", 35)], OCT, {}, Status.OK, "按进度：已完成 35，按时间进度应完成 31.56（时间已过 78.9%），目标是 2023-12-31 前达到 40"),
    ("progress", {"indicator": "places", "target": 40, "start": "2024-01-01", "deadline": "2024-12-31"}, [("2023-H1", 35)], OCT, {}, Status.UNKNOWN, "尚未开始：places 自 2024-01-01 起计"),
    ("progress", {"indicator": "places", "target": 40, "start": "2023-01-01", "deadline": "2023-12-31"}, [], OCT, {}, Status.UNKNOWN, "自 2023-01-01 以来没有 places 的观测数据"),
    ("progress", {"indicator": "places", "target": 40, "start": "2023-01-01", "deadline": "2023-12-31", "cumulative": True}, [("2022", 3)], OCT, {}, Status.UNKNOWN, "自 2023-01-01 以来没有报送 places 的累计数"),
    ("milestone", {"indicator": "campus", "deadline": "2023-09-01"}, [("2023-08-28", 1)], OCT, {}, Status.OK, "于 2023-08-28 完成，比期限 2023-09-01 提前 4 天"),
    ("milestone", {"indicator": "campus", "deadline": "2023-09-01"}, [("2023-09-01", 1)], OCT, {}, Status.OK, "于 2023-09-01 完成，正是期限当天（2023-09-01）"),
    ("milestone", {"indicator": "campus", "deadline": "2023-09-01"}, [("2023-09-02", 1)], OCT, {}, Status.BREACH, "于 2023-09-02 完成，比期限 2023-09-01 晚 1 天：未按期完成"),
    ("milestone", {"indicator": "campus", "deadline": "2023-09-01"}, [("2023-08", 1)], OCT, {}, Status.OK, "报告于 2023-08 完成，未超过期限 2023-09-01"),
    ("milestone", {"indicator": "campus", "deadline": "2023-09-01"}, [("2023-10", 1)], OCT, {}, Status.BREACH, "报告于 2023-10 完成，比期限 2023-09-01 至少晚 30 天：未按期完成"),
    ("milestone", {"indicator": "campus", "deadline": "2023-09-01"}, [("2023-08", 0)], OCT, {}, Status.BREACH, "未完成，已逾期 45 天（期限 2023-09-01）"),
    ("milestone", {"indicator": "campus", "deadline": "2023-10-16"}, [("2023-08", 0)], OCT, {}, Status.WARN, "未完成；今天到期（2023-10-16）"),
    ("milestone", {"indicator": "campus", "deadline": "2023-12-31", "warn_days": 90}, [("2023-09-30", 0)], OCT, {}, Status.WARN, "未完成；76 天后到期（2023-12-31）"),
    ("milestone", {"indicator": "campus", "deadline": "2023-12-31"}, [("2023-09-30", 0)], OCT, {}, Status.OK, "尚未完成；76 天后到期（2023-12-31）"),
    ("milestone", {"indicator": "campus", "deadline": "2023-12-31"}, [], OCT, {}, Status.UNKNOWN, "截至 2023-10-16 没有 campus 的观测数据，无法判断是否完成（期限 2023-12-31）"),
    ("rank", {"indicator": "learners", "max_rank": 1}, [("2023-H1", 32700)], OCT, {"others": PEERS, "labels": {"district": "A"}, "units": {"learners": "人"}}, Status.OK, "2023-H1 为 3.27万人，在 4 个对象中排第 1 名（目标：前 1 名）"),
    ("rank", {"indicator": "learners", "max_rank": 1, "warn_gap": 5000}, [("2023-H1", 32700)], OCT, {"others": PEERS, "labels": {"district": "A"}, "units": {"learners": "人"}}, Status.WARN, "；仅领先 district=B 2,700 人（预警线 5,000 人）"),
    ("rank", {"indicator": "learners", "max_rank": 1}, [("2023-H1", 12000)], OCT, {"others": PEERS, "labels": {"district": "A"}, "units": {"learners": "人"}}, Status.BREACH, "并列第 2 名（目标：前 1 名）；第一名 district=B 为 3万人"),
    ("rank", {"indicator": "learners", "max_rank": 1}, [("2023-H1", 12000)], OCT, {"others": NO_PEER_DATA, "labels": {"district": "A"}}, Status.UNKNOWN, "没有同类对象在 2023-H1 有数据"),
    ("rank", {"indicator": "learners", "max_rank": 2}, [("2023-H1", 12000)], OCT, {"others": [*PEERS, *NO_PEER_DATA[:0], series("learners", [("2022-H1", 1)], {"district": "E"}, SHANGHAI)], "labels": {"district": "A"}}, Status.OK, "；1 个无数据的同类对象未计入"),
    ("share", {"indicator": "awards", "min": "30%", "total": {"district": "city"}}, [("2023-H1", 24)], OCT, {"others": TOTAL, "labels": {"district": "A"}}, Status.OK, "24 占总量 72 的 33.33%（2023-H1），达标（不低于 30%）"),
    ("share", {"indicator": "awards", "min": "40%", "total": {"district": "city"}}, [("2023-H1", 24)], OCT, {"others": TOTAL, "labels": {"district": "A"}}, Status.BREACH, "比下限低 6.67 个百分点（不低于 40%）"),
    ("share", {"indicator": "awards", "min": "40%", "total": {"district": "city"}}, [("2022-H1", 1)], OCT, {"others": TOTAL, "labels": {"district": "A"}}, Status.UNKNOWN, "总量在 2022-H1 为 0，无法计算占比"),
    ("share", {"indicator": "awards", "min": "40%", "total": {"district": "nowhere"}}, [("2023-H1", 1)], OCT, {"others": TOTAL, "labels": {"district": "A"}}, Status.UNKNOWN, "匹配到 0 个对象，应恰好为一个"),
    ("share", {"indicator": "awards", "min": "40%", "total": {"district": "city"}}, [("2023-H1", 1)], OCT, {"others": TOTAL, "labels": {"district": "city"}}, Status.UNKNOWN, "该对象本身就是总量"),
    ("share", {"indicator": "awards", "min": "40%", "total": {"district": "city"}}, [("2021-H1", 1)], OCT, {"others": TOTAL, "labels": {"district": "A"}}, Status.UNKNOWN, "没有 2021-H1 的总量（district=city）"),
    ("share", {"indicator": "awards", "min": "40%"}, [("2023-H1", 1)], OCT, {"others": NO_AWARDS, "labels": {"district": "A"}}, Status.UNKNOWN, "以下同类对象没有 2023-H1 的数据：district=B；其合计不能作为总量"),
    ("freshness", {"indicator": "events", "max_age": "45d"}, [("2023-10", 1)], OCT, {}, Status.OK, "最新数据为 2023-10，该期间尚未结束；在 45d 以内"),
    ("freshness", {"indicator": "events", "max_age": "100d"}, [("2023-H1", 1)], OCT, {}, Status.BREACH, "最新数据为 2023-H1（截至 2023-06-30），已过去 107 天；要求不超过 100d"),
    ("freshness", {"indicator": "events", "max_age": "200d", "warn_age": "100d"}, [("2023-H1", 1)], OCT, {}, Status.WARN, "已超过预警时限 100d；最长允许 200d"),
    ("freshness", {"indicator": "events", "max_age": "200d"}, [], OCT, {}, Status.UNKNOWN, "截至 2023-10-16 没有 events 的观测数据"),
]

#: Words that may stay in Latin letters in a Chinese message: identifiers, labels, spans.
_LATIN_ALLOWED = {"include_open", "true", "gaps", "ignore", "current", "term", "half", "year", "district", "city"}


def _words(message: str) -> str:
    """The message without the units (元, 人, 人次, 万元), which are Chinese in both languages."""
    return re.sub(r"万?(元|人次|人)", "", message)


def _judge_both(kind: str, params: Mapping[str, Any], rows: Sequence[tuple[str, Any]], as_of: str, extra: Mapping[str, Any]) -> tuple[Judgement, Judgement]:
    extra = {"calendar": SHANGHAI, **extra}
    english = judge(kind, params, rows, as_of, **extra)
    with use_locale("zh-CN"):
        chinese = judge(kind, params, rows, as_of, **extra)
    return english, chinese


@pytest.mark.parametrize(("kind", "params", "rows", "as_of", "extra", "status", "phrase"), CASES, ids=[f"{c[0]}-{c[5].value}-{i}" for i, c in enumerate(CASES)])
def test_every_kind_speaks_chinese(kind: str, params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str, extra: dict[str, Any], status: Status, phrase: str) -> None:
    english, chinese = _judge_both(kind, params, rows, as_of, extra)
    assert english.status is chinese.status is status, english.message
    assert (english.value, english.target, english.margin, english.details) == (chinese.value, chinese.target, chinese.margin, chinese.details)
    assert phrase in chinese.message, chinese.message
    assert CJK.search(_words(chinese.message)) and not CJK.search(_words(english.message))
    identifiers = set(re.findall(r"[A-Za-z_]+", " ".join([json.dumps(params), *(str(p) for p, _ in rows)])))
    # A calendar error quoted after "cannot resolve period" is the calendar's English text.
    checked = re.sub(r"(无法解析期间 '[^']*')：.*", r"\1", chinese.message)
    left = set(re.findall(r"[A-Za-z_]{3,}", checked)) - identifiers - _LATIN_ALLOWED
    assert not left, f"English left in {chinese.message!r}: {left}"


def test_every_built_in_kind_is_covered() -> None:
    assert {c[0] for c in CASES} == set(Registry(entry_points=False).kinds)


# -- the command line ---------------------------------------------------------------------


@pytest.fixture
def invoke(seed_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.chdir(seed_root)
    monkeypatch.delenv("TARGETWATCH_LOCALE", raising=False)

    def run(*args: str, env: Mapping[str, str] | None = None) -> Any:
        result = CliRunner().invoke(cli, list(args), obj=Registry(entry_points=False), env=dict(env or {}))
        assert i18n.current() == "en", "a command's locale leaked out of it"
        return result

    yield run


def _columns_aligned(table: str) -> None:
    """Every row of a `simple` table starts its columns where the dashes under the headings do."""
    lines = table.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "} and line)
    starts = [m.start() for m in re.finditer(r"-+", lines[rule])]
    for line in [lines[rule - 1], *lines[rule + 1:]]:
        if line.startswith(("截至", "as of")):
            break
        for start in starts[1:]:
            if wcswidth(line) <= start:
                break  # the row's remaining cells are empty on this line
            prefix = ""
            width = 0
            for ch in line:  # cut the line at display column `start`
                if width >= start:
                    break
                prefix += ch
                width += wcswidth(ch)
            assert width == start and line[len(prefix) - 1] == " ", f"misaligned at column {start}: {line!r}"


def test_seed_check_in_chinese(invoke: Any) -> None:
    english = invoke("check", "--dry-run")
    result = invoke("--locale", "zh-CN", "check", "--dry-run")
    assert result.exit_code == english.exit_code == 2, result.output
    head = result.output.splitlines()[0].split()
    assert head == ["状态", "规则", "对象", "期间", "数值", "目标", "说明"]
    _columns_aligned(result.output)
    assert "BREACH 未达标" in result.output and "WARN 预警" in result.output
    assert all(phrase in result.output for phrase in ("落后于进度：目前完成", "2.46万人次", "2.9076万人次", "5万人次"))
    assert result.output.rstrip().endswith("截至 2023-10-16T00:00:00+08:00：OK 正常 12 项，WARN 预警 4 项，BREACH 未达标 2 项")
    for word in ("STATUS", "behind pace", "expected by now"):
        assert word not in result.output


def test_english_stays_the_default(invoke: Any) -> None:
    result = invoke("check", "--dry-run")
    assert result.output.splitlines()[0].split() == ["STATUS", "RULE", "SERIES", "PERIOD", "VALUE", "TARGET", "WHY"]
    assert "24,600 人次" in result.output and not re.search(r"[正预未]", result.output.splitlines()[-1])


def test_the_config_locale_applies_and_the_option_outranks_it(seed_copy: Path, invoke: Any) -> None:
    text = seed_copy.read_text(encoding="utf-8")
    seed_copy.write_text('locale = "zh_CN"\n' + text, encoding="utf-8")
    result = invoke("check", "--dry-run", "-c", str(seed_copy))
    assert result.exit_code == 2 and result.output.splitlines()[0].split()[:2] == ["状态", "规则"]
    _columns_aligned(result.output)
    overridden = invoke("--locale", "en", "check", "--dry-run", "-c", str(seed_copy))
    assert overridden.output.splitlines()[0].split()[:2] == ["STATUS", "RULE"]
    by_env = invoke("check", "--dry-run", env={"TARGETWATCH_LOCALE": "zh-Hans"})
    assert by_env.output.splitlines()[0].split()[:2] == ["状态", "规则"]


def test_json_keeps_english_keys_and_statuses(invoke: Any) -> None:
    english = json.loads(invoke("check", "--dry-run", "-f", "json").output)
    chinese = json.loads(invoke("--locale", "zh-CN", "check", "--dry-run", "-f", "json").output)
    assert chinese.keys() == english.keys() and chinese["summary"] == english["summary"]
    for en, zh in zip(english["verdicts"], chinese["verdicts"], strict=True):
        assert zh.keys() == en.keys()
        assert (zh["status"], zh["value"], zh["target"], zh["details"], zh["unit"]) == (en["status"], en["value"], en["target"], en["details"], en["unit"])
        if en["rule"] != "preschool.inclusive-coverage":  # its message is the rule's own template
            assert CJK.search(zh["message"]) and zh["message"] != en["message"]
    junit = invoke("--locale", "zh-CN", "check", "--dry-run", "-f", "junit").output
    assert 'type="BREACH"' in junit or "BREACH" in junit


def test_markdown_check_explain_and_report_in_chinese(invoke: Any) -> None:
    markdown = invoke("--locale", "zh-CN", "check", "--dry-run", "-f", "markdown").output
    assert markdown.startswith("## targetwatch 截至 2023-10-16T00:00:00+08:00：OK 正常 12 项")
    assert "| 状态" in markdown and "| BREACH 未达标" in markdown
    explained = invoke("--locale", "zh-CN", "explain", "sport.events-h2")
    assert explained.exit_code == 1, explained.output
    for phrase in ("规则 sport.events-h2：", "  类型       minimum（插件", "  参数：", "  计算过程：", "  判定       WARN 预警：", "             数值 2.46万人次，目标 2.9076万人次，余量 -4,476.09 人次，期间 2023-H2"):
        assert phrase in explained.output
    report = invoke("--locale", "zh-CN", "report", "--period", "2023-H2", "--format", "markdown").output
    assert report.startswith("# 2023-H2 目标完成情况\n")
    assert "18 项目标，涉及 17 个指标" in report and "**概况：** OK 正常 12 项 · WARN 预警 4 项 · BREACH 未达标 2 项" in report
    assert "判定时间 2023-10-16 00:00 (UTC+08:00)（配置中的 as_of）：2023-H2 尚未结束，已过 58.15%。" in report
    assert "| 状态 " in report and "| 余量 " in report


def test_html_report_in_chinese(invoke: Any, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = invoke("--locale", "zh-CN", "report", "--period", "2023-H2", "-o", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "<h2>需要关注</h2>" in page and "<th>余量</th>" in page
    assert 'aria-label="2023-H2 已过 58%"' in page and "BREACH 未达标" in page and 'data-status="BREACH"' in page
    assert "Needs attention" not in page and "<th>Margin</th>" not in page
    english = tmp_path / "en.html"
    invoke("report", "--period", "2023-H2", "-o", str(english))
    assert '<html lang="en">' in english.read_text(encoding="utf-8")


def test_an_unknown_locale_exits_3_naming_the_available_ones(invoke: Any, seed_copy: Path) -> None:
    result = invoke("--locale", "fr", "check", "--dry-run")
    assert result.exit_code == 3 and "unknown locale 'fr'; available: 'en', 'zh-CN'" in result.output
    seed_copy.write_text('locale = "fr"\n' + seed_copy.read_text(encoding="utf-8"), encoding="utf-8")
    bad = invoke("check", "--dry-run", "-c", str(seed_copy))
    assert bad.exit_code == 3
    assert re.search(r"targetwatch.toml:1: locale: .*expected one of 'en', 'zh-CN', 'zh_CN', 'zh-Hans'", bad.output), bad.output


def test_notifications_follow_the_locale(seed_copy: Path, invoke: Any) -> None:
    result = invoke("--locale", "zh-CN", "check", "-c", str(seed_copy), "--now", "2023-10-16T07:00")
    assert result.exit_code == 2, result.output
    sent = (seed_copy.parent / ".targetwatch" / "notifications.jsonl").read_text(encoding="utf-8")
    assert "targetwatch 截至 2023-10-16T00:00:00+08:00：BREACH 未达标 2 项" in sent
    assert "[BREACH 未达标]" in sent


def test_the_wheel_ships_the_catalog(tmp_path: Path) -> None:
    """The built wheel holds the compiled catalog beside the package (hatch ships package data)."""
    import subprocess
    import zipfile

    pytest.importorskip("hatchling")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("targetwatch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "targetwatch/locale/zh_CN/LC_MESSAGES/targetwatch.mo" in names


# -- the report's charts ------------------------------------------------------------------

#: Words of targetwatch's own chart text in English; none may remain in a Chinese chart.
CHART_WORDS = re.compile(
    r"\b(target|pace|total so far|count so far|as of|judged|base|forecast|expected|observations|coverage|breach|"
    r"this series|peers|stale|deadline|done at|due by|rank|share|min|max|warn|level|newest|progress|against|"
    r"sum|count|mean|allowance|to|in|of|by|for|from)\b")


def _chart_texts(page: str) -> list[tuple[list[str], str]]:
    """Each chart's drawn words (legend, band, axis and bar labels) and its aria-label, unescaped."""
    import html

    charts = re.findall(r'<svg class="chart"[^>]*aria-label="([^"]*)"[^>]*>(.*?)</svg>', page, flags=re.DOTALL)
    return [([html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", body)], html.unescape(label)) for label, body in charts]


def _without_user_text(text: str, indicators: Mapping[str, Any]) -> str:
    """The text with the project's own words taken out: indicator titles, names and units."""
    words = {w for name, info in indicators.items() for w in (info.title, name, info.unit) if w}
    for word in sorted(words, key=len, reverse=True):  # a title before the unit that is a word of it
        text = text.replace(word, "")
    return text


def test_html_report_charts_in_chinese(invoke: Any, tmp_path: Path, seed_config: Path) -> None:
    from targetwatch.engine import Engine

    indicators = Engine.from_config(seed_config, registry=Registry(entry_points=False)).indicators
    pages = {}
    for locale in ("en", "zh-CN"):
        out = tmp_path / f"{locale}.html"
        assert invoke("--locale", locale, "report", "--period", "2023-H2", "-o", str(out)).exit_code == 0
        pages[locale] = _chart_texts(out.read_text(encoding="utf-8"))
    english, chinese = pages["en"], pages["zh-CN"]
    assert len(english) == len(chinese) >= 15
    # The English page draws the words this test looks for, so their absence below means something.
    assert any("pace (target × time elapsed)" in texts for texts, _ in english)
    assert any(CHART_WORDS.search(_without_user_text(label, indicators)) for _, label in english)
    drawn = [t for texts, _ in chinese for t in texts]
    for phrase in ("按进度（目标 × 已过时间）", "累计完成", "目标 5万人次", "预计全期 4.2303万人次", "按时间进度应完成 2.9076万人次",
                   "截至 2023-10-16", "基期：2022-H1", "考核期：2023-H1", "达标线 13,909 万元", "下限 95%", "预警下限 70%",
                   "期限 2023-12-31", "完成线 1", "2023-10-09 后数据过期", "数据过期：最新数据为 2023-H1", "未达标：2023-autumn 为 4.95%",
                   "本对象", "同类对象", "下限：72 的 30%，即 21.6"):
        assert phrase in drawn, phrase
    labels = [label for _, label in chinese]
    assert any("：2023-H1 对比 2022-H1（同比）；" in label for label in labels)
    assert any("（田家庵区）：2023-H2 合计；累计完成：2023-07-01 0 人次，" in label for label in labels)
    assert any("田家庵区（本对象） 24，谢家集区 11" in label for label in labels)
    for (en_texts, en_label), (zh_texts, zh_label) in zip(english, chinese, strict=True):
        assert len(en_texts) == len(zh_texts)
        for en, zh in zip(en_texts, zh_texts, strict=True):
            ours = _without_user_text(zh, indicators)
            assert not CHART_WORDS.search(ours), f"English left in a chart: {zh!r}"
            if CHART_WORDS.search(_without_user_text(en, indicators)):
                assert CJK.search(ours), f"{en!r} is not translated: {zh!r}"
        assert not CHART_WORDS.search(_without_user_text(zh_label, indicators)), f"English left in a chart description: {zh_label!r}"
    page = (tmp_path / "zh-CN.html").read_text(encoding="utf-8")
    assert 'aria-label="BREACH 未达标 2 项，WARN 预警 4 项，OK 正常 12 项"' in page


CHART_RULES: dict[str, list[dict[str, Any]]] = {"rule": [
    {"id": "cap.sum", "kind": "cap", "indicator": "visits", "max": 20000, "warn_at": 15000, "aggregate": "sum", "period": "2023-H2"},
    {"id": "cap.latest", "kind": "cap", "indicator": "level", "max": 95, "warn_at": 92},
    {"id": "threshold.range", "kind": "threshold", "indicator": "level", "min": 92, "max": 98, "warn_min": 93, "warn_max": 97},
    {"id": "minimum.count", "kind": "minimum", "indicator": "visits", "min": 6, "period": "2023-H2", "aggregate": "count"},
    {"id": "minimum.mean", "kind": "minimum", "indicator": "visits", "min": 9000, "period": "2023-H2", "aggregate": "mean", "warn_below": 9500},
    {"id": "growth.pop", "kind": "growth", "indicator": "level", "min": "10%", "warn_min": "20%", "compare": "period_on_period"},
    {"id": "milestone", "kind": "milestone", "indicator": "done", "deadline": "2023-09-30"},
]}
CHART_ROWS = [{"indicator": "visits", "period": p, "value": v, "district": "A"} for p, v in (("2023-07", "6200"), ("2023-08", "7900"), ("2023-09", "8400"), ("2023-10", "2100"))] + \
    [{"indicator": "level", "period": p, "value": v, "district": "A"} for p, v in (("2022-H1", "100"), ("2023-H1", "90"), ("2023-07", "91"), ("2023-08", "99"))] + \
    [{"indicator": "done", "period": "2023-09", "value": "0", "district": "A"}]


@pytest.mark.parametrize("moment", ["2023-10-16", "2024-02-01"])
def test_every_chart_path_speaks_chinese(moment: str) -> None:
    """Chart paths the seed does not reach (a cap's allowance, a count, a mean, warning bounds on
    both sides, period-on-period growth, a missed milestone), open and closed, in both languages."""
    from targetwatch.engine import Engine
    from targetwatch.model import Indicator
    from targetwatch.report import build_report
    from targetwatch.report.charts import describe, render
    from targetwatch.rules import rules_from_data

    registry = Registry(entry_points=False)
    rules, problems = rules_from_data(CHART_RULES, registry.kinds, calendar=SHANGHAI)
    assert not problems
    indicators = {"visits": Indicator("visits", "参与人次", "人次"), "level": Indicator("level"), "done": Indicator("done")}
    engine = Engine(rules, sources=[CHART_ROWS], calendar=SHANGHAI, indicators=indicators, registry=registry)
    data, _ = engine.load()
    texts = {}
    for locale in ("en", "zh-CN"):
        with use_locale(locale):
            result = engine.check(moment, data=data)
            report = build_report(engine, data, result, SHANGHAI.parse("2023-H2"))
            texts[locale] = {e.rule: (describe(e.chart), _chart_texts(str(render(e.chart, "c")))[0][0]) for e in report.entries if e.chart is not None}
    assert texts["en"].keys() == texts["zh-CN"].keys() == {r["id"] for r in CHART_RULES["rule"]}
    english = " ".join(label for label, _ in texts["en"].values())
    for phrase in ("pace (allowance × time elapsed)" if moment < "2024" else "max 20,000", "count so far", "warn above 97", "warning level", "period_on_period", "done at 1"):
        assert phrase in english, phrase
    for rule, (label, drawn) in texts["zh-CN"].items():
        for text in (label, *drawn):
            assert not CHART_WORDS.search(_without_user_text(text, indicators)), f"{rule}: English left in {text!r}"
    chinese = " ".join(label for label, _ in texts["zh-CN"].values())
    for phrase in ("累计个数", "预警上限 97", "预警线", "（环比）", "完成线 1", "2023-H2 平均值", "上限 2万人次"):
        assert phrase in chinese, phrase
    if moment < "2024":
        assert "按进度（上限 × 已过时间）" in chinese
