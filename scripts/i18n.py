#!/usr/bin/env python3
"""Maintain targetwatch's message catalogs with the standard library alone.

    python scripts/i18n.py extract   # sources and report templates -> locale/targetwatch.pot
    python scripts/i18n.py update    # merge the .pot into every .po (new msgids untranslated)
    python scripts/i18n.py compile   # every .po -> its .mo, beside it
    python scripts/i18n.py check     # untranslated, fuzzy, stale or mismatched entries; exit 1

Messages are found in Python by walking the syntax tree for calls of ``_``, ``ngettext`` and
``pgettext`` (``targetwatch.i18n``) whose message arguments are string literals; in the Jinja2
templates through the ``jinja2.ext.i18n`` extension's own extractor. ``tests/test_i18n.py``
runs the same functions, so a stale .pot, .po or .mo fails the test suite.
"""

from __future__ import annotations

import ast
import re
import struct
import sys
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "targetwatch"
LOCALE_DIR = PACKAGE / "locale"
POT = LOCALE_DIR / "targetwatch.pot"
LANGUAGES = {"zh_CN": "Plural-Forms: nplurals=1; plural=0;"}

#: The gettext functions and which positional arguments hold (context, singular, plural).
_FUNCTIONS = {"_": (None, 0, None), "gettext": (None, 0, None), "ngettext": (None, 0, 1), "pgettext": (0, 1, None)}
_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}|%\((\w+)\)[sd]")


@dataclass
class Entry:
    """One message of a catalog: its key is (context, msgid)."""

    msgid: str
    plural: str | None = None
    context: str | None = None
    strings: list[str] = field(default_factory=list)  # msgstr, or msgstr[0..n]
    locations: list[str] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return self.context, self.msgid

    @property
    def translated(self) -> bool:
        return bool(self.strings) and all(self.strings) and not self.fuzzy


class ExtractError(Exception):
    """A gettext call whose message is not a string literal (an f-string, a variable ...)."""


def placeholders(text: str) -> set[str]:
    """The named placeholders of a message: ``{name}`` (str.format) and ``%(name)s`` (Jinja2)."""
    out = set()
    for brace, percent in _PLACEHOLDER.findall(text.replace("{{", "").replace("}}", "")):
        out.add(brace or percent)
    return out


# -- extraction ---------------------------------------------------------------------------


def _shown(path: Path) -> str:
    """A source's location as the catalogs write it: relative to the repository."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()


def _python_messages(path: Path) -> Iterator[Entry]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    where = _shown(path)
    calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    for node in calls:
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else None
        if name not in _FUNCTIONS:
            continue
        ctx_at, msg_at, plural_at = _FUNCTIONS[name]
        needed = max(i for i in (ctx_at, msg_at, plural_at) if i is not None)
        if len(node.args) <= needed:
            continue  # not a gettext call (e.g. some other function named _ with fewer args)

        def literal(index: int | None) -> str | None:
            if index is None:
                return None
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                return arg.value
            if path == PACKAGE / "i18n.py":
                return None  # the lookups themselves, whose arguments are variables
            raise ExtractError(f"{where}:{node.lineno}: {name}() needs a string literal, found {ast.unparse(arg)}")

        if isinstance(node.func, ast.Attribute) and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "i18n"):
            continue  # obj._(...) or obj.gettext(...) is not ours; i18n._(...) is
        msgid = literal(msg_at)
        if msgid is None:
            continue
        yield Entry(msgid, literal(plural_at), literal(ctx_at), locations=[where])


def _template_messages(path: Path) -> Iterator[Entry]:
    from jinja2 import Environment

    env = Environment(extensions=["jinja2.ext.i18n"])
    where = _shown(path)
    for line, func, message in env.extract_translations(path.read_text(encoding="utf-8")):
        # Keyword arguments (the placeholders' values) come through as None after the message.
        if isinstance(message, tuple) and func in ("_", "gettext") and isinstance(message[0], str):
            message = message[0]
        if isinstance(message, str):
            yield Entry(message, locations=[where])
        elif func == "ngettext" and isinstance(message, tuple) and all(isinstance(m, str) for m in message[:2]):
            yield Entry(str(message[0]), str(message[1]), locations=[where])
        else:
            raise ExtractError(f"{where}:{line}: {func}() needs string literals, found {message!r}")


def extract(package: Path = PACKAGE) -> list[Entry]:
    """Every message in the package's sources and templates, in order of first appearance."""
    found: dict[tuple[str | None, str], Entry] = {}
    paths = sorted(package.rglob("*.py")) + sorted(package.rglob("*.j2"))
    for path in paths:
        reader = _python_messages if path.suffix == ".py" else _template_messages
        for entry in reader(path):
            if entry.key in found:
                known = found[entry.key]
                known.locations += [w for w in entry.locations if w not in known.locations]
                if known.plural != entry.plural:
                    raise ExtractError(f"{entry.locations[0]}: {entry.msgid!r} is used with two plural forms")
            else:
                found[entry.key] = entry
    return list(found.values())


