"""Progress shows on a terminal for long runs only, and never in cron's output."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner

from targetwatch.cli import cli
from targetwatch.engine import Engine
from targetwatch.plugins import Registry
from targetwatch.progress import TerminalProgress, counted


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_nothing_shows_during_the_first_second_then_a_line_that_is_erased() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = TerminalProgress(stream, clock=clock)
    progress("rules judged", 1, 10)
    assert stream.getvalue() == ""
    clock.now = 1.5
    progress("rules judged", 2, 10)
    assert stream.getvalue() == "\rrules judged: 2/10"
    clock.now = 1.55
    progress("rules judged", 3, 10)  # throttled: at most ten updates a second
    assert stream.getvalue().count("\r") == 1
    progress("rules judged", 10, 10)  # the last one always shows
    assert stream.getvalue().endswith("rules judged: 10/10")
    progress.close()
    assert stream.getvalue().endswith("\r" + " " * len("rules judged: 10/10") + "\r")


def test_counted_passes_items_through_and_reports_counts() -> None:
    seen: list[tuple[str, int, int | None]] = []
    assert list(counted(range(5), lambda *a: seen.append(a), "rows", every=2)) == [0, 1, 2, 3, 4]
    assert seen == [("rows", 2, None), ("rows", 4, None), ("rows", 5, None)]
    assert list(counted(range(3), None, "rows")) == [0, 1, 2]


def test_the_engine_reports_rows_read_and_rules_judged(seed_copy: Path) -> None:
    heard: list[tuple[str, int, int | None]] = []
    engine = Engine.from_config(seed_copy, registry=Registry(entry_points=False))
    result = engine.check(progress=lambda *a: heard.append(a))
    rules = [h for h in heard if h[0] == "rules judged"]
    assert rules[0] == ("rules judged", 0, 18) and [h[1] for h in rules] == list(range(18))
    rows = [h for h in heard if h[0] == "rows read from bureau"]
    assert rows and rows[-1][1] > 0
    assert len(result.verdicts) == 18


def test_no_progress_when_output_is_not_a_terminal(seed_copy: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--dry-run", "-c", str(seed_copy)], obj=Registry(entry_points=False))
    assert result.exit_code == 2 and result.stderr == ""
