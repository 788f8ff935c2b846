"""Nothing lost, nothing doubled: ``targetwatch check`` SIGKILLed (like a power cut) at each
point of a run — before the commit, after the commit but before sending, after sending but
before marking sent, and by the receiver in the middle of the request — and then run again.

The crash points are real: ``TARGETWATCH_CRASH_AT`` makes the process SIGKILL itself there.
A run claims the outbox rows it sends with a lease; the next run holds the run lock, so it
knows the claim was a dead run's and sends at once — the very next minute."""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import RULES_BREACH, MakeProject
from httpkit import Receiver, receiving

Spawn = Callable[..., subprocess.Popen[str]]

BASE = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
AFTER_LEASE = 1  # minute: the next cron run, well inside the lease a killed run left behind


def at(**delta: float) -> str:
    return (BASE + dt.timedelta(**delta)).isoformat()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiving()


@pytest.fixture
def project(make_project: MakeProject, receiver: Receiver) -> Path:
    """One BREACH rule notified to a webhook (and nothing else)."""
    extra = f"""\
[alerting]
notify = ["hook"]
retry_after = "1min"

[channels.hook]
type = "webhook"
url = "{receiver.url}"
timeout = "5s"
"""
    return make_project(RULES_BREACH, extra=extra)


def run(spawn: Spawn, project: Path, now: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"TARGETWATCH_CRASH_AT": crash_at} if crash_at else {"TARGETWATCH_CRASH_AT": ""}
    proc = spawn("check", "--now", now, cwd=project.parent, env=env)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def state(project: Path, sql: str) -> list[tuple[object, ...]]:
    path = project.parent / ".targetwatch" / "state.sqlite3"
    db = sqlite3.connect(path, timeout=10)
    try:
        return list(db.execute(sql))
    finally:
        db.close()


def killed(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr)


def test_crash_before_commit_leaves_no_trace_and_the_next_run_notifies_once(spawn_cli: Spawn, project: Path, receiver: Receiver) -> None:
    killed(run(spawn_cli, project, at(), "before-commit"))
    assert receiver.requests == []
    assert state(project, "SELECT count(*) FROM runs") == [(0,)]
    assert state(project, "SELECT count(*) FROM alerts") == [(0,)]
    assert state(project, "SELECT count(*) FROM outbox") == [(0,)]

    normal = run(spawn_cli, project, at(minutes=1))
    assert normal.returncode == 2, normal.stderr
    [delivered] = receiver.requests
    assert delivered.accepted and delivered.key
    assert receiver.accepted_keys() == {delivered.key: 1}
    assert state(project, "SELECT state FROM outbox") == [("sent",)]

    assert run(spawn_cli, project, at(minutes=2)).returncode == 2
    assert len(receiver.requests) == 1


def test_crash_before_send_keeps_the_message_and_the_next_run_sends_it_once(spawn_cli: Spawn, project: Path, receiver: Receiver) -> None:
    killed(run(spawn_cli, project, at(), "before-send"))
    assert receiver.requests == []
    assert state(project, "SELECT count(*) FROM runs") == [(1,)]
    [(key, row_state, attempts)] = state(project, "SELECT key, state, attempts FROM outbox")
    assert (row_state, attempts) == ("pending", 0)

    normal = run(spawn_cli, project, at(minutes=AFTER_LEASE))
    assert normal.returncode == 2, normal.stderr
    assert receiver.accepted_keys() == {key: 1}
    assert len(receiver.requests) == 1
    assert state(project, "SELECT key, state FROM outbox") == [(key, "sent")]

    assert run(spawn_cli, project, at(minutes=AFTER_LEASE + 1)).returncode == 2
    assert len(receiver.requests) == 1


def test_crash_before_mark_resends_under_the_same_key(spawn_cli: Spawn, project: Path, receiver: Receiver) -> None:
    killed(run(spawn_cli, project, at(), "before-mark"))
    [first] = receiver.requests
    assert first.accepted  # the receiver took it; the run died before recording that
    [(key, row_state)] = state(project, "SELECT key, state FROM outbox")
    assert row_state == "pending" and first.key == key

    normal = run(spawn_cli, project, at(minutes=AFTER_LEASE))
    assert normal.returncode == 2, normal.stderr
    assert receiver.accepted_keys() == {key: 2}  # at most the one repeat, and never a new key
    assert receiver.requests[1].body == first.body  # the very same message
    assert state(project, "SELECT state FROM outbox") == [("sent",)]

    assert run(spawn_cli, project, at(minutes=AFTER_LEASE + 1)).returncode == 2
    assert len(receiver.requests) == 2


def test_client_killed_mid_request_resends_under_the_same_key(spawn_cli: Spawn, project: Path, receiver: Receiver) -> None:
    receiver.queue("kill")
    proc = spawn_cli("check", "--now", at(), cwd=project.parent, env={"TARGETWATCH_CRASH_AT": ""})
    receiver.kill_pid = proc.pid
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, err)
    [cut] = receiver.requests
    assert cut.status is None and cut.key  # no answer: the sender died waiting for it

    normal = run(spawn_cli, project, at(minutes=AFTER_LEASE))
    assert normal.returncode == 2, normal.stderr
    assert receiver.accepted_keys() == {cut.key: 1}
    assert {r.key for r in receiver.requests} == {cut.key}

    assert run(spawn_cli, project, at(minutes=AFTER_LEASE + 1)).returncode == 2
    assert len(receiver.requests) == 2


def test_crash_after_a_repeat_was_committed_keeps_the_repeats_key(spawn_cli: Spawn, project: Path, receiver: Receiver) -> None:
    """A later transition (the daily repeat) is as safe as the first notice."""
    assert run(spawn_cli, project, at()).returncode == 2
    killed(run(spawn_cli, project, at(hours=25), "before-mark"))
    keys = [r.key for r in receiver.requests]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert run(spawn_cli, project, at(hours=25, minutes=AFTER_LEASE)).returncode == 2
    assert receiver.accepted_keys() == {keys[0]: 1, keys[1]: 2}
    assert run(spawn_cli, project, at(hours=25, minutes=AFTER_LEASE + 1)).returncode == 2
    assert len(receiver.requests) == 3
