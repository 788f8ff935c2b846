"""Reading TOML and YAML while remembering the line of every key, for error messages.

``tomllib`` keeps no positions, so TOML lines are recovered by scanning the text for table
headers and ``key =`` lines; YAML lines come from the composed node tree (``safe_load``
semantics: only plain data is ever constructed).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from typing import Any

import yaml

from .errors import ConfigError, Problem

KeyPath = tuple[str | int, ...]
Locator = Callable[[KeyPath], int | None]

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=""")
_PART = re.compile(r"""\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)""")


def _split_key(text: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _PART.findall(text))


def _prefix_locator(lines: dict[KeyPath, int]) -> Locator:
    def locate(path: KeyPath) -> int | None:
        for end in range(len(path), 0, -1):
            if path[:end] in lines:
                return lines[path[:end]]
        return None

    return locate


def toml_lines(text: str) -> dict[KeyPath, int]:
    """Map key paths (``("rule", 2, "max")``) to 1-based line numbers of a TOML document."""
    lines: dict[KeyPath, int] = {}
    counters: dict[KeyPath, int] = {}
    table: KeyPath = ()
    in_multiline = False

    def resolve(parts: tuple[str, ...]) -> KeyPath:
        # A table under an array of tables (``[rule.labels]`` after ``[[rule]]``) belongs to
        # the array's latest element.
        out: KeyPath = ()
        for part in parts[:-1]:
            out = (*out, part)
            if out in counters:
                out = (*out, counters[out])
        return (*out, *parts[-1:])

    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                in_multiline = False
            continue
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            parts = resolve(_split_key(header.group(2)))
            if header.group(1) == "[[":
                index = counters.get(parts, -1) + 1
                counters[parts] = index
                table = (*parts, index)
            else:
                table = parts
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault((*table, *_split_key(key.group(1))), number)
            rest = line[key.end():]
            if rest.count('"""') % 2 == 1 or rest.count("'''") % 2 == 1:
                in_multiline = True
    return lines


def load_toml(path: str, text: str) -> tuple[dict[str, Any], Locator]:
    """Parse TOML text; a syntax error is a :class:`ConfigError` with the file and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        # "at end of document" carries no line: the last line is where to look.
        line = int(match.group(1)) if match else max(len(text.splitlines()), 1)
        raise ConfigError([Problem(f"invalid TOML: {exc}", path, line)]) from None
    return data, _prefix_locator(toml_lines(text))


def load_yaml(path: str, text: str) -> tuple[Any, Locator]:
    """Parse YAML safely (plain data only); a syntax error names the file and line."""
    lines: dict[KeyPath, int] = {}
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([Problem(f"invalid YAML: {getattr(exc, 'problem', None) or exc}", path, line)]) from None
    if node is not None:
        _yaml_walk(node, (), lines)
    return data, _prefix_locator(lines)


def _yaml_walk(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            sub = (*path, key)
            lines.setdefault(sub, key_node.start_mark.line + 1)
            _yaml_walk(value_node, sub, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _yaml_walk(item, (*path, index), lines)


def load_file(path: str, text: str) -> tuple[Any, Locator]:
    """Parse a ``.toml``, ``.yaml`` or ``.yml`` file by its extension."""
    if path.endswith((".yaml", ".yml")):
        return load_yaml(path, text)
    return load_toml(path, text)


_ENV = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute_env(data: Any, env: dict[str, str], path: KeyPath = ()) -> tuple[Any, list[tuple[KeyPath, str]]]:
    """Replace ``${NAME}`` in string values (never keys) with the environment variable;
    ``$$`` is a literal ``$``. Returns the new data and ``(key path, variable)`` for each unset one."""
    missing: list[tuple[KeyPath, str]] = []
    if isinstance(data, str):
        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group(1)
            if name not in env:
                missing.append((path, name))
                return match.group(0)
            return env[name]

        return _ENV.sub(replace, data), missing
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            out[key], sub_missing = substitute_env(value, env, (*path, key))
            missing.extend(sub_missing)
        return out, missing
    if isinstance(data, list):
        items = []
        for index, value in enumerate(data):
            item, sub_missing = substitute_env(value, env, (*path, index))
            items.append(item)
            missing.extend(sub_missing)
        return items, missing
    return data, missing