# -- .po files ----------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(text: str, where: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{where}: expected a quoted string, found {text!r}")
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
    lines = escaped.split("\n")
    if len(lines) == 1:
        return f'"{escaped}"'
    parts = [f"{line}\\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return '""\n' + "\n".join(f'"{p}"' for p in parts)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po (or .pot) file, the header entry (msgid "") first."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None  # which field continuation lines extend
    flags: set[str] = set()
    locations: list[str] = []
    # split("\n"), not splitlines(): that also splits at \x1c-\x1e, \x85 and \u2028 in a message.
    for number, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        where = f"{path}:{number}"
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#,"):
            flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#:"):
            locations += line[2:].split()
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"{where}: a continuation line outside an entry")
            text = _unquote(line, where)
            name, index = target
            if name == "msgid":
                current.msgid += text
            elif name == "msgid_plural":
                current.plural = (current.plural or "") + text
            elif name == "msgctxt":
                current.context = (current.context or "") + text
            else:
                current.strings[index] += text
            continue
        if keyword in ("msgctxt", "msgid") and (current is None or current.strings):
            current = Entry("", fuzzy="fuzzy" in flags, locations=locations)
            entries.append(current)
            flags, locations = set(), []
        if current is None:
            raise ValueError(f"{where}: expected msgctxt or msgid, found {line!r}")
        if keyword == "msgctxt":
            current.context, target = _unquote(rest, where), ("msgctxt", 0)
        elif keyword == "msgid":
            current.msgid, target = _unquote(rest, where), ("msgid", 0)
        elif keyword == "msgid_plural":
            current.plural, target = _unquote(rest, where), ("msgid_plural", 0)
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            index = int(keyword[7:-1]) if keyword != "msgstr" else 0
            if index != len(current.strings):
                raise ValueError(f"{where}: expected msgstr[{len(current.strings)}], found {keyword}")
            current.strings.append(_unquote(rest, where))
            target = ("msgstr", index)
        else:
            raise ValueError(f"{where}: unknown keyword {keyword!r}")
    return entries


def format_po(header: str, entries: Iterable[Entry], *, nplurals: int = 2) -> str:
    """A .po/.pot text: the header entry, then every entry with its source locations."""
    out = ['msgid ""', "msgstr " + _quote(header), ""]
    for e in entries:
        if e.locations:
            out.append("#: " + " ".join(e.locations))
        if e.fuzzy:
            out.append("#, fuzzy")
        elif placeholders(e.msgid) and "%(" in e.msgid:
            out.append("#, python-format")
        elif placeholders(e.msgid):
            out.append("#, python-brace-format")
        if e.context is not None:
            out.append("msgctxt " + _quote(e.context))
        out.append("msgid " + _quote(e.msgid))
        if e.plural is not None:
            out.append("msgid_plural " + _quote(e.plural))
            strings = e.strings or [""] * nplurals
            out += [f"msgstr[{i}] " + _quote(s) for i, s in enumerate(strings)]
        else:
            out.append("msgstr " + _quote(e.strings[0] if e.strings else ""))
        out.append("")
    return "\n".join(out)


POT_HEADER = (
    "Project-Id-Version: targetwatch\n"
    "Report-Msgid-Bugs-To: \n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "Content-Transfer-Encoding: 8bit\n"
)


def pot_text(entries: list[Entry]) -> str:
    return format_po(POT_HEADER, entries)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "targetwatch.po"


def merge(template: list[Entry], po: list[Entry]) -> tuple[str, list[Entry]]:
    """The .po's header, and the template's entries carrying the .po's translations (new
    msgids untranslated; msgids no longer in the template dropped)."""
    header = next((e.strings[0] for e in po if e.msgid == "" and e.context is None), "")
    known = {e.key: e for e in po if e.msgid}
    merged = []
    for t in template:
        old = known.get(t.key)
        strings = list(old.strings) if old is not None and old.plural == t.plural else []
        merged.append(Entry(t.msgid, t.plural, t.context, strings, list(t.locations), old.fuzzy if old else False))
    return header, merged


