"""A process with one of its outputs on a terminal (a pseudo-terminal), for what targetwatch
does differently there: progress bars, colours, the terminal's encoding."""

from __future__ import annotations

import os
import pty
import select
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def on_a_terminal(command: Sequence[str], *, stream: str = "stdout", env: Mapping[str, str] | None = None,
                  cwd: Path | None = None, timeout: float = 30) -> tuple[int, bytes]:
    """Run ``command`` with its ``stream`` (``"stdout"`` or ``"stderr"``) on a terminal and the
    other one discarded; its exit status and every byte it wrote to the terminal."""
    leader, follower = pty.openpty()
    outputs = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, stream: follower}
    try:
        with subprocess.Popen(list(command), stdout=outputs["stdout"], stderr=outputs["stderr"], env=env, cwd=cwd) as proc:
            os.close(follower)
            chunks = []
            while True:
                ready, _, _ = select.select([leader], [], [], timeout)
                if not ready:
                    proc.kill()
                    raise AssertionError(f"no end of output within {timeout} s")
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the other side closed
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            return proc.wait(timeout=timeout), b"".join(chunks)
    finally:
        os.close(leader)
