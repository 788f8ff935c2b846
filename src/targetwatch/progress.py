"""Progress of a long run, on a terminal only: cron output stays clean.

The engine reports ``(stage, done, total)`` through a plain callback; :class:`TerminalProgress`
shows it on stderr once a run has lasted longer than a second, and erases it at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO, TypeVar

#: ``progress(stage, done, total)``; ``total`` is ``None`` when it is not known in advance.
Progress = Callable[[str, int, "int | None"], None]

T = TypeVar("T")


def counted(items: Iterable[T], progress: Progress | None, stage: str, *, every: int = 50_000) -> Iterator[T]:
    """``items`` unchanged, reporting how many have passed every ``every`` items."""
    if progress is None:
        yield from items
        return
    done = 0
    for done, item in enumerate(items, start=1):
        if done % every == 0:
            progress(stage, done, None)
        yield item
    progress(stage, done, None)


class TerminalProgress:
    """Writes ``stage: done/total`` on one line of ``stream``, after ``delay`` seconds, at most
    ten times a second; :meth:`close` erases the line. Use only when ``stream`` is a terminal."""

    def __init__(self, stream: TextIO, *, delay: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.delay = delay
        self.clock = clock
        self.started = clock()
        self.last = 0.0
        self.width = 0

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        now = self.clock()
        if now - self.started < self.delay or (now - self.last < 0.1 and (total is None or done < total)):
            return
        self.last = now
        text = f"{stage}: {done:,}" + (f"/{total:,}" if total is not None else "")
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def close(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
