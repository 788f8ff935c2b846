"""An OS file lock so that overlapping cron runs never work on the same state at once.

``flock`` is released by the kernel when the process ends, crash included: no stale PID files.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LockError


@contextmanager
def run_lock(path: Path, *, wait: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed). Without ``wait``, raise
    :class:`LockError` at once when another run holds it; with ``wait``, retry for that many
    seconds first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + (wait or 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(fd)
                    waited = f" after waiting {wait:g}s" if wait else ""
                    raise LockError(
                        f"another targetwatch run{holder} holds the lock {path}{waited}; "
                        "wait with --wait SECONDS, or let cron's next run try again"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""
