"""Overlapping cron runs: two ``targetwatch check`` processes started together on the same
state. Without ``--wait`` the second exits 3 saying another run holds the lock (or, if the
first was already done, both succeed); with ``--wait`` both succeed. Either way each
notification reaches the webhook and the JSON Lines file exactly once.

The receiver takes 0.5 s to answer, so the first run holds the lock long enough for the
runs to overlap."""

from __future__ import annotations

import collections
import datetime as dt
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import RULES_BREACH, MakeProject
from httpkit import Receiver, receiving

Spawn = Callable[..., subprocess.Popen[str]]

NOW = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0).isoformat()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiving(delay=0.5)


@pytest.fixture
def project(make_project: MakeProject, receiver: Receiver) -> Path:
    extra = f"""\
[alerting]
notify = ["hook", "log"]

[channels.hook]
type = "webhook"
url = "{receiver.url}"
timeout = "5s"

[channels.log]
type = "file"
path = "notes.jsonl"
"""
    return make_project(RULES_BREACH, extra=extra)


def both(spawn: Spawn, project: Path, *more: str) -> list[subprocess.CompletedProcess[str]]:
    procs = [spawn("check", "--now", NOW, *more, cwd=project.parent) for _ in range(2)]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def assert_each_key_once(project: Path, receiver: Receiver) -> None:
    assert receiver.accepted_keys() and set(receiver.accepted_keys().values()) == {1}
    assert len(receiver.requests) == 1  # one digest for the webhook, sent by one run
    lines = [json.loads(line) for line in (project.parent / "notes.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 1
    assert set(collections.Counter(line["key"] for line in lines).values()) == {1}


def test_two_runs_at_once_one_is_refused_by_the_lock(spawn_cli: Spawn, project: Path, receiver: Receiver) -> None:
    runs = both(spawn_cli, project)
    codes = sorted(r.returncode for r in runs)
    assert codes in ([2, 2], [2, 3]), [(r.returncode, r.stderr) for r in runs]
    for r in runs:
        if r.returncode == 3:
            assert "holds the lock" in r.stderr and "--wait" in r.stderr
            assert r.stdout == ""  # refused before judging anything
    assert_each_key_once(project, receiver)


def test_two_runs_at_once_with_wait_both_succeed(spawn_cli: Spawn, project: Path, receiver: Receiver) -> None:
    runs = both(spawn_cli, project, "--wait", "30")
    assert [r.returncode for r in runs] == [2, 2], [r.stderr for r in runs]
    assert all("score.breach" in r.stdout for r in runs)
    assert_each_key_once(project, receiver)
