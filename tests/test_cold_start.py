"""A cron job starts targetwatch many times a day: what a short run imports.

``--version`` and ``--help`` import no heavy library and no plugin; a check of a small CSV file
does not import pyarrow or numpy even when the fast extra is installed (importing them takes
longer than reading the file)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("pendulum", "tabulate", "jinja2", "yaml", "pyarrow", "numpy", "pandas", "sqlalchemy", "apprise")


def imported(tmp_path: Path, *args: str, cwd: Path = REPO) -> set[str]:
    """The modules a ``targetwatch ARGS`` process had imported when it exited."""
    listing = tmp_path / "modules.txt"
    code = textwrap.dedent(f"""
        import atexit, sys
        atexit.register(lambda: open({str(listing)!r}, "w").write("\\n".join(sys.modules)))
        sys.argv = ["targetwatch", *{list(args)!r}]
        from targetwatch.cli import main
        main()
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert proc.returncode in (0, 1, 2), proc.stderr[-2000:]
    names = set(listing.read_text().split("\n"))
    assert "targetwatch.cli" in names
    return names


def heavy(names: set[str]) -> list[str]:
    return sorted(n for n in names if n.split(".")[0] in HEAVY)


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("check", "--help")])
def test_version_and_help_import_nothing_heavy_and_no_plugin(tmp_path: Path, args: tuple[str, ...]) -> None:
    names = imported(tmp_path, *args)
    assert heavy(names) == []
    assert sorted(n for n in names if n.startswith("targetwatch.default_plugins")) == []


def test_a_check_of_the_small_seed_file_does_not_import_the_fast_path(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")  # the point is that it is installed and not used
    names = imported(tmp_path, "check", "--dry-run", "--format", "json")
    assert "targetwatch.default_plugins.csv_source" in names  # the seed was read
    assert [n for n in heavy(names) if n.split(".")[0] in ("pyarrow", "numpy", "pandas")] == []
