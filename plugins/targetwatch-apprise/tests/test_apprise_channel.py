"""The ``apprise`` channel against a real HTTP receiver on 127.0.0.1 (Apprise's ``json://``),
and end to end through targetwatch's outbox."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import targetwatch_apprise
from click.testing import CliRunner, Result
from httpkit import Receiver, closed_port
from hypothesis import given
from hypothesis import strategies as st
from targetwatch_apprise import AppriseChannel, AppriseParams, _secrets_of, notify_type, with_header

from targetwatch.alerts import Message
from targetwatch.cli import cli
from targetwatch.errors import ConfigError
from targetwatch.notify import ChannelContext, DeliveryError, Notifier, attempt
from targetwatch.params import ParseContext, parse
from targetwatch.plugins import Registry, provided_by
from targetwatch.secrets import redact
from targetwatch.testing import make_registry

SUBJECT = "目标告警：1 个目标未达标 (1 BREACH)"
TEXT = "民办学校占比 4.95% 高于上限 4.89%\n田家庵区 2023-autumn \"quoted\" {braces}"
USER, PASSWORD, TOKEN, PATH_TOKEN = "bot", "pa55-w0rd!", "s3cr3t-t0ken-xyz", "hookpathsecret123"


def message(key: str = "feedc0de" * 4, status: str = "BREACH", kind: str = "firing") -> Message:
    when = dt.datetime(2023, 10, 16, tzinfo=ZoneInfo("Asia/Shanghai"))
    events = ({"kind": kind, "rule": "schools.private-share-cap", "status": status, "labels": {"district": "田家庵区"}},)
    return Message("chat", key, SUBJECT, TEXT, events, 0, when, when)


def params(**raw: Any) -> AppriseParams:
    parsed, problems = parse(AppriseParams, raw, ParseContext(), ("channels", "chat"))
    assert not problems, [str(p) for p in problems]
    assert parsed is not None
    return parsed


def problems(**raw: Any) -> list[str]:
    return [str(p) for p in parse(AppriseParams, raw, ParseContext(), ("channels", "chat"))[1]]


def channel(tmp_path: Path, **raw: Any) -> Notifier:
    return AppriseChannel().open(params(**raw), ChannelContext("chat", tmp_path))


def hook(rx: Receiver, path: str = "/hook") -> str:
    return f"json://127.0.0.1:{rx.port}{path}"


# -- packaging -------------------------------------------------------------------------------


def test_plugin_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGETWATCH_PLUGINS", "apprise")
    registry = Registry()
    assert isinstance(registry.notifiers["apprise"], AppriseChannel)
    info = next(p for p in registry.plugins() if p.name == "apprise")
    assert info.origin == "package targetwatch-apprise" and info.version == "0.1.0"


def test_importing_the_plugin_does_not_import_apprise() -> None:
    import subprocess
    import sys

    code = "import sys, targetwatch_apprise; print('apprise' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip() == "False", done.stderr


def test_registered_through_the_hook() -> None:
    registry = make_registry(targetwatch_apprise)
    assert provided_by(registry, "notifier", "apprise") == "targetwatch_apprise"


# -- delivering ------------------------------------------------------------------------------


def test_delivers_title_and_body_with_the_idempotency_key(tmp_path: Path, receiver: Receiver) -> None:
    notifier = channel(tmp_path, urls=[hook(receiver)])
    notifier.deliver(message())
    [got] = receiver.requests
    assert (got.method, got.path) == ("POST", "/hook")
    body = got.json()
    assert body["title"] == SUBJECT and body["message"] == TEXT  # Chinese, quotes, braces intact
    assert body["type"] == "failure"
    assert got.headers["idempotency-key"] == "feedc0de" * 4
    assert got.headers["user-agent"] == "targetwatch"


def test_the_same_message_carries_the_same_key_every_time(tmp_path: Path, receiver: Receiver) -> None:
    notifier = channel(tmp_path, urls=[hook(receiver)])
    notifier.deliver(message("k1" * 16))
    notifier.deliver(message("k1" * 16))
    notifier.deliver(message("k2" * 16))
    assert [r.key for r in receiver.requests] == ["k1" * 16, "k1" * 16, "k2" * 16]


def test_a_500_is_a_retryable_error_and_apprise_does_not_retry(tmp_path: Path, receiver: Receiver) -> None:
    receiver.queue(500)
    notifier = channel(tmp_path, urls=[hook(receiver) + "?retry=3"])
    with pytest.raises(DeliveryError) as raised:
        notifier.deliver(message())
    assert raised.value.retryable is True
    assert len(receiver.requests) == 1  # Apprise's own retry stays off: the outbox retries
    text = str(raised.value)
    assert f"apprise json://127.0.0.1:{receiver.port}/hook" in text and "500" in text
    notifier.deliver(message())  # the outbox's next try
    assert receiver.accepted_keys() == {"feedc0de" * 4: 1}


def test_errors_and_logs_never_show_the_urls_secrets(tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    url = f"json://{USER}:{PASSWORD}@127.0.0.1:{receiver.port}/{PATH_TOKEN}?+X-Api-Key=Bearer%20{TOKEN}&+X-Sig={TOKEN}2"
    receiver.queue(500)  # httpkit echoes the request line in its answer, as gateways do
    notifier = channel(tmp_path, urls=[url])
    with caplog.at_level(logging.DEBUG, logger="apprise"), pytest.raises(DeliveryError) as raised:
        notifier.deliver(message())
    shown = [str(raised.value), repr(notifier), repr(params(urls=[url])), *(r.getMessage() for r in caplog.records)]
    assert any("Response Details" in line or "JSON" in line for line in shown[3:])  # Apprise did log
    for text in shown:
        for secret in (PASSWORD, TOKEN, PATH_TOKEN, "pa55-w0rd%21"):
            assert secret not in text, text
    assert receiver.requests[0].headers["x-api-key"] == f"Bearer {TOKEN}"  # yet it was sent
    assert f"127.0.0.1:{receiver.port}" in str(raised.value)


tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$*+,;=:@ ", min_size=8, max_size=40).filter(lambda t: t.strip() == t and "  " not in t)
alnum = st.text(alphabet="abcdef0123456789", min_size=8, max_size=64)


def _scrubbed(url: str, secrets: tuple[str, ...]) -> str:
    """A text quoting ``url`` whole and its secret parts raw and percent-encoded, as libraries
    do, with what the channel would hide for ``url`` removed."""
    from urllib.parse import quote, quote_plus

    import apprise

    service = apprise.Apprise.instantiate(url)
    assert service is not None, url
    untyped: Any = service
    hidden = _secrets_of(url, untyped.url(privacy=True))
    text = " | ".join([url, *secrets, *(quote(s, safe="") for s in secrets), *(quote_plus(s) for s in secrets)])
    return redact(text, hidden)


@given(tokens, tokens, tokens)
def test_no_secret_part_of_a_json_url_survives(password: str, path: str, header: str) -> None:
    from urllib.parse import quote

    url = f"json://bot:{quote(password, safe='')}@example.org/{quote(path, safe='')}?+X-Key={quote(header, safe='')}"
    scrubbed = _scrubbed(url, (password, path, header))
    for secret in (password, path, header):
        assert secret not in scrubbed and quote(secret, safe="") not in scrubbed
    assert "example.org" in scrubbed  # a host name is no secret


@given(alnum, alnum)
def test_a_token_in_the_host_place_does_not_survive(token: str, secret: str) -> None:
    scrubbed = _scrubbed(f"dingtalk://{token}/?secret={secret}", (token, secret))
    assert token not in scrubbed and secret not in scrubbed


def test_every_url_is_tried_and_only_the_failing_ones_are_named(tmp_path: Path, receiver: Receiver) -> None:
    receiver.queue(503, path="/b")
    notifier = channel(tmp_path, urls=[hook(receiver, "/a"), hook(receiver, "/b"), hook(receiver, "/c")])
    with pytest.raises(DeliveryError) as raised:
        notifier.deliver(message())
    assert sorted(receiver.paths()) == ["/a", "/b", "/c"]
    assert "/b" in str(raised.value) and "/a" not in str(raised.value) and "/c" not in str(raised.value)


def test_a_refused_connection_is_retryable(tmp_path: Path) -> None:
    notifier = channel(tmp_path, urls=[f"json://127.0.0.1:{closed_port()}/hook"])
    error = attempt(notifier, message(), channel="chat")
    assert error is not None and error.retryable and str(error).startswith("channel 'chat': apprise json://127.0.0.1:")


def test_a_silent_receiver_times_out_within_timeout(tmp_path: Path) -> None:
    with Receiver(default="hang", hang_for=5) as rx:
        notifier = channel(tmp_path, urls=[hook(rx)], timeout=0.5)
        started = time.monotonic()
        with pytest.raises(DeliveryError) as raised:
            notifier.deliver(message())
        assert time.monotonic() - started < 4
    assert raised.value.retryable


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_formats_reach_the_receiver(tmp_path: Path, receiver: Receiver, fmt: str) -> None:
    channel(tmp_path, urls=[hook(receiver)], format=fmt).deliver(message())
    assert "民办学校占比" in receiver.requests[0].json()["message"]


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [("BREACH", "firing", "failure"), ("ERROR", "changed", "failure"), ("WARN", "firing", "warning"),
     ("UNKNOWN", "repeat", "warning"), ("OK", "resolved", "success"), ("OK", "changed", "info")],
)
def test_notification_type_follows_the_message(status: str, kind: str, expected: str) -> None:
    assert notify_type(message(status=status, kind=kind)) == expected


def test_with_header_appends_to_the_query() -> None:
    assert with_header("json://h/p", "Idempotency-Key", "k") == "json://h/p?+Idempotency-Key=k"
    assert with_header("json://h/p?a=1#x", "Idempotency-Key", "k") == "json://h/p?a=1&+Idempotency-Key=k#x"


def test_other_services_get_no_header(tmp_path: Path, receiver: Receiver) -> None:
    # A gotify:// URL is plain HTTP as well, but Apprise gives it no custom headers.
    notifier = channel(tmp_path, urls=[f"gotify://127.0.0.1:{receiver.port}/{PATH_TOKEN}"])
    notifier.deliver(message())
    [got] = receiver.requests
    assert "idempotency-key" not in got.headers and got.json()["title"] == SUBJECT


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"urls": ["dingtlk://abc"]}, "channels.chat.urls: item 1: unknown Apprise service 'dingtlk://' (did you mean 'dingtalk'?)"),
        ({"urls": ["json://h", "dingtalk://"]}, "item 2: Apprise cannot use this dingtalk:// URL"),
        ({"urls": [f"dingtalk://{TOKEN}/"]}, "Apprise says: An invalid DingTalk API Token (***) was specified."),
        ({"urls": [f"no scheme {TOKEN}"]}, "expected an Apprise URL such as"),
        ({"urls": [f"json://h/p?+Idempotency-Key={TOKEN}"]}, "the Idempotency-Key header is set by targetwatch"),
        ({"urls": []}, "expected at least one Apprise URL"),
        ({}, "give either 'urls' or 'urls_file'"),
        ({"urls": ["json://h"], "urls_file": "u.txt"}, "give either 'urls' or 'urls_file'"),
        ({"urls": ["json://h"], "format": "md"}, "channels.chat.format: expected one of 'text', 'markdown', 'html'"),
        ({"urls": ["json://h"], "timeout": 0}, "channels.chat.timeout: expected a number of seconds"),
    ],
)
def test_config_problems_are_named_without_secrets(raw: dict[str, Any], expected: str) -> None:
    found = problems(**raw)
    assert len(found) == 1 and expected in found[0], found
    assert TOKEN not in found[0]


def test_a_single_url_may_be_given_as_a_string() -> None:
    assert params(urls="json://127.0.0.1/hook").urls == ("json://127.0.0.1/hook",)


def test_urls_file(tmp_path: Path, receiver: Receiver) -> None:
    (tmp_path / "urls").write_text(f"# the bureau's bot\n\n{hook(receiver, '/one')}\n  {hook(receiver, '/two')}  \n", encoding="utf-8")
    channel(tmp_path, urls_file="urls").deliver(message())
    assert sorted(receiver.paths()) == ["/one", "/two"]


def test_a_bad_urls_file_is_named_never_shown(tmp_path: Path) -> None:
    (tmp_path / "urls").write_text(f"json://127.0.0.1/ok\ndingtalk://\nnosuch://{TOKEN}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        channel(tmp_path, urls_file="urls")
    found = [str(p) for p in raised.value.problems]
    assert len(found) == 2
    assert found[0].startswith("channels.chat.urls_file: line 2 of 'urls': Apprise cannot use this dingtalk:// URL")
    assert "line 3 of 'urls': unknown Apprise service 'nosuch://'" in found[1]
    assert TOKEN not in str(raised.value)
    with pytest.raises(ConfigError, match="channels.chat.urls_file: cannot read the secret file"):
        channel(tmp_path, urls_file="missing")
    (tmp_path / "comments").write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'comments' holds no Apprise URL"):
        channel(tmp_path, urls_file="comments")


# -- end to end, through the outbox ------------------------------------------------------------

DATA = "indicator,period,district,value\nscore,2023-Q1,A,80\nscore,2023-Q2,A,90\n"
BREACH_RULE = '[[rule]]\nid = "score.breach"\ntitle = "得分 ≥ 95"\nkind = "threshold"\nindicator = "score"\nmin = 95\n'
CONFIG = """\
rules = ["rules"]
timezone = "Asia/Shanghai"
as_of = "2023-07-15"

