"""The ``http`` source, against a real HTTP server on 127.0.0.1 that serves scripted replies."""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from httpkit import closed_port
from hypothesis import given
from hypothesis import strategies as st

from targetwatch.cli import cli
from targetwatch.default_plugins.http_source import (
    HttpParams,
    HttpSource,
    register_sources,
    safe_url,
    steps,
)
from targetwatch.errors import Problem, SourceError
from targetwatch.model import Record
from targetwatch.params import ParseContext, parse
from targetwatch.plugins import Registry
from targetwatch.source import SourceContext, SourceType

TOKEN = "s3cr3t-T0KEN-abcdef123456"


# -- a scripted JSON server ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What the server answers to one request: a status, a body (an object is sent as JSON),
    a content type, and seconds to wait first."""

    status: int = 200
    body: Any = None
    content_type: str = "application/json"
    delay: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        owner = self.server.owner
        reply = owner.next_reply()
        with owner.lock:
            owner.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if reply.delay:
            owner.stopping.wait(reply.delay)
        data = reply.body if isinstance(reply.body, bytes) else (reply.body if isinstance(reply.body, str) else json.dumps(reply.body, ensure_ascii=False)).encode("utf-8")
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (a timeout test)

    do_GET = do_POST = _any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: JsonServer


class JsonServer:
    """A real HTTP server answering queued :class:`Reply` objects in order (then ``default``)."""

    def __init__(self) -> None:
        self.replies: collections.deque[Reply] = collections.deque()
        self.default = Reply(200, [])
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.owner = self
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def next_reply(self) -> Reply:
        with self.lock:
            return self.replies.popleft() if self.replies else self.default

    def queue(self, *replies: Reply | Any) -> None:
        with self.lock:
            self.replies.extend(r if isinstance(r, Reply) else Reply(200, r) for r in replies)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> JsonServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[JsonServer]:
    srv = JsonServer().start()
    try:
        yield srv
    finally:
        srv.stop()


# -- helpers ------------------------------------------------------------------------------------


def params(**raw: Any) -> HttpParams:
    found, problems = parse(HttpParams, raw, ParseContext())
    assert found is not None and not problems, [str(p) for p in problems]
    return found


def read(
    url: str,
    indicators: list[str] | None = None,
    *,
    skipped: list[Problem] | None = None,
    tmp_path: Path = Path("."),
    **raw: Any,
) -> list[Record]:
    skip = skipped.append if skipped is not None else (lambda p: None)
    source = HttpSource().open(params(url=url, **raw), SourceContext("api", tmp_path, skip))
    return list(source.read(indicators))


def error(url: str, **raw: Any) -> str:
    with pytest.raises(SourceError) as info:
        read(url, **raw)
    return str(info.value)


def problems(**raw: Any) -> list[str]:
    found, probs = parse(HttpParams, raw, ParseContext(file="targetwatch.toml"))
    assert found is None
    return [str(p) for p in probs]


ROWS = [
    {"indicator": "edu.a", "period": "2023-07", "value": 0.0489, "district": "田家庵区"},
    {"indicator": "edu.a", "period": "2023-08", "value": "17,192", "district": "八公山区", "note": "x"},
    {"indicator": "edu.b", "period": 2023, "value": "94.1%", "labels": {"district": "田家庵区", "level": "县"}},
]


# -- registration and parameters ----------------------------------------------------------------


def test_registers_and_is_built_in() -> None:
    got: list[SourceType] = []
    register_sources(got.append)
    assert [t.name for t in got] == ["http"]
    assert isinstance(Registry(entry_points=False).sources["http"], HttpSource)


def test_path_is_not_a_parameter_and_params_is_the_query() -> None:
    assert any("unknown key 'path'" in p for p in problems(url="http://x/", path="a.json"))
    assert params(url="http://x/", params={"limit": 100, "q": "教育"}).query == {"limit": "100", "q": "教育"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"url": "ftp://x/data"}, "url: expected a URL starting with http:// or https://"),
        ({"url": "http:///data"}, "url: expected a URL starting with http:// or https://"),
        ({"url": "http://x:port/"}, "url: expected a port number"),
        ({"url": "http://x/", "body": '{"a": 1}'}, 'body: a body is sent only with method = "POST"'),
        ({"url": "http://x/", "method": "POST", "body": "{a: 1}"}, "body: expected JSON text, found text that is not JSON"),
        ({"url": "http://x/", "method": "PUT"}, "method: expected one of 'GET', 'POST', found 'PUT'"),
        ({"url": "http://x/", "rows": "data..items"}, "rows: expected dotted keys and list indexes"),
        ({"url": "http://x/", "rows": "data.items[x]"}, "rows: expected dotted keys and list indexes"),
        ({"url": "http://x/", "headers": {"Bad Name": "v"}}, "headers: 'Bad Name' is not a valid header name"),
        ({"url": "http://x/", "headers": {"X-A": "v\r\nX-B: w"}}, "headers: the value of 'X-A' contains a line break"),
        ({"url": "http://x/", "params": {"on": True}}, "params: expected a table of names to strings or numbers, key 'on': found true"),
        ({"url": "http://x/", "retries": -1}, "retries: expected a whole number of at least 0"),
        ({"url": "http://x/", "timeout": 0}, "timeout: expected a number of seconds"),
    ],
)
def test_bad_parameters_are_named(raw: dict[str, Any], expected: str) -> None:
    found = problems(**raw)
    assert any(expected in p for p in found), found


def test_repr_shows_no_secret() -> None:
    text = repr(params(url=f"https://u:{TOKEN}@h/x?token={TOKEN}", headers={"Authorization": f"Bearer {TOKEN}"}))
    assert TOKEN not in text and "Authorization" in text


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("data", ["data"]),
        ("data.result", ["data", "result"]),
        ("results[0].rows", ["results", 0, "rows"]),
        ("a[1][2]", ["a", 1, 2]),
        ("items.0", ["items", "0"]),
        ("a.", None),
        ("a[b]", None),
        ("a[0]b", None),
    ],
)
def test_rows_paths(path: str, expected: list[str | int] | None) -> None:
    assert steps(path) == expected


@given(st.lists(st.one_of(st.from_regex(r"[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff-]{0,8}", fullmatch=True), st.integers(0, 99)), min_size=1, max_size=6).filter(lambda s: isinstance(s[0], str)))
def test_rows_path_text_round_trips(parts: list[str | int]) -> None:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    assert steps(text) == parts


def test_safe_url_drops_credentials_query_and_fragment() -> None:
    assert safe_url(f"https://user:{TOKEN}@example.org:8443/v1/obs?token={TOKEN}#x") == "https://example.org:8443/v1/obs"
    assert safe_url("http://[::1]:8080/a") == "http://[::1]:8080/a"


# -- reading ------------------------------------------------------------------------------------


def test_rows_are_delivered_exactly(server: JsonServer) -> None:
    server.queue(ROWS)
    records = read(server.url + "/obs", ignore=["note"])
    assert records == [
        Record("edu.a", "2023-07", Decimal("0.0489"), (("district", "田家庵区"),), f"{server.url}/obs: [0]"),
        Record("edu.a", "2023-08", Decimal(17192), (("district", "八公山区"),), f"{server.url}/obs: [1]"),
        Record("edu.b", "2023", Decimal("0.941"), (("district", "田家庵区"), ("level", "县")), f"{server.url}/obs: [2]"),
    ]
    (seen,) = server.seen
    assert (seen.method, seen.path) == ("GET", "/obs")
    assert seen.headers["accept"] == "application/json" and seen.headers["user-agent"].startswith("targetwatch/")


def test_only_wanted_indicators_and_a_fixed_indicator(server: JsonServer) -> None:
    server.queue(ROWS)
    assert {r.indicator for r in read(server.url, ["edu.b"])} == {"edu.b"}
    assert read(server.url, ["other"], indicator="fixed") == []
    assert len(server.seen) == 1  # a fixed indicator not asked for is not even fetched


def test_nested_path_with_an_index(server: JsonServer) -> None:
    doc = {"status": "ok", "results": [{"rows": ROWS[:1]}], "count": 1}
    server.queue(doc, doc)
    (rec,) = read(server.url, rows="results[0].rows")
    assert rec.value == Decimal("0.0489") and rec.origin == f"{server.url}: results[0].rows[0]"
    assert read(server.url, rows="results.0.rows") == [rec]


def test_chinese_labels_and_column_names_in_utf8_and_gbk(server: JsonServer) -> None:
    rows = [{"指标": "教育经费", "期间": "2023-H1", "数值": "1.2万", "区县": "田家庵区"}]
    server.queue(
        Reply(200, {"data": {"items": rows}}, "application/json; charset=utf-8"),
        Reply(200, json.dumps(rows, ensure_ascii=False).encode("gbk"), "application/json; charset=gbk"),
    )
    columns = {"indicator": "指标", "period": "期间", "value": "数值"}
    (utf8,) = read(server.url, rows="data.items", columns=columns)
    (gbk,) = read(server.url, columns=columns)
    assert utf8[:4] == gbk[:4] == ("教育经费", "2023-H1", Decimal(12000), (("区县", "田家庵区"),))


def test_a_prometheus_style_reply(server: JsonServer) -> None:
    server.queue(
        {
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [
                    {"metric": {"__name__": "school.places", "district": "田家庵区", "job": "edu"}, "period": "2023-Q3", "value": "3240"},
                    {"metric": {"__name__": "school.places", "district": "大通区", "job": "edu"}, "period": "2023-Q3", "value": "1,980"},
                ],
            },
        }
    )
    records = read(server.url + "/api/v1/query", rows="data.result", flatten=["metric"], columns={"indicator": "__name__"}, ignore=["job"])
    assert [(r.indicator, r.period, r.value, r.labels) for r in records] == [
        ("school.places", "2023-Q3", Decimal(3240), (("district", "田家庵区"),)),
        ("school.places", "2023-Q3", Decimal(1980), (("district", "大通区"),)),
    ]


def test_a_key_given_twice_by_flatten_is_a_bad_row(server: JsonServer) -> None:
    server.queue([{"indicator": "a", "period": "2023", "value": 1, "district": "A", "labels": {"district": "B"}}])
    assert "[0]: 'district' is given twice, as 'A' and as 'B' (in 'labels')" in error(server.url)


def test_post_with_body_query_and_headers(server: JsonServer) -> None:
    server.queue(ROWS[:1])
    read(
        server.url + "/q?fixed=1",
        method="POST",
        body='{"query": "教育"}',
        params={"indicator": "edu.a", "区": "田家庵区", "limit": 10},
        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/vnd.api+json"},
    )
    (seen,) = server.seen
    assert seen.method == "POST" and json.loads(seen.body) == {"query": "教育"}
    assert seen.path == "/q?fixed=1&indicator=edu.a&%E5%8C%BA=%E7%94%B0%E5%AE%B6%E5%BA%B5%E5%8C%BA&limit=10"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["accept"] == "application/vnd.api+json"  # the config replaces the default
    assert seen.headers["content-type"] == "application/json; charset=utf-8"


# -- retries ------------------------------------------------------------------------------------


def test_500_then_200_is_retried_with_back_off(server: JsonServer) -> None:
    server.queue(Reply(500, "boom"), Reply(503, "busy"), ROWS[:1])
    started = time.monotonic()
    records = read(server.url, retries=2, retry_wait=0.1)
    assert len(records) == 1 and len(server.seen) == 3
    assert time.monotonic() - started >= 0.1 + 0.2  # waited 0.1 s, then twice that


def test_429_is_retried_and_giving_up_says_how_often(server: JsonServer) -> None:
    server.queue(Reply(429, "slow down"))
    server.default = Reply(502, "<html><body>Bad   gateway</body></html>", "text/html")
    text = error(server.url + "/obs", retries=2, retry_wait=0.01)
    assert len(server.seen) == 3
    assert text == (
        f"source 'api': {server.url}/obs: GET returned HTTP 502 Bad Gateway; "
        "the reply starts: '<html><body>Bad gateway</body></html>' (after 3 attempts)"
    )


def test_404_is_not_retried(server: JsonServer) -> None:
    server.default = Reply(404, {"error": "no such dataset"})
    text = error(server.url + "/v1/obs", retries=3, retry_wait=0.01)
    assert len(server.seen) == 1
    assert text == f"""source 'api': {server.url}/v1/obs: GET returned HTTP 404 Not Found; the reply starts: '{{"error": "no such dataset"}}'"""


def test_a_redirect_is_not_followed(server: JsonServer) -> None:
    server.default = Reply(302, "", headers=(("Location", f"https://elsewhere.example:8443/obs?token={TOKEN}"),))
    text = error(server.url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert len(server.seen) == 1
    assert "HTTP 302 Found (a redirect to https://elsewhere.example:8443/obs; redirects are not followed" in text
    assert TOKEN not in text


def test_a_timeout_is_retried_then_reported(server: JsonServer) -> None:
    server.default = Reply(200, ROWS, delay=2)
    started = time.monotonic()
    text = error(server.url + "/slow", timeout=0.2, retries=1, retry_wait=0.01)
    assert time.monotonic() - started < 1.5
    assert len(server.seen) == 2
    assert text == f"source 'api': {server.url}/slow: GET got no answer within 0.2 s (after 2 attempts)"


def test_a_slow_reply_then_a_quick_one(server: JsonServer) -> None:
    server.queue(Reply(200, ROWS, delay=1), ROWS[:1])
    assert len(read(server.url, timeout=0.2, retry_wait=0.01)) == 1


def test_a_refused_connection_is_retried_then_reported() -> None:
    port = closed_port()
    text = error(f"http://127.0.0.1:{port}/obs", retries=1, retry_wait=0.01)
    assert text.startswith(f"source 'api': http://127.0.0.1:{port}/obs: GET failed: ")
    assert "refused" in text.lower() and text.endswith("(after 2 attempts)")


# -- the document -------------------------------------------------------------------------------


def test_invalid_json_gives_its_position_and_the_start_of_the_reply(server: JsonServer) -> None:
    server.queue(Reply(200, '[{"indicator": "a",\n  "period": 2023, value: 1}]'))
    text = error(server.url + "/obs")
    assert text == (
        f"source 'api': {server.url}/obs: expected a JSON reply, found invalid JSON at line 2, column 19 (char 38): "
        "Expecting property name enclosed in double quotes; the reply starts: "
        """'[{"indicator": "a", "period": 2023, value: 1}]'"""
    )


def test_an_html_login_page_is_not_json(server: JsonServer) -> None:
    server.queue(Reply(200, "<!doctype html><title>Sign in</title>", "text/html"))
    assert "found invalid JSON at line 1, column 1 (char 0): Expecting value; the reply starts: '<!doctype html>" in error(server.url)


def test_an_empty_reply(server: JsonServer) -> None:
    server.queue(Reply(200, ""))
    assert error(server.url).endswith("found invalid JSON at line 1, column 1 (char 0): Expecting value; the reply is empty")


def test_a_reply_that_does_not_decode(server: JsonServer) -> None:
    server.queue(Reply(200, b"\xff\xfe\xfa", "application/json; charset=utf-8"))
    assert "expected a JSON reply, found one that does not decode (not utf-8 text)" in error(server.url)


@pytest.mark.parametrize(
    ("doc", "rows", "expected"),
    [
        ({"data": {"items": []}}, "data.result", "data.result: rows: no key 'result' under 'data'; keys found: 'items'"),
        ({"status": "ok"}, "data.result", "data.result: rows: no key 'data' under the top of the reply; keys found: 'status'"),
        ({"data": []}, "data.result", "rows: expected an object with key 'result' under 'data', found an array"),
        ({"data": {"a": 1}}, "data[0]", "rows: expected an array to take item [0] from under 'data', found an object (keys: 'a')"),
        ({"data": [[]]}, "data[3]", "rows: no item [3] under 'data'; it has 1 item"),
        ({"data": {"result": {"a": 1}}}, "data.result", "expected an array of row objects at 'data.result', found an object (keys: 'a')"),
        ({"data": "none"}, "data", "expected an array of row objects at 'data', found 'none'"),
        ({"data": []}, None, 'expected an array of row objects as the reply (set rows to the path of the array, e.g. "data.items"), found an object'),
    ],
)
def test_rows_path_problems_say_what_was_found(server: JsonServer, doc: Any, rows: str | None, expected: str) -> None:
    server.queue(doc)
    text = error(server.url + "/obs", **({} if rows is None else {"rows": rows}))
    assert text.startswith(f"source 'api': {server.url}/obs: ") and expected in text, text


def test_a_bad_row_is_named_by_its_index(server: JsonServer) -> None:
    rows = [ROWS[0], {"indicator": "edu.a", "period": "2023-09", "value": "n/a"}, ROWS[1]]
    server.queue({"data": {"items": rows}})
    text = error(server.url + "/obs", rows="data.items", ignore=["note"])
    assert text == f"source 'api': {server.url}/obs: data.items[1]: column 'value': expected a number such as 17192, \"17,192\", \"94.1%\" or \"1.2万\", found 'n/a'"


def test_bad_rows_skipped_are_counted(server: JsonServer) -> None:
    rows = [ROWS[0], {"indicator": "edu.a", "period": "2023-09", "value": "n/a"}, "not a row", {"indicator": "edu.a", "value": 1}]
    server.queue({"data": {"items": rows}})
    skipped: list[Problem] = []
    records = read(server.url, skipped=skipped, rows="data.items", on_bad_row="skip")
    assert len(records) == 1
    assert [(p.key, p.message) for p in skipped] == [
        ("data.items[1]", 'column \'value\': expected a number such as 17192, "17,192", "94.1%" or "1.2万", found \'n/a\''),
        ("data.items[2]", "expected a row object, found 'not a row'"),
        ("data.items[3]", "column 'period': missing (keys found: 'indicator', 'value')"),
    ]
    assert all(p.file == server.url for p in skipped)


def test_a_first_row_without_a_core_key_rejects_the_reply(server: JsonServer) -> None:
    server.queue([{"name": "a", "period": "2023", "value": 1}])
    assert "[0]: missing column 'indicator'; keys found: 'name', 'period', 'value'" in error(server.url, on_bad_row="skip")


# -- secrets ------------------------------------------------------------------------------------


def test_headers_query_and_credentials_are_absent_from_every_error(server: JsonServer) -> None:
    url = f"http://user:{TOKEN}@127.0.0.1:{server.server.server_address[1]}/obs?token={TOKEN}"
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Api-Key": "k3y-Value-999"}
    echo = f"you sent Authorization: Bearer {TOKEN}, X-Api-Key: k3y-Value-999, query token={TOKEN}"
    cases = [
        Reply(401, echo, "text/plain"),
        Reply(500, echo, "text/plain"),
        Reply(200, "not json: " + echo, "text/plain"),
        Reply(200, {"data": {TOKEN: 1}}),
    ]
    for reply in cases:
        server.default = reply
        text = error(url, headers=headers, params={"key": TOKEN}, rows="data.items", retries=0)
        assert TOKEN not in text and "k3y-Value-999" not in text and "user" not in text, text
        assert f"http://127.0.0.1:{server.server.server_address[1]}/obs:" in text
    assert len(server.seen) == len(cases)
    assert server.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert server.seen[0].headers["x-api-key"] == "k3y-Value-999"
    assert server.seen[0].path == f"/obs?token={TOKEN}&key={TOKEN}"


def test_credentials_in_the_url_are_sent_as_basic_auth(server: JsonServer) -> None:
    import base64

    server.default = Reply(403, "nope")
    port = server.server.server_address[1]
    text = error(f"http://analyst:p%40ss-{TOKEN}@127.0.0.1:{port}/obs", retries=0)
    (seen,) = server.seen
    assert seen.headers["authorization"] == "Basic " + base64.b64encode(f"analyst:p@ss-{TOKEN}".encode()).decode()
    assert text == f"source 'api': http://127.0.0.1:{port}/obs: GET returned HTTP 403 Forbidden; the reply starts: 'nope'"


# -- end to end ---------------------------------------------------------------------------------

CONFIG = """\
rules = ["rules"]
timezone = "Asia/Shanghai"
as_of = "2023-10-16"