# -- .mo files ----------------------------------------------------------------------------


def compile_mo(entries: list[Entry]) -> bytes:
    """The GNU .mo bytes of a catalog's translated entries (fuzzy and untranslated ones are
    left out, as msgfmt does), keys sorted so the output is deterministic."""
    pairs: dict[bytes, bytes] = {}
    for e in entries:
        if e.msgid == "" and e.context is None:
            pairs[b""] = e.strings[0].encode("utf-8")
            continue
        if not e.translated:
            continue
        key = e.msgid if e.plural is None else f"{e.msgid}\0{e.plural}"
        if e.context is not None:
            key = f"{e.context}\x04{key}"
        pairs[key.encode("utf-8")] = "\0".join(e.strings).encode("utf-8")
    keys = sorted(pairs)
    ids = strs = b""
    offsets = []
    for k in keys:
        offsets.append((len(ids), len(k), len(strs), len(pairs[k])))
        ids += k + b"\0"
        strs += pairs[k] + b"\0"
    key_start = 7 * 4 + 16 * len(keys)
    value_start = key_start + len(ids)
    koffsets: list[int] = []
    voffsets: list[int] = []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + key_start]
        voffsets += [l2, o2 + value_start]
    header = struct.pack("<Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + len(keys) * 8, 0, 0)
    return header + array("i", koffsets).tobytes() + array("i", voffsets).tobytes() + ids + strs


# -- checks -------------------------------------------------------------------------------


def problems(language: str) -> list[str]:
    """Everything stale or missing: the .pot against the sources, the .po against the .pot
    (every msgid translated, none fuzzy, the same placeholders), the .mo against the .po."""
    out = []
    entries = extract()
    if not POT.is_file() or POT.read_text(encoding="utf-8") != pot_text(entries):
        out.append(f"{_shown(POT)} is stale: run python scripts/i18n.py extract")
    po = read_po(po_path(language))
    translations = {e.key: e for e in po if e.msgid}
    for e in entries:
        t = translations.get(e.key)
        label = f"{e.locations[0]}: {e.msgid!r}"
        if t is None:
            out.append(f"{label} is missing from {language} (run python scripts/i18n.py update, then translate)")
        elif not t.translated:
            out.append(f"{label} is {'fuzzy' if t.fuzzy else 'untranslated'} in {language}")
        else:
            wanted = placeholders(e.msgid) | placeholders(e.plural or "")
            for s in t.strings:
                if placeholders(s) != wanted:
                    out.append(f"{label}: the {language} translation {s!r} has placeholders {sorted(placeholders(s))}, expected {sorted(wanted)}")
    obsolete = set(translations) - {e.key for e in entries}
    out += [f"{language}: {key[1]!r} is no longer in the sources (run python scripts/i18n.py update)" for key in sorted(obsolete, key=str)]
    mo = po_path(language).with_suffix(".mo")
    if not mo.is_file() or mo.read_bytes() != compile_mo(po):
        out.append(f"{_shown(mo)} is stale: run python scripts/i18n.py compile")
    return out


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "extract":
        POT.parent.mkdir(parents=True, exist_ok=True)
        entries = extract()
        POT.write_text(pot_text(entries), encoding="utf-8")
        print(f"wrote {POT.relative_to(ROOT)}: {len(entries)} messages")
    elif command == "update":
        template = read_po(POT)[1:]
        for language, plural_forms in LANGUAGES.items():
            path = po_path(language)
            existing = read_po(path) if path.is_file() else []
            header, merged = merge(template, existing)
            header = header or f"{POT_HEADER}Language: {language}\n{plural_forms}\n"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(format_po(header, merged, nplurals=1), encoding="utf-8")
            missing = sum(1 for e in merged if not e.translated)
            print(f"wrote {path.relative_to(ROOT)}: {len(merged)} messages, {missing} to translate")
    elif command == "compile":
        for language in LANGUAGES:
            path = po_path(language)
            path.with_suffix(".mo").write_bytes(compile_mo(read_po(path)))
            print(f"wrote {path.with_suffix('.mo').relative_to(ROOT)}")
    elif command == "check":
        found = [p for language in LANGUAGES for p in problems(language)]
        for p in found:
            print(p)
        return 1 if found else 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
