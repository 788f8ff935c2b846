"""The ``webhook`` channel against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest

from targetwatch import __version__
from targetwatch.alerts import Message
from targetwatch.default_plugins.webhook_channel import WebhookChannel, WebhookParams, render_body
from targetwatch.errors import ConfigError
from targetwatch.notify import ChannelContext, DeliveryError, Notifier
from targetwatch.params import ParseContext, parse
from targetwatch.plugins import Registry

SECRET = "hmac-key/中文+&="
TOKEN = "tok3n-abc123xyz"
DINGTALK = '{"msgtype": "text", "text": {"content": "{text}"}, "at": {"isAtAll": false}}'


def make_message(key: str = "feedc0de" * 4, text: str = '教育支出下降 "3.2%"\n{subject} \\ 未达标') -> Message:
    created = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    events = ({"rule": "edu.growth", "status": "BREACH", "labels": {"district": "田家庵区"}, "value": "-0.032"},)
    return Message("hook", key, "目标告警：{text}", text, events, 4, created, created)


@attrs.define
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@attrs.define
class Receiver:
    """What the test server answers and what it got."""

    port: int
    status: int = 200
    reply: bytes = b'{"ok": true}'
    extra_headers: dict[str, str] = attrs.Factory(dict)
    delay: float = 0.0
    requests: list[Received] = attrs.Factory(list)
    release: threading.Event = attrs.Factory(threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/abc?access_token={TOKEN}"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib honours proxy variables; keep test traffic on the loopback interface."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.requests.append(Received(self.command, self.path, dict(self.headers.items()), body))
            if state.delay:
                state.release.wait(state.delay)
            self.send_response(state.status)
            for name, value in state.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(state.reply)))
            self.end_headers()
            self.wfile.write(state.reply)

        do_POST = do_PUT = do_GET = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def open_channel(tmp_path: Path, url: str, **raw: Any) -> Notifier:
    params, problems = parse(WebhookParams, {"url": url, **raw}, ParseContext(file="targetwatch.toml"), ("channels", "hook"))
    assert problems == [], problems
    assert params is not None
    return WebhookChannel().open(params, ChannelContext("hook", tmp_path))


def test_registered_as_builtin() -> None:
    assert isinstance(Registry(entry_points=False).notifiers["webhook"], WebhookChannel)


def test_default_body_headers_and_signature(tmp_path: Path, receiver: Receiver) -> None:
    notifier = open_channel(tmp_path, receiver.url, secret=SECRET, headers={"Authorization": f"Bearer {TOKEN}"})
    message = make_message()
    notifier.deliver(message)
    notifier.deliver(message)  # a repeat: same body, same key

    first, second = receiver.requests
    assert first.method == "POST" and first.path == f"/hooks/abc?access_token={TOKEN}"
    assert json.loads(first.body) == message.as_dict()
    assert "田家庵区".encode() in first.body  # ensure_ascii=False
    assert first.headers["Content-Type"] == "application/json; charset=utf-8"
    assert first.headers["Idempotency-Key"] == message.key == second.headers["Idempotency-Key"]
    assert first.headers["User-Agent"] == f"targetwatch/{__version__}"
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    expected = "sha256=" + hmac.new(SECRET.encode(), first.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(first.headers["X-Targetwatch-Signature"], expected)
    assert second.body == first.body and second.headers["X-Targetwatch-Signature"] == expected


def test_no_signature_without_secret_and_secret_file(tmp_path: Path, receiver: Receiver) -> None:
    open_channel(tmp_path, receiver.url, method="PUT").deliver(make_message())
    assert receiver.requests[0].method == "PUT"
    assert "X-Targetwatch-Signature" not in receiver.requests[0].headers
    (tmp_path / "hook.key").write_text(SECRET + "\n", encoding="utf-8")
    open_channel(tmp_path, receiver.url, secret_file="hook.key").deliver(make_message())
    got = receiver.requests[1]
    assert got.headers["X-Targetwatch-Signature"] == "sha256=" + hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()


def test_headers_may_replace_content_type_but_not_the_key(tmp_path: Path, receiver: Receiver) -> None:
    open_channel(tmp_path, receiver.url, headers={"content-type": "application/json"}).deliver(make_message())
    assert receiver.requests[0].headers["Content-Type"] == "application/json"
    _, problems = parse(WebhookParams, {"url": receiver.url, "headers": {"Idempotency-Key": "x", "Bad Name": "y", "X-A": "1\r\nX-B: 2"}}, ParseContext())
    text = "\n".join(str(p) for p in problems)
    assert "'Idempotency-Key' is set by targetwatch" in text
    assert "'Bad Name' is not a valid header name" in text
    assert "'X-A' contains a line break" in text


def test_template_escapes_data_and_never_reads_it_as_template(tmp_path: Path, receiver: Receiver) -> None:
    message = make_message()
    open_channel(tmp_path, receiver.url, body=DINGTALK).deliver(message)
    body = json.loads(receiver.requests[0].body)
    assert body == {"msgtype": "text", "text": {"content": message.text}, "at": {"isAtAll": False}}
    assert "{subject}" in body["text"]["content"]  # data with braces stays data


def test_template_all_placeholders() -> None:
    template = (
        '{"s": "{subject}", "t": "{text}", "k": "{key}", "c": "{channel}", "n": {count}, '
        '"o": {omitted}, "a": "{as_of}", "r": "{created_at}", "e": {events}}'
    )
    message = make_message()
    assert json.loads(render_body(template, message)) == {
        "s": message.subject, "t": message.text, "k": message.key, "c": "hook", "n": 1, "o": 4,
        "a": "2024-03-01T09:00:00+08:00", "r": "2024-03-01T09:00:00+08:00", "e": [dict(message.events[0])],
    }


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{"content": "{txt}"}', "unknown placeholder {txt}"),
        ('{"content": {text}}', "not JSON once filled in"),
        ('{"content": "{text}"', "not JSON once filled in"),
    ],
)
def test_bad_templates_are_config_errors(tmp_path: Path, template: str, expected: str) -> None:
    _, problems = parse(WebhookParams, {"url": "https://example.com/x", "body": template}, ParseContext(file="t.toml"), ("channels", "hook"))
    assert len(problems) == 1 and expected in str(problems[0]) and "channels.hook.body" in str(problems[0])
    bypassed = WebhookParams(url="https://example.com/x", body=template)  # built in code, not parsed
    with pytest.raises(ConfigError, match=expected):
        WebhookChannel().open(bypassed, ChannelContext("hook", tmp_path))


def test_url_must_be_http() -> None:
    _, problems = parse(WebhookParams, {"url": f"ftp://example.com/?token={TOKEN}"}, ParseContext())
    assert "http:// or https://" in str(problems[0]) and TOKEN not in str(problems[0])


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (429, True), (408, True), (400, False), (401, False), (404, False)])
def test_status_codes(tmp_path: Path, receiver: Receiver, status: int, retryable: bool) -> None:
    receiver.status = status
    receiver.reply = f'{{"error": "bad token {TOKEN}"}}'.encode()
    notifier = open_channel(tmp_path, receiver.url, secret=SECRET, headers={"Authorization": f"Bearer {TOKEN}"})
    with pytest.raises(DeliveryError) as info:
        notifier.deliver(make_message())
    error = info.value
    assert error.retryable is retryable
    text = str(error)
    assert text.startswith(f"POST http://127.0.0.1:{receiver.port}: HTTP {status}")
    assert "bad token ***" in text  # the reply is shown, the token echoed in it is not
    for hidden in (TOKEN, SECRET, "/hooks/abc", "access_token"):
        assert hidden not in text and hidden not in repr(notifier)


def test_redirect_is_not_followed(tmp_path: Path, receiver: Receiver) -> None:
    receiver.status = 302
    receiver.extra_headers = {"Location": "http://elsewhere.invalid/steal"}
    with pytest.raises(DeliveryError, match=r"redirected to http://elsewhere.invalid; redirects are not followed") as info:
        open_channel(tmp_path, receiver.url).deliver(make_message())
    assert not info.value.retryable
    assert len(receiver.requests) == 1


def test_timeout_is_retryable(tmp_path: Path, receiver: Receiver) -> None:
    receiver.delay = 3.0  # released at teardown
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="no answer within 0.5 s") as info:
        open_channel(tmp_path, receiver.url, timeout=0.5).deliver(make_message())
    assert time.monotonic() - started < 2
    assert info.value.retryable


def test_connection_refused_is_retryable(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    with pytest.raises(DeliveryError, match="[Cc]onnection refused") as info:
        open_channel(tmp_path, f"http://127.0.0.1:{port}/x?token={TOKEN}", timeout=2).deliver(make_message())
    assert info.value.retryable and TOKEN not in str(info.value)


def test_secret_file_errors_name_the_file_not_the_content(tmp_path: Path) -> None:
    params = WebhookParams(url="https://example.com/x", secret_file="missing.key")
    with pytest.raises(ConfigError, match="channels.hook.secret_file") as info:
        WebhookChannel().open(params, ChannelContext("hook", tmp_path))
    assert str(tmp_path / "missing.key") in str(info.value)


def test_defaults() -> None:
    params, problems = parse(WebhookParams, {"url": "https://example.com/x"}, ParseContext())
    assert problems == [] and params is not None
    assert (params.method, params.timeout, params.headers, params.secret, params.body) == ("POST", 10.0, None, None, None)
