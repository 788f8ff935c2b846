"""Rule files: TOML and YAML, defaults, folders, and every problem in one ConfigError."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from targetwatch.errors import ConfigError, Problem
from targetwatch.periods import Calendar, Term
from targetwatch.plugins import Registry
from targetwatch.rules import load_rules


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(exc: pytest.ExceptionInfo[ConfigError]) -> list[Problem]:
    return list(exc.value.problems)


def line(path: Path, text: str) -> int:
    """The 1-based number of the one line of ``path`` containing ``text``."""
    found = [n for n, t in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if text in t]
    assert len(found) == 1, (text, found)
    return found[0]


def one(problems: list[Problem], needle: str) -> Problem:
    found = [p for p in problems if needle in p.message]
    assert len(found) == 1, (needle, [str(p) for p in problems])
    return found[0]


@pytest.fixture
def kinds(registry: Registry):
    return registry.kinds


@pytest.fixture
def calendar() -> Calendar:
    import datetime as dt

    return Calendar("Asia/Shanghai", terms=[Term("2023-autumn", dt.date(2023, 9, 1), dt.date(2024, 2, 1))])


def test_toml_rules_load_with_their_params(tmp_path: Path, kinds) -> None:
    path = write(tmp_path / "r.toml", """
        [[rule]]
        id = "a"
        title = "标题 A"
        kind = "threshold"
        indicator = "x"
        min = "95%"
        tags = ["t1", "t2"]
        severity = "warning"

        [[rule]]
        id = "b"
        kind = "cap"
        indicator = "y"
        max = 0.0489
    """)
    rules = load_rules([path], kinds)
    assert [r.id for r in rules] == ["a", "b"]
    a, b = rules
    assert (a.title, a.kind, a.indicator, a.severity, a.tags) == ("标题 A", "threshold", "x", "warning", ("t1", "t2"))
    assert a.params.min == Decimal("0.95")
    assert b.title == "b"  # the id when no title is given
    assert b.params.max == Decimal("0.0489")
    assert a.file == str(path) and a.line == 2


def test_yaml_rules_list_and_bare_list(tmp_path: Path, kinds) -> None:
    mapping = write(tmp_path / "a.yaml", """
        rules:
          - id: y.one
            kind: threshold
            indicator: x
            max: 4.89%
    """)
    bare = write(tmp_path / "b.yml", """
        - id: y.two
          kind: threshold
          indicator: x
          min: 1
    """)
    rules = load_rules([mapping, bare], kinds)
    assert [r.id for r in rules] == ["y.one", "y.two"]
    assert rules[0].params.max == Decimal("0.0489")
    assert rules[0].line == 3


@pytest.mark.parametrize("suffix", ["toml", "yaml"])
def test_defaults_are_inherited_and_rule_keys_win(tmp_path: Path, kinds, suffix: str) -> None:
    if suffix == "toml":
        text = """
            [defaults]
            labels = { district = "A" }
            tags = ["shared"]
            severity = "info"
            indicator = "x"

            [[rule]]
            id = "inherits"
            kind = "threshold"
            min = 1

            [[rule]]
            id = "overrides"
            kind = "threshold"
            min = 1
            severity = "critical"
            labels = { district = "B" }
            indicator = "z"
        """
    else:
        text = """
            defaults:
              labels: {district: A}
              tags: [shared]
              severity: info
              indicator: x
            rules:
              - {id: inherits, kind: threshold, min: 1}
              - {id: overrides, kind: threshold, min: 1, severity: critical, labels: {district: B}, indicator: z}
        """
    rules = load_rules([write(tmp_path / f"r.{suffix}", text)], kinds)
    inherits, overrides = rules
    assert inherits.severity == "info" and inherits.tags == ("shared",) and inherits.indicator == "x"
    assert inherits.selector.matches((("district", "A"),)) and not inherits.selector.matches((("district", "B"),))
    assert overrides.severity == "critical" and overrides.indicator == "z"
    assert overrides.selector.matches((("district", "B"),)) and not overrides.selector.matches((("district", "A"),))
    assert overrides.tags == ("shared",)


def test_folders_are_read_recursively_in_order(tmp_path: Path, kinds) -> None:
    rule = "[[rule]]\nid = \"{id}\"\nkind = \"threshold\"\nindicator = \"x\"\nmin = 1\n"
    write(tmp_path / "rules" / "b.toml", rule.format(id="b"))
    write(tmp_path / "rules" / "a.toml", rule.format(id="a"))
    write(tmp_path / "rules" / "deep" / "er" / "c.yaml", "- {id: c, kind: threshold, indicator: x, min: 1}\n")
    write(tmp_path / "rules" / "notes.txt", "not a rule file")
    write(tmp_path / "rules" / ".hidden.toml", "garbage = [")
    rules = load_rules([tmp_path / "rules"], kinds)
    assert [r.id for r in rules] == ["a", "b", "c"]


def test_missing_path_is_a_problem(tmp_path: Path, kinds) -> None:
    with pytest.raises(ConfigError) as exc:
        load_rules([tmp_path / "nope"], kinds)
    assert "no such rule file or folder" in str(exc.value)
    assert str(tmp_path / "nope") in str(exc.value)


def test_enabled_false_is_loaded_but_not_selected(tmp_path: Path, kinds) -> None:
    from targetwatch.engine import Engine

    path = write(tmp_path / "r.toml", """
        [[rule]]
        id = "on"
        kind = "threshold"
        indicator = "x"
        min = 1

        [[rule]]
        id = "off"
        kind = "threshold"
        indicator = "x"
        min = 1
        enabled = false
    """)
    rules = load_rules([path], kinds)
    assert {r.id: r.enabled for r in rules} == {"on": True, "off": False}
    assert [r.id for r in Engine(rules).select()] == ["on"]


def test_every_problem_in_every_file_in_one_error(tmp_path: Path, kinds, calendar: Calendar) -> None:
    a = write(tmp_path / "rules" / "a.toml", """
        [[rule]]
        id = "dup"
        kind = "threshold"
        indicator = "x"
        min = 5

        [[rule]]
        id = "unknown-key"
        kind = "threshold"
        indicator = "x"
        min = 5
        tresh = 3
        warn_mni = 6

        [[rule]]
        id = "bad-kind"
        kind = "threshhold"
        indicator = "x"

        [[rule]]
        id = "wrong-type"
        kind = "threshold"
        indicator = "x"
        min = "abc"
        severity = 3

        [[rule]]
        id = "missing-key"
        kind = "cap"
        indicator = "x"

        [[rule]]
        id = "unknown-indicator"
        kind = "threshold"
        indicator = "scroe"
        min = 1

        [[rule]]
        id = "bad-period"
        kind = "minimum"
        indicator = "x"
        min = 5
        period = "2023-autum"

        [[rule]]
        id = "bad-period-2"
        kind = "minimum"
        indicator = "x"
        min = 5
        period = "2023-H3"

        [[rule]]
        id = "bad-template"
        kind = "threshold"
        indicator = "x"
        min = 5
        message = "得分 {value"

        [[rule]]
        id = "bad-placeholder"
        kind = "threshold"
        indicator = "x"
        min = 5
        message = "{value.__class__}"

        [[rule]]
        id = "unset-env"
        kind = "threshold"
        indicator = "x"
        min = 1
        title = "${TW_TEST_SURELY_UNSET}"
    """)
    b = write(tmp_path / "rules" / "sub" / "b.yaml", """
        rules:
          - id: fine
            kind: threshold
            indicator: x
            min: 1
          - id: dup
            kind: threshold
            indicator: x
            min: 1
          - id: no-kind
            indicator: x
    """)
    with pytest.raises(ConfigError) as exc:
        load_rules([tmp_path / "rules"], kinds, calendar=calendar, indicators={"x", "score"}, env={})
    problems = problems_of(exc)
    fa, fb = str(a), str(b)

    p = one(problems, "unknown key 'tresh'")
    assert (p.file, p.line, p.key) == (fa, line(a, "tresh"), "rule[1].tresh")
    assert "expected one of: " in p.message and "warn_min" in p.message  # the allowed keys are listed
    p = one(problems, "unknown key 'warn_mni'")
    assert (p.line, p.key) == (line(a, "warn_mni"), "rule[1].warn_mni")
    assert "did you mean 'warn_min'?" in p.message

    p = one(problems, "unknown rule kind 'threshhold'")
    assert (p.file, p.line, p.key) == (fa, line(a, "threshhold"), "rule[2].kind")
    assert "did you mean 'threshold'" in p.message
    for name in ("cap", "coverage", "growth", "minimum", "threshold"):
        assert name in p.message  # the available kinds are listed

    p = one(problems, "found 'abc'")
    assert (p.file, p.line, p.key) == (fa, line(a, '"abc"'), "rule[3].min")
    assert "expected a number" in p.message
    p = one(problems, "found int 3")
    assert (p.line, p.key) == (line(a, "severity = 3"), "rule[3].severity")
    assert "'critical'" in p.message

    p = one(problems, "missing required key 'max'")
    assert (p.file, p.line, p.key) == (fa, line(a, '"missing-key"') - 1, "rule[4].max")
    assert "rule 'missing-key'" in p.message

    p = one(problems, "unknown indicator 'scroe'")
    assert (p.line, p.key) == (line(a, '"scroe"'), "rule[5].indicator")
    assert "did you mean 'score'" in p.message

    p = one(problems, "'2023-autum'")
    assert (p.line, p.key) == (line(a, '"2023-autum"'), "rule[6].period")
    assert "2023-autumn" in p.message  # the configured terms are listed
    p = one(problems, "'2023-H3'")
    assert (p.line, p.key) == (line(a, '"2023-H3"'), "rule[7].period")

    p = one(problems, "invalid template")
    assert (p.line, p.key) == (line(a, '"得分 {value"'), "rule[8].message")
    p = one(problems, "invalid placeholder")
    assert (p.line, p.key) == (line(a, "__class__"), "rule[9].message")

    p = one(problems, "'TW_TEST_SURELY_UNSET' is not set")
    assert (p.file, p.line, p.key) == (fa, line(a, "TW_TEST_SURELY_UNSET"), "rule[10].title")

    p = one(problems, "duplicate rule id 'dup'")
    assert p.file == fb and p.line == line(b, "- id: dup")
    first_line = line(a, 'id = "dup"') - 1
    assert f"first defined at {fa}:{first_line}" in p.message

    p = one(problems, "missing required key 'kind'")
    assert (p.file, p.key) == (fb, "rules[2].kind")
    assert p.line == line(b, "- id: no-kind")
    assert len(problems) == 14, [str(p) for p in problems]
    # The text of the exception lists every problem with file:line.
    assert f"{fa}:{line(a, 'tresh')}: rule[1].tresh" in str(exc.value)


def test_env_variables_are_substituted_in_values(tmp_path: Path, kinds) -> None:
    path = write(tmp_path / "r.toml", """
        [[rule]]
        id = "env"
        title = "达标 ${TW_SITE} $$5"
        kind = "threshold"
        indicator = "${TW_INDICATOR}"
        min = "${TW_MIN}"
    """)
    (rule,) = load_rules([path], kinds, env={"TW_SITE": "田家庵区", "TW_INDICATOR": "edu.x", "TW_MIN": "95%"})
    assert rule.title == "达标 田家庵区 $5"
    assert rule.indicator == "edu.x"
    assert rule.params.min == Decimal("0.95")


def test_env_defaults_to_the_process_environment(tmp_path: Path, kinds, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "r.toml", '[[rule]]\nid = "e"\nkind = "threshold"\nindicator = "${TW_IND}"\nmin = 1\n')
    monkeypatch.setenv("TW_IND", "from-env")
    (rule,) = load_rules([path], kinds)
    assert rule.indicator == "from-env"
    monkeypatch.delenv("TW_IND")
    with pytest.raises(ConfigError, match="'TW_IND' is not set"):
        load_rules([path], kinds)


def test_bad_toml_syntax_names_the_line(tmp_path: Path, kinds) -> None:
    good = write(tmp_path / "rules" / "a.toml", '[[rule]]\nid = "a"\nkind = "threshold"\nindicator = "x"\nmin = 1\n')
    bad = write(tmp_path / "rules" / "b.toml", '[[rule]]\nid = "b"\nkind = "threshold"\nmin = 1 2\nindicator = "x"\n')
    with pytest.raises(ConfigError) as exc:
        load_rules([tmp_path / "rules"], kinds)
    (p,) = problems_of(exc)
    assert p.file == str(bad) and p.line == 4
    assert "invalid TOML" in p.message
    assert str(good) not in str(exc.value)


def test_bad_yaml_syntax_names_the_line(tmp_path: Path, kinds) -> None:
    bad = write(tmp_path / "r.yaml", "rules:\n  - id: a\n    kind: [threshold\n  - id: b\n")
    with pytest.raises(ConfigError) as exc:
        load_rules([bad], kinds)
    (p,) = problems_of(exc)
    assert p.file == str(bad) and p.line is not None and 3 <= p.line <= 4
    assert "invalid YAML" in p.message


def test_yaml_is_loaded_safely(tmp_path: Path, kinds) -> None:
    bad = write(tmp_path / "r.yaml", "- !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_rules([bad], kinds)


def test_unknown_top_level_key_and_empty_file(tmp_path: Path, kinds) -> None:
    a = write(tmp_path / "a.toml", '[[rulez]]\nid = "a"\nkind = "threshold"\nindicator = "x"\nmin = 1\n')
    b = write(tmp_path / "b.toml", "# nothing here\n")
    with pytest.raises(ConfigError) as exc:
        load_rules([a, b], kinds)
    problems = problems_of(exc)
    assert one(problems, "unknown top-level key 'rulez'").file == str(a)
    assert one(problems, "holds no rules").file == str(b)


def test_invalid_id_and_kind_cross_field_checks(tmp_path: Path, kinds) -> None:
    path = write(tmp_path / "r.toml", """
        [[rule]]
        id = "has space"
        kind = "threshold"
        indicator = "x"
        min = 10
        max = 5
    """)
    with pytest.raises(ConfigError) as exc:
        load_rules([path], kinds)
    problems = problems_of(exc)
    assert one(problems, "'min' (10) is above 'max' (5)").key == "rule[0].min"
