"""Fixtures for the apprise channel's tests: a real HTTP receiver on 127.0.0.1 (the
repository's ``tests/httpkit.py``), no proxies, and only the plugins a test asks for."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_TESTS = Path(__file__).resolve().parents[3] / "tests"
if str(REPO_TESTS) not in sys.path:
    sys.path.insert(0, str(REPO_TESTS))

from httpkit import Receiver, receiving  # found through the path set just above

from targetwatch.testing import targetwatch_registry  # noqa: F401 - the fixture


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests (under Apprise) honours proxy variables; keep test traffic on the loopback."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiving()


def pytest_configure(config: pytest.Config) -> None:
    # Apprise still imports the stdlib's deprecated imghdr; not ours to fix.
    config.addinivalue_line("filterwarnings", "ignore:'imghdr' is deprecated:DeprecationWarning")