[[sources]]
name = "bureau-api"
type = "http"
url = "{url}/api/v1/observations"
params = {{ district = "田家庵区" }}
headers = {{ Authorization = "Bearer ${{BUREAU_TOKEN}}" }}
rows = "data.items"
retry_wait = 0.01

[indicators."school.new_places"]
title = "新增学位"

[indicators."preschool.enrolment_rate"]
unit = "%"
"""

RULES = """\
[[rule]]
id = "places"
kind = "minimum"
indicator = "school.new_places"
min = 3240
period = "2023"

[[rule]]
id = "preschool"
kind = "threshold"
indicator = "preschool.enrolment_rate"
min = "95%"
"""

API_ROWS = [
    {"indicator": "school.new_places", "period": "2023-H1", "value": 3300, "district": "田家庵区"},
    {"indicator": "preschool.enrolment_rate", "period": "2023", "value": "94.1%", "district": "田家庵区"},
]


def project(tmp_path: Path, server: JsonServer) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "main.toml").write_text(RULES, encoding="utf-8")
    config = tmp_path / "targetwatch.toml"
    config.write_text(CONFIG.format(url=server.url), encoding="utf-8")
    return config


def test_check_end_to_end(tmp_path: Path, server: JsonServer) -> None:
    server.queue(Reply(503, "warming up"), {"data": {"items": API_ROWS}})
    config = project(tmp_path, server)
    result = CliRunner().invoke(cli, ["check", "-c", str(config), "--format", "json", "--dry-run"], env={"BUREAU_TOKEN": TOKEN, "TARGETWATCH_PLUGINS": ""})
    assert result.exit_code == 2, result.output
    doc = json.loads(result.stdout)
    assert {v["rule"]: v["status"] for v in doc["verdicts"]} == {"places": "OK", "preschool": "BREACH"}
    assert {v["rule"]: v["labels"] for v in doc["verdicts"]}["places"] == {"district": "田家庵区"}
    assert doc["problems"] == []
    assert [s.headers["authorization"] for s in server.seen] == [f"Bearer {TOKEN}"] * 2
    assert server.seen[-1].path == "/api/v1/observations?district=%E7%94%B0%E5%AE%B6%E5%BA%B5%E5%8C%BA"


def test_check_with_the_api_down_exits_3_naming_the_source(tmp_path: Path, server: JsonServer) -> None:
    server.default = Reply(500, f"internal error for Bearer {TOKEN}", "text/plain")
    config = project(tmp_path, server)
    result = CliRunner().invoke(cli, ["check", "-c", str(config), "--format", "json", "--dry-run"], env={"BUREAU_TOKEN": TOKEN, "TARGETWATCH_PLUGINS": ""})
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert {v["status"] for v in doc["verdicts"]} == {"UNKNOWN"}
    (problem,) = doc["problems"]
    assert problem.startswith(f"source 'bureau-api': {server.url}/api/v1/observations: GET returned HTTP 500 Internal Server Error")
    assert "(after 3 attempts)" in problem
    assert TOKEN not in result.output and TOKEN not in result.stderr
