"""The ``file`` channel: JSON Lines appended to a real file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from targetwatch.alerts import Message
from targetwatch.default_plugins.file_channel import FileChannel, FileParams
from targetwatch.notify import ChannelContext, DeliveryError
from targetwatch.params import ParseContext, parse
from targetwatch.plugins import Registry


def message(key: str = "k1") -> Message:
    now = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    event = {"rule": "edu.growth", "status": "BREACH", "labels": {"district": "田家庵区"}, "value": "1.21"}
    return Message("archive", key, "目标告警", 'line "1"\nline 2', (event,), 3, now, now)


def test_registered_as_builtin() -> None:
    assert isinstance(Registry(entry_points=False).notifiers["file"], FileChannel)


def test_path_is_required() -> None:
    _, problems = parse(FileParams, {}, ParseContext())
    assert "missing required key 'path'" in str(problems[0])


def test_appends_one_json_object_per_line(tmp_path: Path) -> None:
    notifier = FileChannel().open(FileParams(path="out/deep/alerts.jsonl"), ChannelContext("archive", tmp_path))
    target = tmp_path / "out" / "deep" / "alerts.jsonl"
    notifier.deliver(message("k1"))
    notifier.deliver(message("k2"))
    notifier.deliver(message("k1"))  # a repeat after a crash: same key, so readers can dedupe
    raw = target.read_bytes()
    assert "田家庵区".encode() in raw  # ensure_ascii=False: UTF-8, not \\u escapes
    lines = raw.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 4
    records = [json.loads(line) for line in lines[:-1]]
    assert records[0] == message("k1").as_dict()
    assert [r["key"] for r in records] == ["k1", "k2", "k1"]
    assert len({r["key"] for r in records}) == 2


def test_appends_to_existing_and_repairs_a_torn_line(tmp_path: Path) -> None:
    target = tmp_path / "a.jsonl"
    target.write_text('{"key": "old"}\n{"key": "tor', encoding="utf-8")
    FileChannel().open(FileParams(path=str(target)), ChannelContext("x", Path("/nonexistent"))).deliver(message())
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '{"key": "old"}' and lines[1] == '{"key": "tor'
    assert json.loads(lines[2])["key"] == "k1"


def test_unwritable_path_is_a_retryable_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "dir.jsonl").mkdir()
    notifier = FileChannel().open(FileParams(path="dir.jsonl"), ChannelContext("x", tmp_path))
    with pytest.raises(DeliveryError) as info:
        notifier.deliver(message())
    assert info.value.retryable
    assert str(tmp_path / "dir.jsonl") in str(info.value)
