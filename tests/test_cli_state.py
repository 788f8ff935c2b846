"""The commands over the state file: ``silence`` (validation, time zone), ``silences``,
``unsilence``, ``status``, ``outbox``; ``-v`` logging what was delivered; and secrets kept
out of every output, log and the state file, even when delivery fails."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from conftest import RULES_BREACH, RULES_WARN, MakeProject
from httpkit import Receiver, closed_port, receiving
from hypothesis import given, settings
from hypothesis import strategies as st

from targetwatch import cli_state
from targetwatch.cli import cli
from targetwatch.default_plugins.webhook_channel import sign
from targetwatch.model import Status
from targetwatch.plugins import Registry
from targetwatch.state import OpenAlert

Invoke = Callable[..., Result]
TZ = ZoneInfo("Asia/Shanghai")
BASE = dt.datetime.now(TZ).replace(second=0, microsecond=0)

RULES = RULES_BREACH + "\n" + RULES_WARN.replace('"score.warn"', '"score.warn-slow"') + "for = 2\n"
FILE_CHANNEL = """\
[alerting]
notify = ["log"]

[channels.log]
type = "file"
path = "notes.jsonl"
"""


def at(**delta: float) -> str:
    return (BASE + dt.timedelta(**delta)).isoformat()


@pytest.fixture
def tw(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.delenv("TARGETWATCH_CONFIG", raising=False)
    monkeypatch.delenv("TARGETWATCH_CRASH_AT", raising=False)

    def run(*args: str | Path) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], obj=registry)

    return run


@pytest.fixture
def project(make_project: MakeProject) -> Path:
    """score.breach (BREACH, fires at once) and score.warn-slow (WARN, for = 2), told to a file."""
    return make_project(RULES, extra=FILE_CHANNEL)


def clock(monkeypatch: pytest.MonkeyPatch, text: str) -> dt.datetime:
    """Make the state commands' wall clock say ``text`` (in Asia/Shanghai)."""
    moment = dt.datetime.fromisoformat(text).replace(tzinfo=TZ)
    monkeypatch.setattr(cli_state, "_now", lambda config: moment)
    return moment


# -- silence ---------------------------------------------------------------------------------


def test_silence_of_an_unknown_rule_exits_3_listing_the_rule_ids(tw: Invoke, project: Path) -> None:
    result = tw("silence", "-c", project, "nope.*", "--until", "3d", "--reason", "x")
    assert result.exit_code == 3
    assert "no rule matches 'nope.*'" in result.stderr
    assert "score.breach" in result.stderr and "score.warn-slow" in result.stderr
    assert not (project.parent / ".targetwatch").exists()


