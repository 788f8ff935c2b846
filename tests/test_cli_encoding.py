"""What `targetwatch check` writes when the locale is not UTF-8 (Windows writes a redirect in its
ANSI code page, GBK on Chinese Windows; an old server may run in Latin-1): a file or a pipe
gets UTF-8 whatever the locale, a terminal gets its own encoding with what it cannot show
replaced, and neither ever fails on the seed example's Chinese names. Real processes whose
standard output starts in such an encoding, as the locale would make it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ptykit import on_a_terminal

REPO = Path(__file__).resolve().parents[1]
BOM = "\ufeff".encode()


def targetwatch(*args: str, encoding: str | None = None, **kwargs: object) -> list[str]:
    """The command line of ``targetwatch ARGS`` started with standard output in ``encoding``."""
    start = f"import sys; sys.stdout.reconfigure(encoding={encoding!r}); " if encoding else "import sys; "
    code = start + f"sys.argv = ['targetwatch', *{list(args)!r}]; from targetwatch.cli import main; main()"
    return [sys.executable, "-c", code]


def environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    for name in ("TARGETWATCH_DEBUG", "PYTHONIOENCODING"):
        if name not in extra:
            env.pop(name, None)
    return env


def check(*args: str, encoding: str | None = None, **env: str) -> subprocess.CompletedProcess[bytes]:
    """``targetwatch check --dry-run ARGS`` on the seed example, standard output a pipe."""
    return subprocess.run(targetwatch("check", "--dry-run", *args, encoding=encoding),
                          capture_output=True, cwd=REPO, env=environment(**env), timeout=120)


@pytest.fixture(scope="module")
def utf8_json() -> bytes:
    proc = check("--format", "json")
    assert proc.returncode == 2, proc.stderr.decode(errors="replace")
    return proc.stdout


@pytest.mark.parametrize("encoding", ["latin-1", "gbk", "ascii"])
def test_machine_formats_to_a_pipe_are_utf8_whatever_the_locale(encoding: str, utf8_json: bytes) -> None:
    proc = check("--format", "json", encoding=encoding)
    assert proc.returncode == 2 and b"internal error" not in proc.stderr
    assert proc.stdout == utf8_json
    names = {v["labels"].get("district") for v in json.loads(proc.stdout.decode("utf-8"))["verdicts"]}
    assert any(name and "区" in name for name in names)


def test_csv_for_excel_on_a_chinese_windows_locale_is_utf8_with_its_byte_order_mark() -> None:
    proc = check("--format", "csv-excel", encoding="gbk")
    assert proc.returncode == 2 and b"internal error" not in proc.stderr
    assert proc.stdout.startswith(BOM + b"rule,")
    assert proc.stdout[len(BOM):] == check("--format", "csv").stdout
    assert "区" in proc.stdout.decode("utf-8-sig")


def test_the_table_to_a_file_is_utf8_too() -> None:
    proc = check(encoding="latin-1")
    assert proc.returncode == 2 and proc.stdout == check().stdout
    assert "BREACH" in proc.stdout.decode("utf-8")


def test_colour_is_written_to_a_pipe_only_when_asked_for() -> None:
    assert b"\x1b[" not in check().stdout
    coloured = check("--color")
    assert coloured.returncode == 2 and b"\x1b[" in coloured.stdout


def test_a_terminal_that_cannot_show_chinese_gets_question_marks_not_an_error() -> None:
    command = targetwatch("check", "--dry-run", "--no-color", encoding="latin-1")
    code, shown = on_a_terminal(command, env=environment(COLUMNS="200"), cwd=REPO, timeout=120)
    text = shown.decode("latin-1")
    assert code == 2 and "BREACH" in text and "?" in text and "internal error" not in text


def test_every_command_writes_utf8_to_a_pipe() -> None:
    """Not only check: explain names the seed's districts too."""
    run = [*targetwatch("explain", "funding.expenditure-yoy", encoding="latin-1")]
    proc = subprocess.run(run, capture_output=True, cwd=REPO, env=environment(), timeout=120)
    assert proc.returncode == 0 and b"internal error" not in proc.stderr
    plain = subprocess.run(targetwatch("explain", "funding.expenditure-yoy"), capture_output=True, cwd=REPO, env=environment(), timeout=120)
    assert proc.stdout == plain.stdout and "区" in proc.stdout.decode("utf-8")


def test_an_encoding_asked_for_in_pythonioencoding_is_kept(utf8_json: bytes) -> None:
    proc = check("--format", "json", PYTHONIOENCODING="gb18030")
    assert proc.returncode == 2 and proc.stdout != utf8_json
    assert proc.stdout.decode("gb18030") == utf8_json.decode("utf-8")
