"""targetwatch.toml: a full config loads; every problem is reported at once, with its line."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from targetwatch.config import Config, config_from_mapping, find_config, load_config
from targetwatch.errors import ConfigError, Problem
from targetwatch.plugins import Registry

FULL = """\
rules = ["rules", "more/extra.yaml"]
timezone = "Asia/Shanghai"
as_of = "2023-10-16T09:30"

[calendar]
fiscal_year_start = 4

[[calendar.terms]]
name = "2023-spring"
start = "2023-02-13"
end = "2023-07-07"

[[calendar.terms]]
name = "2023-autumn"
start = 2023-09-01
end = 2024-01-31

[indicators."edu.expenditure"]
title = "教育经费支出"
unit = "万元"
description = "Spent on education."

[indicators.share]
unit = "%"

[[sources]]
name = "bureau"
type = "csv"
path = "data/observations.csv"
ignore = ["provenance"]

[[sources]]
type = "json"
path = "data/more.json"
"""


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targetwatch.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line(path: Path, text: str) -> int:
    found = [n for n, t in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if text in t]
    assert len(found) == 1, (text, found)
    return found[0]


def problems_for(path: Path, registry: Registry) -> list[Problem]:
    with pytest.raises(ConfigError) as exc:
        load_config(path, registry)
    return list(exc.value.problems)


def test_full_config(tmp_path: Path, registry: Registry) -> None:
    path = write_config(tmp_path, FULL)
    config = load_config(path, registry)
    assert isinstance(config, Config)
    assert config.path == path and config.base_dir == tmp_path
    assert config.rule_paths == (tmp_path / "rules", tmp_path / "more" / "extra.yaml")
    assert config.as_of == "2023-10-16T09:30"
    cal = config.calendar
    assert cal.timezone == "Asia/Shanghai" and cal.fiscal_year_start == 4
    # `end` is the last day of the term, inclusive.
    autumn = cal.parse("2023-autumn")
    assert autumn.start == dt.date(2023, 9, 1) and autumn.last_day == dt.date(2024, 1, 31)
    assert autumn.contains(dt.date(2024, 1, 31)) and not autumn.contains(dt.date(2024, 2, 1))
    assert cal.parse("2023-spring").last_day == dt.date(2023, 7, 7)
    # fiscal_year_start = 4: FY2023 runs April 2023 .. March 2024.
    fy = cal.parse("FY2023")
    assert (fy.start, fy.last_day) == (dt.date(2023, 4, 1), dt.date(2024, 3, 31))
    exp = config.indicators["edu.expenditure"]
    assert (exp.title, exp.unit, exp.description) == ("教育经费支出", "万元", "Spent on education.")
    assert config.indicators["share"].unit == "%"
    assert [(s.name, s.type) for s in config.sources] == [("bureau", "csv"), ("json-2", "json")]
    assert config.sources[0].params.path == "data/observations.csv"
    assert config.sources[0].params.ignore == ("provenance",)
    headers = [n for n, t in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if t == "[[sources]]"]
    assert [s.line for s in config.sources] == headers


def test_defaults(tmp_path: Path, registry: Registry) -> None:
    config = load_config(write_config(tmp_path, "# empty\n"), registry)
    assert config.rule_paths == (tmp_path / "rules",)
    assert config.calendar.timezone == "UTC"
    assert config.as_of is None and config.sources == () and dict(config.indicators) == {}


def test_every_problem_at_once_with_lines(tmp_path: Path, registry: Registry) -> None:
    path = write_config(tmp_path, """\
        rules = ["rules"]
        timezone = "Mars/Olympus"
        as_of = "yesterday-ish"
        colour = "blue"

        [[calendar.terms]]
        name = "backwards"
        start = "2023-02-01"
        end = "2023-01-01"

        [[calendar.terms]]
        name = "first"
        start = "2023-03-01"
        end = "2023-06-30"

        [[calendar.terms]]
        name = "second"
        start = "2023-06-30"
        end = "2023-08-30"

        [[sources]]
        type = "ftp"
        path = "x.csv"

        [[sources]]
        type = "csv"
        pth = "x.csv"
    """)
    problems = problems_for(path, registry)
    by_key = {p.key: p for p in problems}
    shown = [str(p) for p in problems]

    p = by_key["colour"]
    assert p.line == line(path, "colour") and "unknown key 'colour'" in p.message
    p = by_key["timezone"]
    assert p.line == line(path, "Mars/Olympus") and "IANA time zone" in p.message and "Mars/Olympus" in p.message
    p = by_key["as_of"]
    assert p.line == line(path, "yesterday-ish") and "yesterday-ish" in p.message
    p = by_key["calendar.terms[0].end"]
    assert p.line == line(path, 'end = "2023-01-01"') and "before it starts" in p.message
    (p,) = [p for p in problems if "overlap" in p.message]
    assert p.line is not None and line(path, 'name = "first"') - 1 <= p.line <= line(path, 'name = "second"') + 2
    assert "'first'" in p.message and "'second'" in p.message
    p = by_key["sources[0].type"]
    assert p.line == line(path, '"ftp"')
    assert "found 'ftp'" in p.message and all(t in p.message for t in ("csv", "json", "sqlite"))
    p = by_key["sources[1].pth"]
    assert p.line == line(path, "pth =") and "did you mean 'path'" in p.message
    assert "sources[1].path" in by_key  # the required key is missing too
    assert len(problems) == 8, shown
    assert all(p.file == str(path) for p in problems)


def test_bad_values_of_known_keys(tmp_path: Path, registry: Registry) -> None:
    path = write_config(tmp_path, """\
        rules = 5
        timezone = "Asia/Shanghai"

        [calendar]
        fiscal_year_start = 13

        [[calendar.terms]]
        name = "t"
        start = "soon"
        end = "2023-01-01"

        [indicators.x]
        unit = 3

        [[sources]]
        type = "csv"
        path = "a.csv"
        name = "dup"

        [[sources]]
        type = "csv"
        path = "b.csv"
        name = "dup"
    """)
    problems = problems_for(path, registry)
    keys = {p.key for p in problems}
    assert {"rules", "calendar.terms[0].start", "indicators.x.unit", "sources[1].name"} <= keys, [str(p) for p in problems]
    (month,) = [p for p in problems if "fiscal_year_start" in str(p)]
    assert "13" in month.message and month.line == line(path, "[calendar]")
    assert any("duplicate source name 'dup'" in p.message for p in problems)
    assert all(p.line is not None for p in problems), [str(p) for p in problems]


def test_term_named_like_a_builtin_period_is_rejected(tmp_path: Path, registry: Registry) -> None:
    path = write_config(tmp_path, '[[calendar.terms]]\nname = "2023-H1"\nstart = "2023-01-01"\nend = "2023-03-01"\n')
    (p,) = problems_for(path, registry)
    assert "built-in period" in p.message and p.line is not None


def test_a_term_on_a_single_day_is_valid(tmp_path: Path, registry: Registry) -> None:
    path = write_config(tmp_path, '[[calendar.terms]]\nname = "exam-day"\nstart = "2023-06-07"\nend = "2023-06-07"\n')
    period = load_config(path, registry).calendar.parse("exam-day")
    assert period.start == period.last_day == dt.date(2023, 6, 7)


def test_missing_config_file_is_named(tmp_path: Path, registry: Registry) -> None:
    missing = tmp_path / "nowhere" / "targetwatch.toml"
    with pytest.raises(ConfigError) as exc:
        load_config(missing, registry)
    assert str(missing) in str(exc.value) and "cannot read" in str(exc.value)


def test_invalid_toml_names_the_line(tmp_path: Path, registry: Registry) -> None:
    path = write_config(tmp_path, 'rules = ["rules"]\ntimezone = Asia/Shanghai\n')
    (p,) = problems_for(path, registry)
    assert p.file == str(path) and p.line == 2 and "invalid TOML" in p.message


def test_env_variables_in_config(tmp_path: Path, registry: Registry) -> None:
    data = {"timezone": "${TW_TZ}", "sources": [{"type": "csv", "path": "${TW_DATA}/x.csv"}]}
    config = config_from_mapping(data, registry, path=tmp_path / "targetwatch.toml", env={"TW_TZ": "Asia/Shanghai", "TW_DATA": "/srv"})
    assert config.calendar.timezone == "Asia/Shanghai"
    assert config.sources[0].params.path == "/srv/x.csv"
    with pytest.raises(ConfigError, match="'TW_DATA' is not set"):
        config_from_mapping(data, registry, env={"TW_TZ": "UTC"})


def test_find_config(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None
    path = write_config(tmp_path, "")
    assert find_config(tmp_path) == path


def test_seed_config_loads(seed_config: Path, registry: Registry) -> None:
    config = load_config(seed_config, registry)
    assert config.calendar.timezone == "Asia/Shanghai" and config.as_of == "2023-10-16"
    assert [t.name for t in config.calendar.terms] == ["2022-autumn", "2023-spring", "2023-autumn"]
    assert [s.type for s in config.sources] == ["csv"]
    assert "edu.expenditure" in config.indicators
