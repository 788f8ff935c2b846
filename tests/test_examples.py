"""The examples directory runs as documented."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_embedding_example_judges_in_memory_and_callable_sources() -> None:
    namespace = runpy.run_path(str(ROOT / "examples" / "embedding.py"))
    assert namespace["main"]() == {"2023-10-16": "WARN", "2024-01-01": "BREACH"}


def test_embedding_example_runs_as_a_script(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "embedding.py")], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("WARN: ")
    assert "BREACH: " in done.stdout
