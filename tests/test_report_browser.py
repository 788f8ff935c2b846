"""The seed's HTML report in a real browser: headless Chromium (Debian's ``chromium``) with a
fresh profile and no network, driven over the DevTools protocol. Every chart is drawn, the
page logs no console error and asks the network for nothing, it prints a page per group, and
its screenshot is what ``docs/report.png`` shows (rewritten with
``TARGETWATCH_UPDATE_SCREENSHOT=1``)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from targetwatch.cli import cli
from targetwatch.plugins import Registry

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or (str(Path("/usr/bin/chromium")) if Path("/usr/bin/chromium").exists() else None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium); .ci/run installs it"
)
TIMEOUT = 30.0

#: Chromium with a fresh profile and no way out: every request, loopback included, goes to a
#: proxy on the discard port, which refuses it.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
    "--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
)


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: masked text frames out; text,
    continuation, ping and close frames in."""

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"DevTools refused the websocket: {head[:200]!r}")

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _send(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        size = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n) if n < 1 << 16 else bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        self.sock.sendall(bytes([0x80 | opcode]) + size + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text: str) -> None:
        self._send(0x1, text.encode())

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            n = second & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            opcode = first & 0x0F
            if opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            elif opcode in (0x0, 0x1, 0x2):
                message += payload
                if first & 0x80:
                    return message.decode()

    def close(self) -> None:
        self.sock.close()


class Browser:
    """A headless Chromium, one page, and what it reported while we watched."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None
        self.log = (profile.parent / f"{profile.name}.log").open("w")
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"], stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        self.events: list[dict[str, Any]] = []
        self.next_id = 0
        try:
            port = self._port(profile / "DevToolsActivePort")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
            conn.request("GET", "/json/list")
            pages = [t for t in json.loads(conn.getresponse().read()) if t["type"] == "page"]
            conn.close()
            self.ws = WebSocket(port, "/devtools/page/" + pages[0]["id"])
        except BaseException:
            self.quit()
            raise

    def _port(self, path: Path) -> int:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}; see {self.log.name}")
            if path.exists() and path.read_text().strip():
                return int(path.read_text().split()[0])
            time.sleep(0.05)
        raise TimeoutError(f"chromium did not open its DevTools port within {TIMEOUT}s")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            message = json.loads(self.ws.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)
        raise TimeoutError(method)

    def wait_for(self, event: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not any(e.get("method") == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(event)
            self.events.append(json.loads(self.ws.receive()))

    def open(self, url: str, width: int = 1280, height: int = 2400) -> None:
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        found = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in found:
            raise RuntimeError(found["exceptionDetails"])
        return found["result"]["value"]

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (failed loads included)."""
        out = []
        for e in self.events:
            params = e.get("params", {})
            if e.get("method") == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif e.get("method") == "Runtime.exceptionThrown":
                out.append("uncaught: " + params["exceptionDetails"].get("text", ""))
            elif e.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
                out.append("log: " + params["entry"]["text"])
        return out

    def requests(self) -> list[str]:
        """Every URL the page asked for that is not the file itself or inline data."""
        urls = [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]
        return [u for u in urls if not u.startswith(("file:", "data:", "about:"))]

    def quit(self) -> None:
        try:
            if hasattr(self, "ws"):
                try:
                    self.call("Browser.close")
                except (OSError, ConnectionError, TimeoutError, RuntimeError):
                    pass
                self.ws.close()
        finally:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.log.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    b = Browser(tmp_path / "profile")
    try:
        yield b
    finally:
        b.quit()


CHART_STATE = """
(async () => {
  await document.fonts.ready;
  const charts = [...document.querySelectorAll('svg.chart')].map(svg => {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll('.data')];
    const drawn = marks.filter(m => { const b = m.getBBox(); return b.width > 0 || b.height > 0; }).length;
    const lines = [...svg.querySelectorAll('polyline')];
    return {id: svg.id, width: box.width, height: box.height, marks: marks.length, drawn,
            lines: lines.length, emptyLines: lines.filter(p => !p.getAttribute('points').trim()).length,
            label: svg.getAttribute('aria-label') || ''};
  });
  return {charts, cards: document.querySelectorAll('article.card').length,
          groups: document.querySelectorAll('section.group').length,
          overflow: document.documentElement.scrollWidth > window.innerWidth,
          font: getComputedStyle(document.body).fontFamily, title: document.title};
})()
"""


@needs_chromium
def test_seed_report_draws_every_chart_offline_without_errors(browser: Browser, seed_config: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", "--period", "2023-H2", "-o", str(page), "-c", str(seed_config)], obj=Registry(entry_points=False))
    assert result.exit_code == 0, result.stderr
    browser.open(page.as_uri())
    state = browser.evaluate(CHART_STATE)
    assert state["cards"] == 18 and state["groups"] == 8 and state["title"] == "Targets scorecard 2023-H2 · 2023-H2"
    assert len(state["charts"]) == 18
    for chart in state["charts"]:
        assert chart["width"] > 300 and chart["height"] > 100, chart
        assert chart["marks"] > 0 and chart["drawn"] == chart["marks"], chart  # every datum has a size on screen
        assert chart["emptyLines"] == 0 and chart["label"], chart
    assert not state["overflow"]
    assert state["font"].startswith('"Noto Sans CJK SC"')
    assert browser.errors() == []
    assert browser.requests() == []
    shot = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
    assert shot.startswith(b"\x89PNG\r\n\x1a\n") and struct.unpack("!II", shot[16:24]) == (1280, 2400)
    if os.environ.get("TARGETWATCH_UPDATE_SCREENSHOT") == "1":
        (REPO_ROOT / "docs" / "report.png").write_bytes(shot)
    # Printed: A4 pages, a group never sharing a page with the one before it.
    pdf = base64.b64decode(browser.call("Page.printToPDF", paperWidth=8.27, paperHeight=11.69, printBackground=True)["data"])
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 1 + state["groups"]


@needs_chromium
def test_the_harness_sees_console_errors_and_network_requests(browser: Browser, tmp_path: Path) -> None:
    """The checks above could not pass by accident: a page that logs an error and loads an
    image from outside is caught on both counts (and the image never arrives)."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><img src="http://example.invalid/x.png"><script>console.error("boom")</script>', encoding="utf-8")
    browser.open(page.as_uri())
    assert any("boom" in e for e in browser.errors())
    assert browser.requests() == ["http://example.invalid/x.png"]
    assert browser.evaluate("document.images[0].naturalWidth") == 0


def test_docs_screenshot_is_committed() -> None:
    shot = REPO_ROOT / "docs" / "report.png"
    assert shot.exists(), "run TARGETWATCH_UPDATE_SCREENSHOT=1 pytest tests/test_report_browser.py"
    head = shot.read_bytes()[:24]
    assert head.startswith(b"\x89PNG\r\n\x1a\n") and struct.unpack("!II", head[16:24]) == (1280, 2400)
