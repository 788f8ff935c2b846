"""Secrets: inline or from a ``*_file``, never shown; and the shared notifier helpers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from targetwatch.alerts import Message
from targetwatch.errors import ConfigError
from targetwatch.notify import ChannelContext, DeliveryError, Seconds, attempt
from targetwatch.params import Invalid, ParseContext
from targetwatch.secrets import MASK, redact, resolve_secret

SECRET = "s3cr3t-p@ss/w0rd+é"


def message() -> Message:
    now = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
    return Message("ops", "k1", "subject", "text", (), 0, now, now)


def test_inline_value_and_nothing(tmp_path: Path) -> None:
    assert resolve_secret("abc", None, base_dir=tmp_path, key="password") == "abc"
    assert resolve_secret(None, None, base_dir=tmp_path, key="password") is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"abc\n", "abc"), (b"abc\r\n", "abc"), (b"abc\n\n", "abc\n"), (b" abc  ", " abc  "), ("密码\n".encode(), "密码")],
)
def test_file_strips_one_trailing_newline(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "secret").write_bytes(content)
    assert resolve_secret(None, "secret", base_dir=tmp_path, key="password") == expected


def test_relative_file_resolves_against_base_dir(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pw").write_text("x\n")
    assert resolve_secret(None, "sub/pw", base_dir=tmp_path, key="password") == "x"
    assert resolve_secret(None, str(tmp_path / "sub" / "pw"), base_dir=Path("/nonexistent"), key="password") == "x"


def test_both_given_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(SECRET)
    with pytest.raises(ConfigError, match="either 'password' or 'password_file'") as info:
        resolve_secret(SECRET, "pw", base_dir=tmp_path, key="password", where="channels.ops")
    assert SECRET not in str(info.value)
    assert info.value.problems[0].key == "channels.ops.password"


def test_missing_file_names_path_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_secret(None, "missing.txt", base_dir=tmp_path, key="secret", where="channels.hook")
    text = str(info.value)
    assert str(tmp_path / "missing.txt") in text
    assert "channels.hook.secret_file" in text
    assert "No such file" in text


def test_undecodable_and_empty_files_never_show_content(tmp_path: Path) -> None:
    (tmp_path / "bin").write_bytes(b"\xff\xfe" + SECRET.encode())
    with pytest.raises(ConfigError, match="not UTF-8") as info:
        resolve_secret(None, "bin", base_dir=tmp_path, key="password")
    assert SECRET not in str(info.value) and "\\xff" not in str(info.value)
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        resolve_secret(None, "empty", base_dir=tmp_path, key="password")
    with pytest.raises(ConfigError, match="is empty"):
        resolve_secret("", None, base_dir=tmp_path, key="password")


def test_redact_plain_and_url_encoded() -> None:
    from urllib.parse import quote, quote_plus

    text = f"failed: {SECRET} at https://h/x?token={quote(SECRET, safe='')}&t2={quote_plus(SECRET)}"
    out = redact(text, [None, "", SECRET])
    assert SECRET not in out and quote(SECRET, safe="") not in out and quote_plus(SECRET) not in out
    assert out.count(MASK) == 3


def test_redact_longer_secret_first() -> None:
    assert redact("abcdef", ["abc", "abcdef"]) == MASK
    assert redact("nothing here", ["zzz"]) == "nothing here"


class _Broken:
    def deliver(self, message: Message) -> None:
        raise RuntimeError(f"token {SECRET} rejected")


class _Refusing:
    def deliver(self, message: Message) -> None:
        raise DeliveryError("HTTP 400", False)


class _Fine:
    def __init__(self) -> None:
        self.got: list[Message] = []

    def deliver(self, message: Message) -> None:
        self.got.append(message)


def test_attempt_never_raises_and_names_the_channel() -> None:
    fine = _Fine()
    results = [attempt(n, message(), channel=name, secrets=[SECRET]) for name, n in (("a", _Broken()), ("b", _Refusing()), ("c", fine))]
    broken, refused, ok = results
    assert ok is None and len(fine.got) == 1  # the failing channels did not stop the last one
    assert broken is not None and broken.retryable and broken.channel == "a"
    assert "RuntimeError" in str(broken) and SECRET not in str(broken) and str(broken).startswith("channel 'a': ")
    assert refused is not None and not refused.retryable and str(refused) == "channel 'b': HTTP 400"


def test_channel_context_paths(tmp_path: Path) -> None:
    ctx = ChannelContext("ops", tmp_path)
    assert ctx.path("out/a.jsonl") == tmp_path / "out" / "a.jsonl"
    assert ctx.path("/abs/a.jsonl") == Path("/abs/a.jsonl")


@pytest.mark.parametrize(("raw", "seconds"), [(10, 10.0), (0.5, 0.5), ("0.5", 0.5), ("30s", 30.0), ("2min", 120.0), ("1h", 3600.0)])
def test_seconds_param(raw: object, seconds: float) -> None:
    assert Seconds().convert(raw, ParseContext()) == seconds


@pytest.mark.parametrize("raw", [0, -1, True, "", "soon", "1mo", float("nan"), None])
def test_seconds_param_rejects(raw: object) -> None:
    with pytest.raises(Invalid):
        Seconds().convert(raw, ParseContext())
