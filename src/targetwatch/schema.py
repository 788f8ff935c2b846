"""JSON Schema for rule files, derived from each kind's parameter declaration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .alertconfig import RuleAlerting
from .params import json_schema
from .rules import Common

if TYPE_CHECKING:
    from .kind import RuleKind

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def rule_schema(kind: RuleKind) -> dict[str, Any]:
    """The schema of one rule of ``kind``: the common keys plus the kind's parameters."""
    common = json_schema(Common)
    alerting = json_schema(RuleAlerting)
    out = json_schema(kind.Params, extra={**common["properties"], **alerting["properties"]}, required_extra=common["required"])
    out["properties"]["kind"] = {"const": kind.name, "description": kind.summary}
    out["title"] = f"targetwatch {kind.name} rule"
    return out


def rule_file_schema(kinds: Mapping[str, RuleKind]) -> dict[str, Any]:
    """The schema of a whole rule file: ``rule``/``rules`` lists of rules of any kind."""
    one_of = [rule_schema(kinds[name]) for name in sorted(kinds)]
    rule = {"oneOf": one_of}
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "targetwatch rule file",
        "type": "object",
        "properties": {
            "rule": {"type": "array", "items": rule},
            "rules": {"type": "array", "items": rule},
            "defaults": {"type": "object"},
        },
        "additionalProperties": False,
    }
