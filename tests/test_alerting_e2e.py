"""Alerting end to end, as cron runs it: the seed example notifying its console and JSON Lines
channels run after run (first notice, quiet re-run, daily repeat, resolved notice, silences,
dry runs), a webhook that is down for a while or for good (retries, the outbox, dead
messages and ``outbox --retry``), and the lifecycle policies (``for``, ``repeat = false``,
a policy changed between runs).

Runs are in-process (``CliRunner``) with the hidden ``--now`` faking the wall clock; the dry
run uses real processes so that the state file's bytes are settled between runs. ``--now``
moments are taken near the real clock because ``silence`` and ``outbox --retry`` use it."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from conftest import RULES_BREACH, RULES_WARN, MakeProject
from httpkit import Receiver, receiving

from targetwatch.cli import cli
from targetwatch.plugins import Registry

Run = Callable[..., subprocess.CompletedProcess[str]]
Invoke = Callable[..., Result]

TZ = ZoneInfo("Asia/Shanghai")
#: The fake wall clock's origin: the real time (to the minute), so that silences and
#: ``outbox --retry`` (which read the real clock) agree with the ``--now`` of each run.
BASE = dt.datetime.now(TZ).replace(second=0, microsecond=0)

#: The seed's non-OK rules as of its pinned 2023-10-16: 2 BREACH, 4 WARN.
NOT_OK = {
    "elderly.learners-data-fresh", "schools.private-share-cap",
    "places.linchang-school", "schools.group-members", "sport.events-h2", "sport.fitness-points",
}
CAP = "schools.private-share-cap"
CONSOLE_MARK = "targetwatch as of "  # the first line of every digest's text


def at(**delta: float) -> str:
    """``--now`` text for BASE + delta."""
    return (BASE + dt.timedelta(**delta)).isoformat()


@pytest.fixture
def tw(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """``targetwatch ARGS`` in-process with a fresh registry."""
    monkeypatch.delenv("TARGETWATCH_CONFIG", raising=False)
    monkeypatch.delenv("TARGETWATCH_CRASH_AT", raising=False)

    def run(*args: str | Path) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], obj=registry)

    return run


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiving()


def notes(config: Path, name: str = ".targetwatch/notifications.jsonl") -> list[dict[str, Any]]:
    path = config.parent / name
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def console_digests(stderr: str) -> int:
    """How many digests the console channel wrote to stderr."""
    return sum(line.startswith(CONSOLE_MARK) for line in stderr.splitlines())


def check(tw: Invoke, config: Path, now: str, *more: str, code: int | None = 2) -> Result:
    result = tw("check", "-c", config, "--now", now, *more)
    if code is not None:
        assert result.exit_code == code, result.output + result.stderr
    return result


def outbox(tw: Invoke, config: Path, *more: str) -> tuple[int, list[dict[str, Any]]]:
    result = tw("outbox", "-c", config, "--format", "json", *more)
    return result.exit_code, json.loads(result.stdout)


# -- the seed example: console + JSON Lines file --------------------------------------------


def test_seed_first_run_notifies_each_channel_once_then_is_quiet_then_repeats(tw: Invoke, seed_copy: Path) -> None:
    first = check(tw, seed_copy, at())
    assert console_digests(first.stderr) == 1
    assert "2 BREACH, 4 WARN: " in first.stderr
    [line] = notes(seed_copy)
    assert line["channel"] == "log" and line["omitted"] == 0 and line["key"]
    assert {e["rule"] for e in line["events"]} == NOT_OK
    assert len(line["events"]) == 6 and {e["kind"] for e in line["events"]} == {"firing"}
    assert line["subject"].startswith("2 BREACH, 4 WARN: ")
    code, sent = outbox(tw, seed_copy, "--sent")
    assert code == 0 and sorted(r["channel"] for r in sent) == ["console", "log"]
    assert {r["state"] for r in sent} == {"sent"} and all(r["attempts"] == 1 for r in sent)

    notes_file = seed_copy.parent / ".targetwatch/notifications.jsonl"
    before = notes_file.read_bytes()
    again = check(tw, seed_copy, at(minutes=5))
    assert console_digests(again.stderr) == 0 and again.stderr == ""
    assert notes_file.read_bytes() == before
    assert "schools.private-share-cap" in again.stdout  # the verdicts still print

    later = check(tw, seed_copy, at(hours=25))
    assert console_digests(later.stderr) == 1 and "(repeat)" in later.stderr
    lines = notes(seed_copy)
    assert len(lines) == 2
    assert {e["rule"] for e in lines[1]["events"]} == NOT_OK
    assert {e["kind"] for e in lines[1]["events"]} == {"repeat"}
    assert lines[1]["key"] != lines[0]["key"]

    quiet = check(tw, seed_copy, at(hours=25, minutes=5))
    assert console_digests(quiet.stderr) == 0 and len(notes(seed_copy)) == 2


def _clear_cap_breach(config: Path) -> None:
    csv = config.parent / "examples/district-education/observations.csv"
    text = csv.read_text(encoding="utf-8")
    old = "private_school.share,2023-autumn,田家庵区,4.95%,"
    assert text.count(old) == 1
    csv.write_text(text.replace(old, "private_school.share,2023-autumn,田家庵区,4.5%,"), encoding="utf-8")


def test_seed_a_cleared_breach_sends_a_resolved_notice_for_that_rule_only(tw: Invoke, seed_copy: Path) -> None:
    check(tw, seed_copy, at())
    _clear_cap_breach(seed_copy)
    resolved = check(tw, seed_copy, at(minutes=5))  # elderly.learners-data-fresh still breaches
    assert console_digests(resolved.stderr) == 1 and "[RESOLVED]" in resolved.stderr
    lines = notes(seed_copy)
    assert len(lines) == 2
    [event] = lines[1]["events"]
    assert (event["rule"], event["kind"], event["status"]) == (CAP, "resolved", "OK")
    assert lines[1]["subject"].startswith("1 RESOLVED: ")

    after = check(tw, seed_copy, at(minutes=10))
    assert console_digests(after.stderr) == 0 and len(notes(seed_copy)) == 2


def test_seed_a_silenced_rule_shows_marked_sends_nothing_and_is_announced_after_unsilence(tw: Invoke, seed_copy: Path) -> None:
    made = tw("silence", "-c", seed_copy, CAP, "--until", "3d", "--reason", "data audit")
    assert made.exit_code == 0, made.output + made.stderr
    assert made.stdout.startswith("silence #1: schools.private-share-cap until ")

    table = check(tw, seed_copy, at())
    silenced_rows = [line for line in table.stdout.splitlines() if "(silenced)" in line]
    assert len(silenced_rows) == 1 and silenced_rows[0].startswith("BREACH (silenced)")
    [line] = notes(seed_copy)
    assert {e["rule"] for e in line["events"]} == NOT_OK - {CAP}

    as_json = check(tw, seed_copy, at(minutes=5), "--format", "json")
    verdicts = {v["rule"]: v for v in json.loads(as_json.stdout)["verdicts"]}
    assert "data audit" in verdicts[CAP]["silenced"] and "silence #1" in verdicts[CAP]["silenced"]
    assert all(v["silenced"] is None for rule, v in verdicts.items() if rule != CAP)
    assert len(notes(seed_copy)) == 1 and console_digests(as_json.stderr) == 0

    ended = tw("unsilence", "-c", seed_copy, "1")
    assert ended.exit_code == 0 and ended.stdout == "silence #1 ended\n"
    announced = check(tw, seed_copy, at(minutes=10))
    assert "(silenced)" not in announced.stdout
    lines = notes(seed_copy)
    assert len(lines) == 2
    [event] = lines[1]["events"]
    assert (event["rule"], event["kind"], event["status"]) == (CAP, "firing", "BREACH")
    assert console_digests(announced.stderr) == 1


def _snapshot(config: Path) -> tuple[dict[str, bytes], list[str]]:
    folder = config.parent / ".targetwatch"
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    db = sqlite3.connect(f"file:{folder / 'state.sqlite3'}?mode=ro", uri=True)
    try:
        rows = list(db.iterdump())
    finally:
        db.close()
    return files, rows


def test_seed_dry_run_prints_the_verdicts_and_changes_nothing(run_cli: Run, seed_copy: Path) -> None:
    root = seed_copy.parent
    fresh = run_cli("check", "--dry-run", "--now", at(), cwd=root)
    assert fresh.returncode == 2, fresh.stderr
    assert "schools.private-share-cap" in fresh.stdout and "12 OK, 4 WARN, 2 BREACH" in fresh.stdout
    assert console_digests(fresh.stderr) == 0
    assert not (root / ".targetwatch").exists()  # no state file, no lock, no notifications

    real = run_cli("check", "--now", at(), cwd=root)
    assert real.returncode == 2 and console_digests(real.stderr) == 1
    before = _snapshot(seed_copy)
    assert "state.sqlite3" in before[0] and "notifications.jsonl" in before[0]

    for args in (["--now", at(hours=25)], ["--now", at(hours=25), "--format", "json"], ["--now", at(days=40), "--quiet"]):
        dry = run_cli("check", "--dry-run", *args, cwd=root)
        assert dry.returncode == 2, dry.stderr
        assert "schools.private-share-cap" in dry.stdout
        assert console_digests(dry.stderr) == 0
        assert _snapshot(seed_copy) == before

    repeat = run_cli("check", "--now", at(hours=25), cwd=root)  # the repeat the dry runs did not use up
    assert repeat.returncode == 2 and console_digests(repeat.stderr) == 1
    assert [e["kind"] for e in notes(seed_copy)[-1]["events"]] == ["repeat"] * 6


def test_seed_dry_run_marks_silenced_verdicts(tw: Invoke, seed_copy: Path) -> None:
    check(tw, seed_copy, at())
    assert tw("silence", "-c", seed_copy, CAP, "--until", "1d", "--reason", "audit").exit_code == 0
    dry = check(tw, seed_copy, at(minutes=5), "--dry-run", "--format", "json")
    verdicts = {v["rule"]: v for v in json.loads(dry.stdout)["verdicts"]}
    assert "audit" in verdicts[CAP]["silenced"]


# -- a webhook that is down ----------------------------------------------------------------


def _route_seed_to_hook(config: Path, url: str, **alerting: Any) -> None:
    text = config.read_text(encoding="utf-8")
    old = 'notify = ["console", "log"]   # every rule, unless it routes elsewhere'
    assert text.count(old) == 1
    keys = {"retry_after": "1min", **alerting}
    new = 'notify = ["hook"]\n' + "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    text = text.replace(old, new) + f'\n[channels.hook]\ntype = "webhook"\nurl = "{url}"\ntimeout = "5s"\n'
    config.write_text(text, encoding="utf-8")


def test_webhook_down_for_three_runs_then_delivered_once(tw: Invoke, seed_copy: Path, receiver: Receiver) -> None:
    _route_seed_to_hook(seed_copy, receiver.url)
    receiver.queue(503, 503, 503)
    # Each run comes after the previous failure's retry is due (1 min, then 2, then 4).
    for n, now in enumerate([at(), at(minutes=2), at(minutes=5)], start=1):
        result = check(tw, seed_copy, now)  # the verdict status, whatever the channel does
        assert len(receiver.requests) == n and not receiver.accepted()
        code, rows = outbox(tw, seed_copy)
        assert code == 0
        [row] = rows
        assert row["state"] == "pending" and row["attempts"] == n and row["channel"] == "hook"
        assert "HTTP 503" in row["last_error"]
        table = tw("outbox", "-c", seed_copy)
        assert table.exit_code == 0 and "pending" in table.stdout and "HTTP 503" in table.stdout
        assert "delivery to hook failed" in result.stderr
    key = receiver.requests[0].key
    assert key and {r.key for r in receiver.requests} == {key}  # one message, retried under one key

    check(tw, seed_copy, at(minutes=10))
    assert receiver.accepted_keys() == {key: 1}
    [delivered] = receiver.accepted()
    body = delivered.json()
    assert body["key"] == key and {e["rule"] for e in body["events"]} == NOT_OK
    assert delivered.headers["content-type"].startswith("application/json")
    assert outbox(tw, seed_copy) == (0, [])
    assert "the outbox is empty" in tw("outbox", "-c", seed_copy).stdout

    check(tw, seed_copy, at(minutes=30))  # nothing new to say, nothing to retry
    assert len(receiver.requests) == 4


def _warn_project_with_hook(make_project: MakeProject, url: str, **alerting: Any) -> Path:
    keys = {"notify": ["hook"], "retry_after": "1min", **alerting}
    extra = "[alerting]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    extra += f'[channels.hook]\ntype = "webhook"\nurl = "{url}"\ntimeout = "5s"\n'
    return make_project(RULES_WARN, extra=extra)


def test_a_message_given_up_makes_runs_exit_3_until_retried(tw: Invoke, make_project: MakeProject, receiver: Receiver) -> None:
    config = _warn_project_with_hook(make_project, receiver.url, delivery_attempts=2)
    receiver.down(503)
    check(tw, config, at(), code=1)  # first attempt failed; retried later
    dead_run = check(tw, config, at(minutes=2), code=3)  # second attempt: given up
    assert "given up" in dead_run.stdout + dead_run.stderr
    assert len(receiver.requests) == 2
    check(tw, config, at(minutes=30), code=3)  # still dead, not retried by itself
    assert len(receiver.requests) == 2

    code, rows = outbox(tw, config)
    assert code == 3
    [row] = rows
    assert row["state"] == "dead" and row["attempts"] == 2 and "HTTP 503" in row["last_error"]
    listed = tw("outbox", "-c", config)
    assert listed.exit_code == 3 and "dead" in listed.stdout
    assert tw("status", "-c", config).exit_code == 3

    receiver.up()
    retried = tw("outbox", "-c", config, "--retry")
    assert retried.exit_code == 0, retried.output
    assert retried.stdout.startswith("1 message queued again")
    check(tw, config, at(hours=1), code=1)
    assert receiver.accepted_keys() == {row["key"]: 1}
    assert outbox(tw, config) == (0, [])
    check(tw, config, at(hours=2), code=1)
    assert len(receiver.accepted()) == 1


def test_a_closed_connection_is_retried_like_a_503(tw: Invoke, make_project: MakeProject, receiver: Receiver) -> None:
    config = _warn_project_with_hook(make_project, receiver.url)
    receiver.queue("close")
    check(tw, config, at(), code=1)
    [row] = outbox(tw, config)[1]
    assert row["state"] == "pending" and row["last_error"]
    check(tw, config, at(minutes=2), code=1)
    assert receiver.accepted_keys() == {row["key"]: 1}


# -- lifecycle policies, run after run ------------------------------------------------------

FILE_CHANNEL = """\
[alerting]
notify = ["log"]
{alerting}
[channels.log]
type = "file"
path = "notes.jsonl"
"""


def _file_project(make_project: MakeProject, rules: str, alerting: str = "") -> Path:
    return make_project(rules, extra=FILE_CHANNEL.format(alerting=alerting))


def test_for_2_is_pending_after_one_run_and_fires_on_the_second(tw: Invoke, make_project: MakeProject) -> None:
    config = _file_project(make_project, RULES_BREACH + "for = 2\n")
    check(tw, config, at())
    assert notes(config, "notes.jsonl") == []
    status = tw("status", "-c", config, "--format", "json")
    [alert] = json.loads(status.stdout)["alerts"]
    assert (alert["rule"], alert["state"], alert["status"]) == ("score.breach", "pending", "BREACH")
    assert "pending" in tw("status", "-c", config).stdout

    check(tw, config, at())  # the same moment again is the same check, not a second one
    assert notes(config, "notes.jsonl") == []

    check(tw, config, at(minutes=1))
    [line] = notes(config, "notes.jsonl")
    assert [(e["rule"], e["kind"]) for e in line["events"]] == [("score.breach", "firing")]
    [alert] = json.loads(tw("status", "-c", config, "--format", "json").stdout)["alerts"]
    assert alert["state"] == "firing"


def test_repeat_false_never_repeats(tw: Invoke, make_project: MakeProject) -> None:
    never = RULES_BREACH + "repeat = false\n"
    daily = RULES_BREACH.replace('"score.breach"', '"score.breach-daily"')
    config = _file_project(make_project, never + "\n" + daily)
    check(tw, config, at())
    [first] = notes(config, "notes.jsonl")
    assert {e["rule"] for e in first["events"]} == {"score.breach", "score.breach-daily"}
    for days in (2, 30, 400):
        check(tw, config, at(days=days))
    repeats = [e for line in notes(config, "notes.jsonl")[1:] for e in line["events"]]
    assert repeats and {(e["rule"], e["kind"]) for e in repeats} == {("score.breach-daily", "repeat")}


def test_lowering_repeat_in_the_config_takes_effect_on_the_next_run(tw: Invoke, make_project: MakeProject) -> None:
    config = _file_project(make_project, RULES_BREACH, 'repeat = "1d"')
    check(tw, config, at())
    check(tw, config, at(hours=2))
    assert len(notes(config, "notes.jsonl")) == 1
    config.write_text(config.read_text(encoding="utf-8").replace('repeat = "1d"', 'repeat = "1h"'), encoding="utf-8")
    check(tw, config, at(hours=2, minutes=1))
    lines = notes(config, "notes.jsonl")
    assert len(lines) == 2 and [e["kind"] for e in lines[1]["events"]] == ["repeat"]
    check(tw, config, at(hours=2, minutes=30))  # within the new hour
    assert len(notes(config, "notes.jsonl")) == 2


def test_idempotency_keys_do_not_depend_on_the_clock(tw: Invoke, make_project: MakeProject, tmp_path: Path) -> None:
    """The same transition computed at another moment (a re-run after a crash before the
    commit) gets the same key, so a receiver can drop the repeat."""
    config = _file_project(make_project, RULES_BREACH)
    check(tw, config, at())
    [line] = notes(config, "notes.jsonl")
    (tmp_path / ".targetwatch" / "state.sqlite3").unlink()
    for suffix in ("-wal", "-shm"):
        (tmp_path / ".targetwatch" / f"state.sqlite3{suffix}").unlink(missing_ok=True)
    check(tw, config, at(minutes=7))
    assert notes(config, "notes.jsonl")[1]["key"] == line["key"]


def test_a_channel_that_is_down_never_stops_the_others(tw: Invoke, seed_copy: Path, receiver: Receiver) -> None:
    _route_seed_to_hook(seed_copy, receiver.url)
    text = seed_copy.read_text(encoding="utf-8").replace('notify = ["hook"]', 'notify = ["hook", "console", "log"]')
    seed_copy.write_text(text, encoding="utf-8")
    receiver.down("close")
    first = check(tw, seed_copy, at())
    assert console_digests(first.stderr) == 1 and len(notes(seed_copy)) == 1
    code, rows = outbox(tw, seed_copy)
    assert code == 0 and [r["channel"] for r in rows] == ["hook"]
    receiver.up()
    second = check(tw, seed_copy, at(minutes=2))
    assert console_digests(second.stderr) == 0 and len(notes(seed_copy)) == 1  # the others are not told twice
    assert receiver.accepted_keys() == {rows[0]["key"]: 1}
    assert {e["rule"] for e in receiver.accepted()[0].json()["events"]} == NOT_OK


def test_a_rule_taken_out_of_the_config_is_resolved_once_and_leaves_status(seed_copy: Path) -> None:
    """A removed rule's alert does not fire forever: its channels hear it is no longer checked."""
    from click.testing import CliRunner

    from targetwatch.cli import cli
    from targetwatch.plugins import Registry

    def run(*args: str) -> tuple[int, str, str]:
        r = CliRunner().invoke(cli, [*args, "-c", str(seed_copy)], obj=Registry(entry_points=False))
        return r.exit_code, r.stdout, r.stderr

    assert run("check")[0] == 2
    log = seed_copy.parent / ".targetwatch" / "notifications.jsonl"
    lines = len(log.read_text(encoding="utf-8").splitlines())
    # Only some rules judged: the others keep their alerts.
    assert run("check", "--rule", "sport.*")[0] == 1
    assert len(log.read_text(encoding="utf-8").splitlines()) == lines
    assert "schools.private-share-cap" in run("status")[1]
    # The cap rule is taken out of its file.
    rules = seed_copy.parent / "rules" / "schools.toml"
    text = rules.read_text(encoding="utf-8")
    start = text.index('[[rule]]\nid = "schools.private-share-cap"')
    rules.write_text(text[:start] + text[text.index("[[rule]]", start + 1):], encoding="utf-8")
    assert run("check")[0] == 2  # the other breach remains
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()[lines:]]
    (entry,) = entries
    (event,) = [e for e in entry["events"] if e["rule"] == "schools.private-share-cap"]
    assert event["kind"] == "resolved" and "no longer checked" in event["message"]
    assert "schools.private-share-cap" not in run("status")[1]