[[sources]]
name = "main"
type = "csv"
path = "data.csv"

[indicators.score]
title = "得分"

[alerting]
notify = ["chat"]
retry_after = "1min"

[channels.chat]
type = "apprise"
urls = ["{url}"]
timeout = "5s"
"""
BASE = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)


def project(tmp_path: Path, url: str) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "main.toml").write_text(BREACH_RULE, encoding="utf-8")
    (tmp_path / "data.csv").write_text(DATA, encoding="utf-8")
    config = tmp_path / "targetwatch.toml"
    config.write_text(CONFIG.replace("{url}", url), encoding="utf-8")
    return config


def run(config: Path, *args: str, minutes: int = 0) -> Result:
    now = (BASE + dt.timedelta(minutes=minutes)).isoformat()
    registry = make_registry(targetwatch_apprise)
    return CliRunner().invoke(cli, [*args[:1], "-c", str(config), *args[1:], *(["--now", now] if args[0] == "check" else [])], obj=registry)


def test_targetwatch_check_delivers_once(tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TW_HOOK_PATH", "hook")  # substituted before the URL is checked
    config = project(tmp_path, f"json://127.0.0.1:{receiver.port}/${{TW_HOOK_PATH}}")
    first = run(config, "check")
    assert first.exit_code == 2, first.output
    [got] = receiver.requests
    assert got.accepted and got.key
    body = got.json()
    assert body["title"] == "1 BREACH: 得分 ≥ 95"
    assert "[BREACH] 得分 ≥ 95 [district=A]\n    score 90 for 2023-Q2 is not at least 95" in body["message"]
    assert body["type"] == "failure"
    assert first.stderr == ""  # delivered: nothing to report
    again = run(config, "check", minutes=5)
    assert again.exit_code == 2 and len(receiver.requests) == 1  # nothing new to say


def test_receiver_down_then_up_is_delivered_once_per_key(tmp_path: Path) -> None:
    port = closed_port()
    config = project(tmp_path, f"json://127.0.0.1:{port}/hook")
    down = run(config, "check")
    assert down.exit_code == 2  # the verdict's status, whatever the channel does
    assert "delivery to chat failed" in down.stderr and "apprise json://127.0.0.1:" in down.stderr
    listed = run(config, "outbox", "--format", "json")
    [row] = json.loads(listed.stdout)
    assert row["state"] == "pending" and row["attempts"] == 1 and row["channel"] == "chat"

    with Receiver() as rx:
        # The receiver comes up on the port the config names.
        config.write_text(config.read_text(encoding="utf-8").replace(f":{port}/", f":{rx.port}/"), encoding="utf-8")
        run(config, "check", minutes=2)
        assert rx.accepted_keys() == {row["key"]: 1}
        run(config, "check", minutes=30)
        assert rx.accepted_keys() == {row["key"]: 1}
    assert json.loads(run(config, "outbox", "--format", "json").stdout) == []


def test_receiver_answering_503_then_200(tmp_path: Path, receiver: Receiver) -> None:
    config = project(tmp_path, hook(receiver))
    receiver.down(503)
    run(config, "check")
    run(config, "check", minutes=2)
    assert len(receiver.requests) == 2 and not receiver.accepted()
    key = receiver.requests[0].key
    assert key and {r.key for r in receiver.requests} == {key}
    receiver.up()
    run(config, "check", minutes=10)
    run(config, "check", minutes=60)
    assert receiver.accepted_keys() == {key: 1}


def test_validate_names_a_bad_url_without_showing_it(tmp_path: Path) -> None:
    config = project(tmp_path, f"dingtalk:/{TOKEN}")
    result = run(config, "validate")
    assert result.exit_code == 3
    assert "channels.chat.urls: " in result.stderr and "item 1" in result.stderr
    assert TOKEN not in result.output + result.stderr
