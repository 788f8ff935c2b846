"""The run lock: an OS ``flock`` beside the state file, so overlapping cron runs never work
on the same state at once, released by the kernel when its holder dies (no stale PID file)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from conftest import RULES_BREACH, MakeProject

from targetwatch.cli import cli
from targetwatch.errors import LockError
from targetwatch.lock import run_lock
from targetwatch.plugins import Registry

NOW = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0).isoformat()

HOLDER = """\
import sys, time
from pathlib import Path
from targetwatch.lock import run_lock
with run_lock(Path(sys.argv[1])):
    time.sleep(60)
"""


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "lock"


def held_elsewhere(path: Path) -> bool:
    try:
        with run_lock(path):
            return False
    except LockError:
        return True


@pytest.fixture
def holder_thread(lock_path: Path) -> Iterator[Callable[[float], threading.Thread]]:
    """Hold the lock in a thread for SECONDS (the thread is joined at teardown)."""
    threads: list[threading.Thread] = []

    def hold(seconds: float) -> threading.Thread:
        taken = threading.Event()

        def body() -> None:
            with run_lock(lock_path):
                taken.set()
                time.sleep(seconds)

        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        assert taken.wait(5)
        threads.append(thread)
        return thread

    yield hold
    for thread in threads:
        thread.join(timeout=10)


def test_a_second_holder_is_refused_naming_the_path_and_the_holder(lock_path: Path) -> None:
    with run_lock(lock_path):
        assert lock_path.read_text() == f"{os.getpid()}\n"
        with pytest.raises(LockError) as refused, run_lock(lock_path):
            pytest.fail("two holders at once")  # pragma: no cover
        message = str(refused.value)
        assert str(lock_path) in message and f"(pid {os.getpid()})" in message
        assert "--wait" in message
    with run_lock(lock_path):  # released on leaving the block
        pass


def test_the_lock_is_released_when_the_block_raises(lock_path: Path) -> None:
    with pytest.raises(RuntimeError), run_lock(lock_path):
        raise RuntimeError("boom")
    assert not held_elsewhere(lock_path)


def test_wait_succeeds_when_the_lock_is_released_in_time(lock_path: Path, holder_thread: Callable[[float], threading.Thread]) -> None:
    holder_thread(0.3)
    started = time.monotonic()
    with run_lock(lock_path, wait=5):
        waited = time.monotonic() - started
    assert 0.1 < waited < 5


def test_wait_gives_up_after_the_given_time(lock_path: Path, holder_thread: Callable[[float], threading.Thread]) -> None:
    holder_thread(1.0)
    started = time.monotonic()
    with pytest.raises(LockError, match=r"after waiting 0\.3s"), run_lock(lock_path, wait=0.3):
        pass  # pragma: no cover
    assert 0.25 < time.monotonic() - started < 1.0


def test_the_kernel_releases_the_lock_of_a_killed_holder(lock_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock_path)])
    try:
        deadline = time.monotonic() + 15
        # Held, and the holder has written its pid (it writes just after taking the lock).
        while not (held_elsewhere(lock_path) and lock_path.read_text().strip() == str(proc.pid)):
            assert proc.poll() is None and time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.05)
        with pytest.raises(LockError, match=rf"\(pid {proc.pid}\)"), run_lock(lock_path):
            pass  # pragma: no cover
        proc.kill()  # SIGKILL: no cleanup code runs
        proc.wait(timeout=10)
        with run_lock(lock_path):  # the lock file stays, the lock does not
            assert lock_path.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


# -- through the command ----------------------------------------------------------------------

FILE_CHANNEL = """\
[alerting]
notify = ["log"]

[channels.log]
type = "file"
path = "notes.jsonl"
"""


@pytest.fixture
def tw(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.delenv("TARGETWATCH_CONFIG", raising=False)
    return lambda *args: CliRunner().invoke(cli, [str(a) for a in args], obj=registry)


def test_check_exits_3_while_another_run_holds_the_lock(tw: Callable[..., Result], make_project: MakeProject) -> None:
    config = make_project(RULES_BREACH, extra=FILE_CHANNEL)
    lock = config.parent / ".targetwatch" / "lock"
    with run_lock(lock):
        refused = tw("check", "-c", config, "--now", NOW)
        assert refused.exit_code == 3
        assert "holds the lock" in refused.stderr and str(lock) in refused.stderr
        assert refused.stdout == ""
        assert not (config.parent / "notes.jsonl").exists()
        assert not (config.parent / ".targetwatch" / "state.sqlite3").exists()
    done = tw("check", "-c", config, "--now", NOW)
    assert done.exit_code == 2
    assert len((config.parent / "notes.jsonl").read_text(encoding="utf-8").splitlines()) == 1


def test_check_with_wait_runs_once_the_lock_is_free(tw: Callable[..., Result], make_project: MakeProject) -> None:
    config = make_project(RULES_BREACH, extra=FILE_CHANNEL)
    lock = config.parent / ".targetwatch" / "lock"
    taken = threading.Event()

    def hold() -> None:
        with run_lock(lock):
            taken.set()
            time.sleep(0.4)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        assert taken.wait(5)
        waited = tw("check", "-c", config, "--now", NOW, "--wait", "10", "--format", "json")
        assert waited.exit_code == 2, waited.stderr
        assert json.loads(waited.stdout)["exit_code"] == 2
    finally:
        thread.join(timeout=10)
    with run_lock(lock):
        impatient = tw("check", "-c", config, "--now", NOW, "--wait", "0.2")
    assert impatient.exit_code == 3 and "after waiting 0.2s" in impatient.stderr
