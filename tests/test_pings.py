"""Dead-man's-switch pings: start, then success (exit 0-2) or fail (exit 3, or a run that
breaks), requested on a real local server; a ping that is refused, times out or answers an
error is logged and never changes the check's exit status."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from conftest import RULES_BREACH, RULES_OK, RULES_UNKNOWN, RULES_WARN, MakeProject
from httpkit import Receiver, closed_port, receiving

from targetwatch.cli import cli
from targetwatch.pings import ping
from targetwatch.plugins import Registry

Invoke = Callable[..., Result]
NOW = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0).isoformat()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiving(hang_for=5.0)


@pytest.fixture
def tw(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.delenv("TARGETWATCH_CONFIG", raising=False)
    return lambda *args: CliRunner().invoke(cli, [str(a) for a in args], obj=registry)


def pinged(make_project: MakeProject, rules: str, *, start: str, success: str, fail: str, timeout: str = "5s", extra: str = "") -> Path:
    return make_project(rules, extra=f"""\
[pings]
start = "{start}"
success = "{success}"
fail = "{fail}"
timeout = "{timeout}"
{extra}""")


def urls(receiver: Receiver) -> dict[str, str]:
    return {name: f"{receiver.url}{name}" for name in ("start", "success", "fail")}


@pytest.mark.parametrize(("rules", "code", "last"), [(RULES_OK, 0, "/success"), (RULES_WARN, 1, "/success"), (RULES_BREACH, 2, "/success"), (RULES_UNKNOWN, 3, "/fail")])
def test_start_then_success_or_fail_in_order(tw: Invoke, make_project: MakeProject, receiver: Receiver, rules: str, code: int, last: str) -> None:
    config = pinged(make_project, rules, **urls(receiver))
    result = tw("check", "-c", config, "--now", NOW)
    assert result.exit_code == code, result.stderr
    assert receiver.paths() == ["/start", last]
    start, end = receiver.requests
    assert start.method == "GET" and start.body == b""
    assert end.method == "POST" and end.text.startswith(f"exit {code}: ")
    assert start.headers["user-agent"].startswith("targetwatch/")


def test_a_run_that_breaks_pings_fail(tw: Invoke, make_project: MakeProject, receiver: Receiver) -> None:
    config = pinged(make_project, RULES_BREACH, **urls(receiver), extra='[state]\npath = "state-is-a-folder"\n')
    (config.parent / "state-is-a-folder").mkdir()
    result = tw("check", "-c", config, "--now", NOW)
    assert result.exit_code == 3
    assert "state file" in result.stderr
    assert receiver.paths() == ["/start", "/fail"]
    assert receiver.requests[1].text == "targetwatch check failed"


def test_a_dry_run_pings_nothing(tw: Invoke, make_project: MakeProject, receiver: Receiver) -> None:
    config = pinged(make_project, RULES_BREACH, **urls(receiver))
    assert tw("check", "-c", config, "--dry-run").exit_code == 2
    assert receiver.requests == []


def test_a_refused_ping_never_changes_the_exit_status(tw: Invoke, make_project: MakeProject) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/"
    for rules, code in ((RULES_BREACH, 2), (RULES_OK, 0), (RULES_UNKNOWN, 3)):
        config = pinged(make_project, rules, start=dead + "start", success=dead + "ok", fail=dead + "fail")
        result = tw("check", "-c", config, "--now", NOW)
        assert result.exit_code == code, result.stderr
        assert "ping failed" in result.stderr and "Traceback" not in result.stderr


def test_a_ping_that_times_out_never_changes_the_exit_status(tw: Invoke, make_project: MakeProject, receiver: Receiver) -> None:
    receiver.queue("hang", path="/start")
    config = pinged(make_project, RULES_BREACH, **urls(receiver), timeout="1s")
    started = time.monotonic()
    result = tw("check", "-c", config, "--now", NOW)
    elapsed = time.monotonic() - started
    assert result.exit_code == 2, result.stderr
    assert 0.9 < elapsed < 5
    assert "ping failed" in result.stderr and "timed out" in result.stderr
    assert receiver.paths() == ["/start", "/success"]  # the run went on after giving up


def test_a_ping_answered_with_an_error_never_changes_the_exit_status(tw: Invoke, make_project: MakeProject, receiver: Receiver) -> None:
    receiver.queue(500, path="/start")
    receiver.queue("close", path="/success")
    config = pinged(make_project, RULES_WARN, **urls(receiver))
    result = tw("check", "-c", config, "--now", NOW)
    assert result.exit_code == 1, result.stderr
    assert receiver.paths() == ["/start", "/success"]
    assert result.stderr.count("ping failed") == 2


def test_ping_function(receiver: Receiver) -> None:
    assert ping(None, timeout=1) is False
    assert ping("", timeout=1) is False
    assert ping(receiver.url + "a", timeout=5) is True
    assert ping(receiver.url + "b", timeout=5, body="exit 0: 1 OK") is True
    receiver.queue(404)
    assert ping(receiver.url + "c", timeout=5) is False
    assert ping(f"http://127.0.0.1:{closed_port()}/", timeout=1) is False
    assert ping("not a url", timeout=1) is False
    assert [(r.method, r.path, r.body) for r in receiver.requests] == [
        ("GET", "/a", b""), ("POST", "/b", b"exit 0: 1 OK"), ("GET", "/c", b""),
    ]


def test_a_malformed_ping_url_never_changes_the_exit_status(tw: Invoke, make_project: MakeProject) -> None:
    """A URL without a scheme (a typo in the config) was a ValueError outside the ping's
    error handling: the run exited 3 ("internal error") instead of its verdict status."""
    secret = "hc-ping.com/5f0e3c9a-uuid-of-this-check"
    config = pinged(make_project, RULES_BREACH, start=secret + "/start", success=secret, fail=secret + "/fail")
    result = tw("check", "-c", config, "--now", NOW)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("ping failed") == 2 and "internal error" not in result.stderr
    assert secret not in result.stderr  # the URL is the check's secret: never logged
