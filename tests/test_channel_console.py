"""The ``console`` channel."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from targetwatch.alerts import Message
from targetwatch.default_plugins.console_channel import ConsoleChannel, ConsoleParams
from targetwatch.notify import ChannelContext, DeliveryError
from targetwatch.params import ParseContext, parse
from targetwatch.plugins import Registry


def message(text: str = "教育支出同比下降 3.2%\n") -> Message:
    now = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
    return Message("ops", "k1", "目标告警：教育支出", text, (), 0, now, now)


def test_registered_as_builtin() -> None:
    assert isinstance(Registry(entry_points=False).notifiers["console"], ConsoleChannel)


def test_defaults_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params, problems = parse(ConsoleParams, {}, ParseContext())
    assert problems == [] and params is not None and params.stream == "stderr"
    ConsoleChannel().open(params, ChannelContext("c", tmp_path)).deliver(message())
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "目标告警：教育支出\n教育支出同比下降 3.2%\n\n"


def test_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notifier = ConsoleChannel().open(ConsoleParams(stream="stdout"), ChannelContext("c", tmp_path))
    notifier.deliver(message(""))
    assert capsys.readouterr() == ("目标告警：教育支出\n\n", "")


def test_bad_stream_value_is_a_config_problem() -> None:
    _, problems = parse(ConsoleParams, {"stream": "stdrr"}, ParseContext(file="t.toml"), ("channels", "c"))
    assert len(problems) == 1 and "did you mean 'stderr'" in str(problems[0])


def test_closed_stream_is_retryable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr("sys.stderr", closed)
    with pytest.raises(DeliveryError, match="cannot write to stderr") as info:
        ConsoleChannel().open(ConsoleParams(), ChannelContext("c", tmp_path)).deliver(message())
    assert info.value.retryable
