"""The JSON Schema of rule files, derived from each kind's parameter declaration."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml

from targetwatch import hookimpl
from targetwatch.kind import RuleKind
from targetwatch.params import Number, param, specs
from targetwatch.plugins import Registry
from targetwatch.rules import COMMON_KEYS
from targetwatch.schema import SCHEMA_DIALECT, rule_file_schema, rule_schema


@pytest.fixture
def doc(registry: Registry) -> dict[str, Any]:
    return rule_file_schema(registry.kinds)


def kinds_of(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["properties"]["kind"]["const"]: s for s in doc["properties"]["rule"]["items"]["oneOf"]}


def test_the_file_schema_is_json_with_rule_and_rules(doc: dict[str, Any]) -> None:
    assert json.loads(json.dumps(doc, ensure_ascii=False)) == doc
    assert doc["$schema"] == SCHEMA_DIALECT
    assert set(doc["properties"]) == {"rule", "rules", "defaults"}
    assert doc["additionalProperties"] is False
    assert doc["properties"]["rule"] == doc["properties"]["rules"]


def test_one_of_covers_every_kind(doc: dict[str, Any], registry: Registry) -> None:
    assert set(kinds_of(doc)) == set(registry.kinds)
    assert len(doc["properties"]["rule"]["items"]["oneOf"]) == len(registry.kinds)


def test_each_kind_schema_has_common_keys_and_its_params(doc: dict[str, Any], registry: Registry) -> None:
    for name, schema in kinds_of(doc).items():
        kind = registry.kinds[name]
        declared = specs(kind.Params)
        assert set(schema["properties"]) == set(COMMON_KEYS) | set(declared), name
        assert schema["additionalProperties"] is False
        required = {k for k, s in declared.items() if s.required}
        assert set(schema["required"]) == {"id", "kind"} | required, name
        assert schema["properties"]["kind"]["description"] == kind.summary
        assert all(p.get("description") for k, p in schema["properties"].items() if k != "kind"), name


def test_number_schema_accepts_what_rule_files_write() -> None:
    pattern = re.compile(Number().schema()["anyOf"][1]["pattern"])
    for text in ("4.89%", "50,000", "95%", "-3", " 12.5 "):
        assert pattern.match(text), text
    for text in ("abc", "%5", "1.2.3"):
        assert not pattern.match(text), text


def test_the_seed_rules_fit_the_schema(seed_root: Path, doc: dict[str, Any]) -> None:
    """Every seed rule, with its file's defaults, uses only keys its kind's schema allows and
    gives every key it requires (a cheap structural check without a JSON Schema library)."""
    by_kind = kinds_of(doc)
    checked = 0
    for path in sorted((seed_root / "rules").iterdir()):
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
        assert set(data) <= set(doc["properties"]), path
        defaults = data.get("defaults", {})
        for raw in data.get("rule", data.get("rules", [])):
            rule = {**defaults, **raw}
            schema = by_kind[rule["kind"]]
            assert set(rule) <= set(schema["properties"]), (path, rule["id"])
            assert set(schema["required"]) <= set(rule), (path, rule["id"])
            checked += 1
    assert checked == 18


def test_an_inline_kind_gets_a_schema(registry: Registry) -> None:
    @attrs.frozen
    class OddParams:
        indicator: str = param(Number(percent=False), doc="Whatever.")

    class Odd(RuleKind):
        name = "odd"
        summary = "odd numbers only"
        Params = OddParams

    class Plugin:
        @hookimpl
        def register_rule_kinds(self, register: Any) -> None:
            register(Odd())

    registry.register(Plugin(), name="odd-plugin")
    assert "odd" in kinds_of(rule_file_schema(registry.kinds))
    one = rule_schema(registry.kinds["odd"])
    assert one["title"] == "targetwatch odd rule"
    assert one["properties"]["kind"] == {"const": "odd", "description": "odd numbers only"}
    assert "indicator" in one["required"]