def test_silence_until_the_past_exits_3(tw: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock(monkeypatch, "2023-10-16T09:00")
    for until in ("2023-10-15", "2023-10-16T09:00", "2000-01-01"):
        result = tw("silence", "-c", project, "score.breach", "--until", until, "--reason", "x")
        assert result.exit_code == 3, until
        assert "not in the future" in result.stderr
    garbled = tw("silence", "-c", project, "score.breach", "--until", "soon", "--reason", "x")
    assert garbled.exit_code == 3 and "duration such as 3d" in garbled.stderr


@pytest.mark.parametrize("label", ["district", "=A", " =A"])
def test_silence_with_a_bad_label_exits_3(tw: Invoke, project: Path, label: str) -> None:
    result = tw("silence", "-c", project, "score.breach", "--label", label, "--until", "3d", "--reason", "x")
    assert result.exit_code == 3
    assert "NAME=VALUE" in result.stderr


def test_silence_needs_a_reason(tw: Invoke, project: Path) -> None:
    assert tw("silence", "-c", project, "score.breach", "--until", "3d", "--reason", " ").exit_code == 3
    assert tw("silence", "-c", project, "score.breach", "--until", "3d").exit_code == 3


def test_silence_until_a_date_is_read_in_the_configured_time_zone(tw: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock(monkeypatch, "2023-10-16T09:00")
    made = tw("silence", "-c", project, "score.*", "--label", "district=A", "--until", "2023-11-01", "--reason", "data audit")
    assert made.exit_code == 0, made.stderr
    assert made.stdout == "silence #1: score.* district=A until 2023-11-01 00:00 (Asia/Shanghai): data audit\n"

    table = tw("silences", "-c", project)
    assert table.exit_code == 0
    assert "2023-11-01 00:00" in table.stdout and "active" in table.stdout and "data audit" in table.stdout
    [doc] = json.loads(tw("silences", "-c", project, "--format", "json").stdout)
    assert dt.datetime.fromisoformat(doc["until"]) == dt.datetime(2023, 11, 1, tzinfo=TZ)
    assert dt.datetime.fromisoformat(doc["until"]) == dt.datetime(2023, 10, 31, 16, tzinfo=dt.UTC)
    assert (doc["rule"], doc["labels"], doc["active"]) == ("score.*", {"district": "A"}, True)


def test_silences_all_shows_ended_and_expired_ones(tw: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock(monkeypatch, "2023-10-16T09:00")
    assert tw("silence", "-c", project, "score.breach", "--until", "1h", "--reason", "brief").exit_code == 0
    assert tw("silence", "-c", project, "score.warn-slow", "--until", "3d", "--reason", "long").exit_code == 0
    ended = tw("unsilence", "-c", project, "2")
    assert ended.exit_code == 0 and ended.stdout == "silence #2 ended\n"
    clock(monkeypatch, "2023-10-16T12:00")  # #1 has expired by now

    assert tw("silences", "-c", project).stdout == "no active silences\n"
    assert json.loads(tw("silences", "-c", project, "--format", "json").stdout) == []
    listed = tw("silences", "-c", project, "--all")
    assert listed.exit_code == 0
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[2:]}
    assert "expired" in rows["1"] and "brief" in rows["1"]
    assert "ended" in rows["2"] and "long" in rows["2"]
    docs = json.loads(tw("silences", "-c", project, "--all", "--format", "json").stdout)
    assert [(d["id"], d["active"]) for d in docs] == [(1, False), (2, False)]


def test_unsilence_of_an_unknown_or_ended_silence_exits_3(tw: Invoke, project: Path) -> None:
    missing = tw("unsilence", "-c", project, "999")
    assert missing.exit_code == 3 and "no active silence #999" in missing.stderr
    assert tw("silence", "-c", project, "score.breach", "--until", "3d", "--reason", "x").exit_code == 0
    assert tw("unsilence", "-c", project, "1").exit_code == 0
    twice = tw("unsilence", "-c", project, "1")
    assert twice.exit_code == 3 and "no active silence #1" in twice.stderr
    assert tw("unsilence", "-c", project, "one").exit_code == 3  # not a number: a usage error, still 3


# -- status and outbox -------------------------------------------------------------------------


def test_status_counts_firing_and_pending_alerts(tw: Invoke, project: Path) -> None:
    before = tw("status", "-c", project)
    assert before.exit_code == 0 and "no alerts" in before.stdout
    assert tw("check", "-c", project, "--now", at()).exit_code == 2
    assert tw("silence", "-c", project, "score.warn-slow", "--until", "3d", "--reason", "x").exit_code == 0

    doc = json.loads(tw("status", "-c", project, "--format", "json").stdout)
    states = {a["rule"]: (a["state"], a["status"]) for a in doc["alerts"]}
    assert states == {"score.breach": ("firing", "BREACH"), "score.warn-slow": ("pending", "WARN")}
    assert doc["silences"] == 1 and doc["outbox"] == {"pending": 0, "dead": 0}
    assert all(a["labels"] == {"district": "A"} for a in doc["alerts"])

    table = tw("status", "-c", project)
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert sum(line.startswith("firing") for line in lines) == 1
    assert sum(line.startswith("pending") for line in lines) == 1
    assert lines[-2:] == ["alerts: 1 firing (1 BREACH), 1 pending (1 WARN)", "silences: 1 active; outbox: 0 waiting, 0 given up"]


#: 24 districts: D01-D20 score 80 (BREACH for score.breach, WARN for the others), D21 96 (WARN
#: only for score.warn-now), D22-D24 99 (OK everywhere).
MANY_CSV = "indicator,period,district,value\n" + "".join(
    f"score,2023-Q2,D{i:02d},{80 if i <= 20 else 96 if i == 21 else 99}\n" for i in range(1, 25)
)
#: score.warn-now: WARN below 97, firing at once; score.warn-slow: WARN below 95, pending
#: until a second check; score.breach: BREACH below 95, firing at once.
MANY_RULES = RULES.replace('"score.warn"', '"score.warn-slow"') + """
[[rule]]
id = "score.warn-now"
kind = "threshold"
indicator = "score"
min = 50
warn_min = 97
"""


@pytest.fixture
def many(tw: Invoke, make_project: MakeProject) -> Path:
    """61 alerts after one check: 20 firing BREACH, 21 firing WARN, 20 pending WARN; and 11 OK."""
    config = make_project({"a.toml": MANY_RULES}, csv=MANY_CSV, extra=FILE_CHANNEL)
    assert tw("check", "-c", config, "--now", at()).exit_code == 2
    return config


def rows(result: Result) -> list[tuple[str, ...]]:
    """The table's rows (state, status, rule, series), without the lines a long WHY wraps onto."""
    return [tuple(line.split()[:4]) for line in result.stdout.splitlines() if line.startswith(("firing", "pending"))]


def test_status_lists_the_worst_first_at_most_20_and_says_how_many_more(tw: Invoke, many: Path) -> None:
    result = tw("status", "-c", many)
    assert result.exit_code == 0
    breach = [("firing", "BREACH", "score.breach", f"district=D{i:02d}") for i in range(1, 21)]
    assert rows(result) == breach
    lines = result.stdout.splitlines()
    assert lines[-3:] == [
        "… and 41 more: --limit N lists N, --limit 0 all",
        "alerts: 41 firing (20 BREACH, 21 WARN), 20 pending (20 WARN)",
        "silences: 0 active; outbox: 0 waiting, 0 given up",
    ]

    everything = tw("status", "-c", many, "--limit", "0")
    warn_now = [("firing", "WARN", "score.warn-now", f"district=D{i:02d}") for i in range(1, 22)]
    warn_slow = [("pending", "WARN", "score.warn-slow", f"district=D{i:02d}") for i in range(1, 21)]
    assert rows(everything) == breach + warn_now + warn_slow  # no OK alert: D22-D24, nor D21's
    assert not any("more" in line for line in everything.stdout.splitlines())
    assert everything.stdout.splitlines()[-2] == "alerts: 41 firing (20 BREACH, 21 WARN), 20 pending (20 WARN)"

    three = tw("status", "-c", many, "--limit", "3")
    assert rows(three) == breach[:3]
    assert "… and 58 more: --limit N lists N, --limit 0 all" in three.stdout.splitlines()
    assert rows(tw("status", "-c", many, "--limit", "61")) == rows(everything)
    assert tw("status", "-c", many, "--limit", "-1").exit_code == 3  # a usage error


def test_status_json_lists_every_alert_unless_limited(tw: Invoke, many: Path) -> None:
    doc = json.loads(tw("status", "-c", many, "--format", "json").stdout)
    assert set(doc) == {"alerts", "more", "silences", "outbox"} and doc["more"] == 0
    assert [(a["state"], a["status"], a["rule"], a["labels"]["district"]) for a in doc["alerts"]] == (
        [("firing", "BREACH", "score.breach", f"D{i:02d}") for i in range(1, 21)]
        + [("firing", "WARN", "score.warn-now", f"D{i:02d}") for i in range(1, 22)]
        + [("pending", "WARN", "score.warn-slow", f"D{i:02d}") for i in range(1, 21)]
    )
    first = doc["alerts"][0]
    assert first["since"] == first["fired_at"] and dt.datetime.fromisoformat(first["since"]).utcoffset() == dt.timedelta(0)
    assert first["message"] and doc["alerts"][-1]["fired_at"] is None

    limited = json.loads(tw("status", "-c", many, "--format", "json", "--limit", "2").stdout)
    assert limited["alerts"] == doc["alerts"][:2] and limited["more"] == 59
    assert limited["silences"] == doc["silences"] == 0 and limited["outbox"] == doc["outbox"]


def test_status_json_is_what_json_dumps_writes(tw: Invoke, many: Path) -> None:
    """The alerts are written piece by piece, yet the document is json.dumps's, indented by 2."""
    for args in ((), ("--limit", "1"), ("--limit", "0")):
        text = tw("status", "-c", many, "--format", "json", *args).stdout
        assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n"


texts = st.text(alphabet=st.sampled_from('ab "\\\n\x1f\u00e9\u7530/'), max_size=5)
open_alerts = st.builds(
    OpenAlert, rule=texts, series=texts, status=st.sampled_from(list(Status)), firing=st.booleans(),
    since=st.sampled_from([dt.datetime(2024, 3, 1, 8, tzinfo=dt.UTC), dt.datetime(2024, 3, 1, 16, 0, 0, 5, tzinfo=TZ)]),
    fired_at=st.none() | st.just(dt.datetime(2024, 3, 2, tzinfo=TZ)),
    labels=st.one_of(st.dictionaries(texts, texts, max_size=3), st.dictionaries(texts, st.integers() | st.lists(texts), max_size=2)).map(
        lambda d: json.dumps(d, ensure_ascii=False)
    ),
    message=st.none() | texts,
)


@settings(max_examples=200, deadline=None)
@given(alerts=st.lists(open_alerts, max_size=5), more=st.none() | st.integers(0, 9), chunk=st.integers(1, 3))
def test_status_json_pieces_are_json_dumps_whatever_the_alerts_hold(alerts: list[OpenAlert], more: int | None, chunk: int) -> None:
    rest: dict[str, object] = {"silences": 1, "outbox": {"pending": 0, "dead": 2}}
    if more is not None:
        rest["more"] = more
    doc = {"alerts": [{"rule": a.rule, "labels": json.loads(a.labels), "status": a.status.value, "state": "firing" if a.firing else "pending",
                       "since": a.since.astimezone(dt.UTC).isoformat(), "fired_at": a.fired_at and a.fired_at.astimezone(dt.UTC).isoformat(),
                       "message": a.message} for a in alerts], **rest}
    assert "".join(cli_state._json_pieces(alerts, rest, chunk)) == json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def test_status_after_alerts_resolve_lists_none_of_them(tw: Invoke, make_project: MakeProject) -> None:
    config = make_project({"a.toml": MANY_RULES}, csv=MANY_CSV, extra=FILE_CHANNEL)
    assert tw("check", "-c", config, "--now", at()).exit_code == 2
    (config.parent / "data.csv").write_text(MANY_CSV.replace(",80\n", ",99\n").replace(",96\n", ",99\n"), encoding="utf-8")
    assert tw("check", "-c", config, "--now", at(hours=1)).exit_code == 0
    result = tw("status", "-c", config)
    assert result.stdout.startswith("no alerts: every target was OK at the last check\n")
    assert json.loads(tw("status", "-c", config, "--format", "json").stdout)["alerts"] == []


def test_outbox_empty_message(tw: Invoke, project: Path) -> None:
    empty = tw("outbox", "-c", project)
    assert empty.exit_code == 0 and empty.stdout == "the outbox is empty: everything was delivered\n"
    assert tw("check", "-c", project, "--now", at()).exit_code == 2
    assert tw("outbox", "-c", project).stdout == "the outbox is empty: everything was delivered\n"
    sent = json.loads(tw("outbox", "-c", project, "--sent", "--format", "json").stdout)
    assert [(r["channel"], r["state"]) for r in sent] == [("log", "sent")]
    retry = tw("outbox", "-c", project, "--retry")
    assert retry.exit_code == 0 and retry.stdout.startswith("0 messages queued again\n")


def test_verbose_logs_what_was_delivered(tw: Invoke, project: Path) -> None:
    quiet = tw("check", "-c", project, "--now", at())
    assert quiet.exit_code == 2 and "delivered" not in quiet.stderr
    loud = tw("-v", "check", "-c", project, "--now", at(days=2))  # the daily repeat
    assert loud.exit_code == 2
    [line] = [line for line in loud.stderr.splitlines() if "delivered" in line]
    assert line.startswith("targetwatch: INFO: targetwatch.alerting: delivered ") and line.endswith(" to log")
    debug = tw("--log-level", "info", "check", "-c", project, "--now", at(days=4))
    assert "delivered" in debug.stderr


# -- secrets ----------------------------------------------------------------------------------

SECRET = "hmac-Key-9f8e7d6c5b4a"
TOKEN = "tok-0123456789abcdefXYZ"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiving()


def test_no_secret_appears_in_any_output_even_when_delivery_fails(
    tw: Invoke, make_project: MakeProject, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    monkeypatch.setenv("HOOK_TOKEN", TOKEN)
    extra = f"""\
[alerting]
notify = ["hook", "refused"]
retry_after = "1min"

[channels.hook]
type = "webhook"
url = "http://127.0.0.1:{receiver.port}/hook?token=${{HOOK_TOKEN}}"
secret = "${{HOOK_SECRET}}"
timeout = "5s"

[channels.refused]
type = "webhook"
url = "http://127.0.0.1:{closed_port()}/send/${{HOOK_TOKEN}}?access_token=${{HOOK_TOKEN}}"
secret = "${{HOOK_SECRET}}"
timeout = "5s"
"""
    config = make_project(RULES_BREACH, extra=extra)
    receiver.down(503)  # and its reply echoes the request line, token included
    outputs: list[Result] = [
        tw("-vv", "check", "-c", config, "--now", at()),
        tw("-v", "check", "-c", config, "--now", at(minutes=2), "--format", "json"),
        tw("outbox", "-c", config),
        tw("outbox", "-c", config, "--format", "json"),
        tw("status", "-c", config, "--format", "json"),
        tw("status", "-c", config),
    ]
    assert outputs[0].exit_code == 2 and outputs[1].exit_code == 2
    rows = json.loads(outputs[3].stdout)
    assert {r["channel"] for r in rows} == {"hook", "refused"}
    assert all(r["last_error"] for r in rows)  # the failures are described...
    assert "HTTP 503" in next(r["last_error"] for r in rows if r["channel"] == "hook")
    assert TOKEN in receiver.requests[0].path  # ...and the receiver did echo the token back

    receiver.up()
    outputs.append(tw("-v", "check", "-c", config, "--now", at(minutes=5)))
    outputs.append(tw("outbox", "-c", config, "--sent", "--format", "json"))
    delivered = receiver.accepted()[-1]
    assert delivered.headers["x-targetwatch-signature"] == sign(SECRET, delivered.body)  # the secret was used

    for result in outputs:
        text = result.stdout + result.stderr
        assert SECRET not in text and TOKEN not in text, text
    for path in (config.parent / ".targetwatch").iterdir():
        data = path.read_bytes()
        assert SECRET.encode() not in data and TOKEN.encode() not in data, path
