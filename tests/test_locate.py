"""Reading TOML and YAML with the line of every key; ${ENV} substitution."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from targetwatch.errors import ConfigError
from targetwatch.locate import load_file, load_toml, load_yaml, substitute_env, toml_lines

RULES_TOML = '''\
# rules for education
title = "教育"

[indicators."edu.expenditure"]
unit = "万元"
title = '教育经费'

[indicators.'edu.rate']
unit = "%"

[[rule]]
id = "spend"
description = """
max = 99
[[rule]]
[indicators.fake]
"""
max = 5

[[rule]]   # the second rule
id = "rate"
"quoted.key" = 1
site.name = "x"
values = [
  1,
  2,
]
min = "95%"

[rule.labels]
district = "田家庵区"

[[rule.step]]
at = 1

[[rule.step]]
at = 2

[[rule]]
id = "third"

[[rule.step]]
at = 3
'''


def test_toml_lines() -> None:
    lines = toml_lines(RULES_TOML)
    expected = {
        ("title",): 2,
        ("indicators", "edu.expenditure"): 4,
        ("indicators", "edu.expenditure", "unit"): 5,
        ("indicators", "edu.expenditure", "title"): 6,
        ("indicators", "edu.rate"): 8,
        ("indicators", "edu.rate", "unit"): 9,
        ("rule", 0): 11,
        ("rule", 0, "id"): 12,
        ("rule", 0, "description"): 13,
        ("rule", 0, "max"): 18,
        ("rule", 1): 20,
        ("rule", 1, "id"): 21,
        ("rule", 1, "quoted.key"): 22,
        ("rule", 1, "site", "name"): 23,
        ("rule", 1, "values"): 24,
        ("rule", 1, "min"): 28,
        ("rule", 1, "labels"): 30,
        ("rule", 1, "labels", "district"): 31,
        ("rule", 1, "step", 0): 33,
        ("rule", 1, "step", 0, "at"): 34,
        ("rule", 1, "step", 1): 36,
        ("rule", 1, "step", 1, "at"): 37,
        ("rule", 2): 39,
        ("rule", 2, "id"): 40,
        ("rule", 2, "step", 0): 42,
        ("rule", 2, "step", 0, "at"): 43,
    }
    for path, line in expected.items():
        assert lines.get(path) == line, path


def test_toml_lines_skip_multiline_strings() -> None:
    lines = toml_lines(RULES_TOML)
    # the text inside description = """...""" is not keys or headers
    assert ("rule", 0, "max") in lines and lines[("rule", 0, "max")] == 18
    assert ("indicators", "fake") not in lines
    assert ("rule", 3) not in lines
    literal = "a = '''\nb = 1\n'''\nc = 2\n"
    assert toml_lines(literal) == {("a",): 1, ("c",): 4}
    one_line = 'a = """x"""\nb = 1\n'
    assert toml_lines(one_line) == {("a",): 1, ("b",): 2}


def test_load_toml_equals_tomllib_and_locates() -> None:
    data, locate = load_toml("rules/edu.toml", RULES_TOML)
    assert data == tomllib.loads(RULES_TOML)
    assert data["rule"][1]["labels"]["district"] == "田家庵区"
    assert locate(("rule", 1, "labels", "district")) == 31
    assert locate(("rule", 1, "min")) == 28
    assert locate(("rule", 1, "values", 1)) == 24  # inside a value: the key's line
    assert locate(("rule", 0, "missing")) == 11  # a key not written: its table's line
    assert locate(("rule", 2, "step", 0, "at")) == 43
    assert locate(("nowhere",)) is None


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a = 1\nb = \n", 2),
        ("a = 1\n[t]\nx = 1\n[t]\n", 4),
        ("a = 1\na = 2\n", 2),
        ('a = "unterminated\n', 1),
        ("[[rule]]\nid = 1\n  bogus line\n", 3),
    ],
)
def test_toml_syntax_error_names_file_and_line(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as info:
        load_toml("rules/bad.toml", text)
    (problem,) = info.value.problems
    assert problem.file == "rules/bad.toml"
    assert problem.line == line
    assert "invalid TOML" in problem.message
    assert str(info.value).startswith(f"rules/bad.toml:{line}: ")


RULES_YAML = '''\
title: 教育
indicators:
  edu.expenditure:
    unit: 万元
rules:
  - id: spend
    max: 5
  - id: rate
    min: "95%"
    labels:
      district: 田家庵区
    within:
      - a
      - b
'''


def test_load_yaml_equals_safe_load_and_locates() -> None:
    data, locate = load_yaml("rules/edu.yaml", RULES_YAML)
    assert data == yaml.safe_load(RULES_YAML)
    assert locate(("title",)) == 1
    assert locate(("indicators", "edu.expenditure", "unit")) == 4
    assert locate(("rules", 0, "max")) == 7
    assert locate(("rules", 1)) == 8
    assert locate(("rules", 1, "min")) == 9
    assert locate(("rules", 1, "labels", "district")) == 11
    assert locate(("rules", 1, "within", 1)) == 14
    assert locate(("rules", 1, "nope")) == 8
    assert locate(("other",)) is None


def test_load_yaml_of_an_empty_document() -> None:
    data, locate = load_yaml("e.yaml", "")
    assert data is None
    assert locate(("a",)) is None


@pytest.mark.parametrize(
    ("text", "line"),
    [("a: [\n", 2), ("a: 1\n b: 2\n", 2), ("a: 1\n---\nb: 2\n", 2), ("a: b: c\n", 1)],
)
def test_yaml_syntax_error_names_file_and_line(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml("rules/bad.yaml", text)
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == ("rules/bad.yaml", line)
    assert "invalid YAML" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "x: !!python/object/apply:os.system ['touch {marker}']\n",
        "!!python/object/apply:builtins.exec ['open(r\"{marker}\", \"w\").close()']\n",
        "x: !!python/object/new:builtins.exec ['open(r\"{marker}\", \"w\").close()']\n",
        "x: !!python/object:builtins.object {{}}\n",
        "x: !!python/name:os.system\n",
        "x: !!python/module:os\n",
    ],
)
def test_yaml_never_constructs_python_objects(text: str, tmp_path: Any) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(ConfigError) as info:
        load_yaml("rules/evil.yaml", text.format(marker=marker))
    assert not marker.exists()
    (problem,) = info.value.problems
    assert problem.file == "rules/evil.yaml" and problem.line == 1
    assert "python/" in problem.message


def test_load_file_by_extension() -> None:
    assert load_file("a.yaml", "a: 1\n")[0] == {"a": 1}
    assert load_file("a.yml", "a: 1\n")[0] == {"a": 1}
    assert load_file("a.toml", "a = 1\n")[0] == {"a": 1}
    with pytest.raises(ConfigError):
        load_file("a.toml", "a: 1\n")


# -- substitute_env -------------------------------------------------------------------------


def test_substitute_env_in_string_values_only() -> None:
    data = {
        "${KEY}": "${TOKEN}",
        "url": "https://x/${HOST}/y?t=${TOKEN}",
        "nested": {"list": ["${HOST}", 5, None, True, 1.5, {"k": "${TOKEN}"}]},
        "port": 8080,
    }
    out, missing = substitute_env(data, {"TOKEN": "s3cret", "HOST": "example.org", "KEY": "k"})
    assert missing == []
    assert out == {
        "${KEY}": "s3cret",
        "url": "https://x/example.org/y?t=s3cret",
        "nested": {"list": ["example.org", 5, None, True, 1.5, {"k": "s3cret"}]},
        "port": 8080,
    }
    assert data["url"] == "https://x/${HOST}/y?t=${TOKEN}"  # input untouched


def test_substitute_env_escapes_and_leaves_other_dollars() -> None:
    out, missing = substitute_env(
        {"a": "$${TOKEN}", "b": "cost $5", "c": "$$$$", "d": "$TOKEN", "e": "${lower_1}"},
        {"TOKEN": "x", "lower_1": "y"},
    )
    assert out == {"a": "${TOKEN}", "b": "cost $5", "c": "$$", "d": "$TOKEN", "e": "y"}
    assert missing == []


def test_substitute_env_is_not_recursive() -> None:
    out, _ = substitute_env("${A}", {"A": "${B}", "B": "no"})
    assert out == "${B}"


def test_substitute_env_reports_every_unset_variable_with_its_path() -> None:
    data = {"mail": {"password": "${SMTP_PASSWORD}"}, "hooks": ["ok", "${HOOK} and ${OTHER}"]}
    out, missing = substitute_env(data, {})
    assert missing == [(("mail", "password"), "SMTP_PASSWORD"), (("hooks", 1), "HOOK"), (("hooks", 1), "OTHER")]
    assert out == data


def test_substitute_env_leaves_non_strings_alone() -> None:
    for value in (5, 1.5, None, True, b"${A}"):
        out, missing = substitute_env(value, {"A": "x"})
        assert out is value and missing == []


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(blacklist_characters="$")),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=15,
)


@given(json_like, st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,5}", fullmatch=True), st.text(max_size=5)))
def test_substitution_without_dollar_is_identity(data: Any, env: dict[str, str]) -> None:
    out, missing = substitute_env(data, env)
    assert out == data
    assert missing == []


@given(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
    st.text(),
    st.text(alphabet=st.characters(blacklist_characters="$")),
    st.text(alphabet=st.characters(blacklist_characters="$")),
)
def test_substituted_value_is_inserted_literally(name: str, value: str, before: str, after: str) -> None:
    out, missing = substitute_env({"k": before + "${" + name + "}" + after}, {name: value})
    assert out == {"k": before + value + after}
    assert missing == []
