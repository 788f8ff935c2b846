"""``targetwatch init``: start a project, or a plugin package, from the templates in
:mod:`targetwatch.scaffold`.

The library half (:func:`project_files`, :func:`plugin_files`, :func:`write_files`) is
usable without the command line; the command only prints.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import attrs
import click

from . import __version__
from .errors import TargetwatchError

#: A plugin name: lower-case letters and digits in words joined by single dashes.
PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
GITIGNORE_LINE = ".targetwatch/"
_PROJECT = ("targetwatch.toml", "rules/targets.toml", "data/observations.csv")


class ScaffoldError(TargetwatchError):
    """Nothing was written: a file exists (without ``force``) or the plugin name is invalid."""


@attrs.frozen
class Written:
    """What :func:`write_files` did: files created, files overwritten, and whether
    ``.gitignore`` was created or gained the state folder's line."""

    created: tuple[Path, ...]
    overwritten: tuple[Path, ...]
    #: ``("created" or "updated", the .gitignore's path)``; None when it already ignores the
    #: state folder, or was not asked for.
    gitignore: tuple[str, Path] | None


def _template(*parts: str) -> str:
    return resources.files("targetwatch.scaffold").joinpath(*parts).read_text(encoding="utf-8")


def project_files() -> dict[str, str]:
    """A new project's files by relative path: a commented config, example rules of three
    kinds, and sample data on which they give OK, WARN and BREACH verdicts."""
    return {path: _template("project", *path.split("/")) for path in _PROJECT}


def check_plugin_name(name: str) -> str:
    """``name`` as a plugin name (a leading ``targetwatch-`` is dropped), or raise
    :class:`ScaffoldError` saying what is allowed. A built-in rule kind's name is refused:
    the example kind carries the plugin's name, and a name taken twice is refused at load."""
    name = name.removeprefix("targetwatch-")
    if not PLUGIN_NAME.match(name):
        raise ScaffoldError(
            f"invalid plugin name {name!r}: expected lower-case letters, digits and single dashes, "
            "starting with a letter (e.g. 'streak' or 'dingtalk-bot')"
        )
    from .plugins import Registry

    if name in Registry(entry_points=False).kinds:
        raise ScaffoldError(f"invalid plugin name {name!r}: it is the name of a built-in rule kind; choose another")
    return name


def plugin_files(name: str) -> dict[str, str]:
    """The files of the plugin package ``targetwatch-NAME`` by path inside its folder:
    ``pyproject.toml`` (hatchling; entry point ``NAME`` in the group ``targetwatch``), the
    module ``src/targetwatch_NAME/`` with an example rule kind called ``NAME`` and
    ``py.typed``, ``tests/test_NAME.py`` and ``README.md``. ``name`` must be valid
    (:func:`check_plugin_name`)."""
    snake = name.replace("-", "_")
    module = f"targetwatch_{snake}"
    values = {
        "name": name,
        "module": module,
        "class_name": "".join(part.capitalize() for part in name.split("-")),
        "targetwatch_version": __version__,
    }

    def fill(template: str) -> str:
        text = _template("plugin", template)
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        return text

    return {
        "pyproject.toml": fill("pyproject.toml.tmpl"),
        "README.md": fill("README.md.tmpl"),
        f"src/{module}/__init__.py": fill("__init__.py.tmpl"),
        f"src/{module}/py.typed": "",
        f"tests/test_{snake}.py": fill("test_plugin.py.tmpl"),
    }


def write_files(root: Path, files: Mapping[str, str], *, force: bool = False, gitignore: bool = False) -> Written:
    """Write ``files`` under ``root`` (created if missing), all or nothing.

    Without ``force``, if any of them exists nothing is written and :class:`ScaffoldError`
    lists every one. With ``gitignore``, ``.gitignore`` is created with the line
    ``.targetwatch/`` (the state folder), or has it appended; it is never replaced.
    """
    targets = {rel: root / rel for rel in files}
    existing = [rel for rel, path in targets.items() if path.exists()]
    if existing and not force:
        listed = "\n".join(f"  {root / rel}" for rel in existing)
        raise ScaffoldError(
            f"not writing anything: {len(existing)} file{'s' if len(existing) != 1 else ''} already exist{'s' if len(existing) == 1 else ''}:\n"
            f"{listed}\nrun again with --force to overwrite {'them' if len(existing) != 1 else 'it'}"
        )
    blocked = [p for p in [root, *(path.parent for path in targets.values())] if p.exists() and not p.is_dir()]
    if blocked:
        raise ScaffoldError(f"not writing anything: {blocked[0]} is a file, expected a folder")
    for rel, path in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[rel], encoding="utf-8", newline="\n")
    return Written(
        tuple(targets[r] for r in files if r not in existing),
        tuple(targets[r] for r in existing),
        _ignore_state(root) if gitignore else None,
    )


def _ignore_state(root: Path) -> tuple[str, Path] | None:
    path = root / ".gitignore"
    if not path.exists():
        path.write_text(f"# targetwatch's state (alert history, outbox) and notification log\n{GITIGNORE_LINE}\n", encoding="utf-8")
        return "created", path
    text = path.read_text(encoding="utf-8")
    if any(line.strip().strip("/") == GITIGNORE_LINE.strip("/") for line in text.splitlines()):
        return None
    path.write_text(text + ("" if not text or text.endswith("\n") else "\n") + f"{GITIGNORE_LINE}\n", encoding="utf-8")
    return "updated", path


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--plugin", "plugin_name", metavar="NAME", help="Start a plugin package targetwatch-NAME (in DIRECTORY) instead of a project.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init(directory: Path | None, plugin_name: str | None, force: bool) -> int:
    """Start a project in DIRECTORY (default: here), or with --plugin NAME a plugin package.

    A project: targetwatch.toml (commented), rules/targets.toml (example targets),
    data/observations.csv (sample data) and a .gitignore line for the state folder. Existing
    files are never overwritten unless --force is given.
    """
    base = directory if directory is not None else Path(".")
    if plugin_name is not None:
        name = check_plugin_name(plugin_name)
        root = base / f"targetwatch-{name}"
        done = write_files(root, plugin_files(name), force=force)
        _report(done)
        where = _shown(root.resolve())
        click.echo("\nNext:")
        click.echo(f"  cd {where}")
        click.echo("  pip install -e '.[test]'")
        click.echo("  pytest")
        click.echo(f"  targetwatch plugins          # lists {name}")
        return 0
    root = base
    done = write_files(root, project_files(), force=force, gitignore=True)
    _report(done)
    click.echo("\nNext:")
    if root.resolve() != Path.cwd().resolve():
        click.echo(f"  cd {_shown(root.resolve())}")
    click.echo("  targetwatch validate         # check the config and the rules")
    click.echo("  targetwatch check --dry-run  # judge the example targets (OK, WARN, BREACH)")
    click.echo("  targetwatch check            # the same, keeping alert state and notifying")
    click.echo("Then point [[sources]] in targetwatch.toml at your data and write your targets in rules/.")
    return 0


def _report(done: Written) -> None:
    for path in done.created:
        click.echo(f"created      {_shown(path)}")
    for path in done.overwritten:
        click.echo(f"overwritten  {_shown(path)}")
    if done.gitignore is not None:
        action, path = done.gitignore
        click.echo(f"{action:<12} {_shown(path)}" + (f"  (ignores {GITIGNORE_LINE})" if action == "updated" else ""))
