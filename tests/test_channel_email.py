"""The ``email`` channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import attrs
import pytest

pytest.importorskip("aiosmtpd", reason="aiosmtpd is needed for the SMTP tests (pip install -e '.[test]')")

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from targetwatch.alerts import Message
from targetwatch.default_plugins.email_channel import EmailChannel, EmailParams, message_id
from targetwatch.errors import ConfigError
from targetwatch.notify import ChannelContext, DeliveryError, Notifier
from targetwatch.params import ParseContext, parse
from targetwatch.plugins import Registry

PASSWORD = "p@ss wörd-42"
USER = "alerts"
SUBJECT = "目标告警：教育支出同比下降（田家庵区）"


def make_message(key: str = "0123456789abcdef0123456789abcdef") -> Message:
    created = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    events = (
        {"rule": "edu.growth", "title": "教育支出增长 <script>", "status": "BREACH", "labels": {"district": "田家庵区"},
         "value": "-0.032", "target": "0", "unit": None, "period": "2023", "message": "下降 3.2% & 未达标"},
    )
    return Message("ops", key, SUBJECT, "教育支出同比下降 3.2%，未达到增长目标。\n详见报告。", events, 2, created, created)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Collector:
    """An aiosmtpd handler that keeps what it receives; ``reply`` overrides the DATA answer."""

    def __init__(self, reply: str = "250 OK") -> None:
        self.envelopes: list[Envelope] = []
        self.reply = reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return self.reply

    def parsed(self, index: int = -1) -> EmailMessage:
        content = self.envelopes[index].original_content
        assert isinstance(content, bytes)
        mail = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        return mail


def authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


@attrs.define
class Server:
    handler: Collector
    port: int


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A plain SMTP server on 127.0.0.1; ``@pytest.mark.parametrize('smtp_server', [kwargs], indirect=True)``
    passes Controller keyword arguments (and ``reply``)."""
    kwargs: dict[str, Any] = dict(getattr(request, "param", {}))
    handler = Collector(kwargs.pop("reply", "250 OK"))
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield Server(handler, port)
    finally:
        controller.stop()


def open_channel(tmp_path: Path, **raw: Any) -> Notifier:
    raw.setdefault("host", "127.0.0.1")
    raw.setdefault("security", "none")
    raw.setdefault("sender", "targetwatch <alerts@example.com>")
    raw.setdefault("to", ["局长 <boss@example.com>", "ops@example.com"])
    raw.setdefault("timeout", 5)
    params, problems = parse(EmailParams, raw, ParseContext(file="targetwatch.toml"), ("channels", "mail"))
    assert problems == [], problems
    assert params is not None
    return EmailChannel().open(params, ChannelContext("mail", tmp_path))


def test_registered_as_builtin() -> None:
    assert isinstance(Registry(entry_points=False).notifiers["email"], EmailChannel)


def test_delivers_chinese_subject_both_parts_and_stable_message_id(tmp_path: Path, smtp_server: Server) -> None:
    notifier = open_channel(tmp_path, port=smtp_server.port, cc="cc@example.com")
    notifier.deliver(make_message())
    notifier.deliver(make_message())  # the repeat a crash between send and mark can cause

    handler = smtp_server.handler
    assert len(handler.envelopes) == 2
    envelope = handler.envelopes[0]
    assert envelope.mail_from == "alerts@example.com"
    assert envelope.rcpt_tos == ["boss@example.com", "ops@example.com", "cc@example.com"]
    raw = envelope.original_content
    assert isinstance(raw, bytes) and raw.isascii()  # RFC 2047 / transfer encodings on the wire
    assert b"=?utf-8?" in raw

    first, second = handler.parsed(0), handler.parsed(1)
    assert first["Subject"] == f"[targetwatch] {SUBJECT}"
    assert first["Message-ID"] == "<0123456789abcdef0123456789abcdef@targetwatch>"
    assert second["Message-ID"] == first["Message-ID"] and second["Date"] == first["Date"]
    assert first["Date"] == "Fri, 01 Mar 2024 09:00:00 +0800"
    assert first["From"] == "targetwatch <alerts@example.com>"
    assert "局长 <boss@example.com>" in str(first["To"]) and first["Cc"] == "cc@example.com"
    assert first.get_content_type() == "multipart/alternative"
    plain = first.get_body(("plain",))
    html = first.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n").rstrip("\n") == make_message().text
    html_text = html.get_content()
    assert "田家庵区" in html_text and "下降 3.2% &amp; 未达标" in html_text
    assert "&lt;script&gt;" in html_text and "<script>" not in html_text
    assert "2 more" in html_text


def test_plain_text_only(tmp_path: Path, smtp_server: Server) -> None:
    open_channel(tmp_path, port=smtp_server.port, html=False, subject_prefix="").deliver(make_message())
    mail = smtp_server.handler.parsed()
    assert mail.get_content_type() == "text/plain"
    assert mail["Subject"] == SUBJECT
    assert "3.2%" in mail.get_content()


def test_message_id_falls_back_to_a_digest_for_odd_keys() -> None:
    assert message_id("abc.DEF-1") == "<abc.DEF-1@targetwatch>"
    odd = message_id("rule 1/田家庵区")
    assert odd.startswith("<") and odd.endswith("@targetwatch>") and len(odd) == 64 + len("<@targetwatch>")
    assert odd == message_id("rule 1/田家庵区")


AUTH = {"authenticator": authenticator, "auth_require_tls": False}


@pytest.mark.parametrize("smtp_server", [AUTH], indirect=True)
def test_login_with_password_file(tmp_path: Path, smtp_server: Server) -> None:
    (tmp_path / "smtp.pw").write_text(PASSWORD + "\n", encoding="utf-8")
    open_channel(tmp_path, port=smtp_server.port, username=USER, password_file="smtp.pw").deliver(make_message())
    assert len(smtp_server.handler.envelopes) == 1


@pytest.mark.parametrize("smtp_server", [AUTH], indirect=True)
def test_wrong_password_is_final_and_never_shown(tmp_path: Path, smtp_server: Server) -> None:
    wrong = "wr0ng-" + PASSWORD
    notifier = open_channel(tmp_path, port=smtp_server.port, username=USER, password=wrong)
    with pytest.raises(DeliveryError) as info:
        notifier.deliver(make_message())
    error = info.value
    assert not error.retryable
    assert "535" in str(error) and f"127.0.0.1:{smtp_server.port}" in str(error)
    for text in (str(error), repr(error), error.reason, repr(notifier)):
        assert wrong not in text and PASSWORD not in text
    assert smtp_server.handler.envelopes == []


@pytest.mark.parametrize("smtp_server", [{"reply": "451 4.3.0 try again later"}], indirect=True)
def test_temporary_refusal_is_retryable(tmp_path: Path, smtp_server: Server) -> None:
    with pytest.raises(DeliveryError, match="451") as info:
        open_channel(tmp_path, port=smtp_server.port).deliver(make_message())
    assert info.value.retryable


@pytest.mark.parametrize("smtp_server", [{"reply": "554 5.7.1 rejected"}], indirect=True)
def test_permanent_refusal_is_final(tmp_path: Path, smtp_server: Server) -> None:
    with pytest.raises(DeliveryError, match="554") as info:
        open_channel(tmp_path, port=smtp_server.port).deliver(make_message())
    assert not info.value.retryable


def test_starttls_required_but_not_offered_is_final(tmp_path: Path, smtp_server: Server) -> None:
    with pytest.raises(DeliveryError, match="does not offer STARTTLS") as info:
        open_channel(tmp_path, port=smtp_server.port, security="starttls").deliver(make_message())
    assert not info.value.retryable
    assert smtp_server.handler.envelopes == []


def test_connection_refused_is_retryable(tmp_path: Path) -> None:
    with pytest.raises(DeliveryError, match="cannot connect") as info:
        open_channel(tmp_path, port=free_port()).deliver(make_message())
    assert info.value.retryable


def test_silent_server_times_out_and_is_retryable(tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts (kernel backlog) but never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        started = time.monotonic()
        with pytest.raises(DeliveryError, match="no answer within 0.5 s") as info:
            open_channel(tmp_path, port=listener.getsockname()[1], timeout=0.5).deliver(make_message())
        assert time.monotonic() - started < 2
    assert info.value.retryable


def test_params_defaults_and_checks(tmp_path: Path) -> None:
    params, problems = parse(EmailParams, {"host": "smtp.example.com", "sender": "a@example.com", "to": "b@example.com"}, ParseContext())
    assert problems == [] and params is not None
    assert (params.security, params.port, params.timeout, params.html, params.tls_verify) == ("starttls", None, 30.0, True, True)
    assert params.to == ("b@example.com",) and params.cc == () and params.subject_prefix == "[targetwatch]"

    _, problems = parse(
        EmailParams,
        {"host": "h", "sender": "not an address", "to": [], "username": "u", "security": "tsl"},
        ParseContext(file="t.toml"),
        ("channels", "mail"),
    )
    text = "\n".join(str(p) for p in problems)
    assert "did you mean 'tls'" in text
    _, problems = parse(EmailParams, {"host": "h", "sender": "not an address", "to": [], "username": "u"}, ParseContext())
    text = "\n".join(str(p) for p in problems)
    assert "sender: expected an email address" in text
    assert "to: expected at least one recipient" in text
    assert "username: a username needs a password" in text
    _, problems = parse(EmailParams, {"host": "h", "sender": "a@example.com", "to": "Ops\r\nBcc: x@evil.example <b@example.com>"}, ParseContext())
    assert len(problems) == 1 and "to: expected an email address" in str(problems[0])


def test_unreadable_password_file_fails_at_open(tmp_path: Path) -> None:
    params = EmailParams(host="h", sender="a@example.com", to=("b@example.com",), username="u", password_file="nope.pw")
    with pytest.raises(ConfigError, match="channels.mail.password_file") as info:
        EmailChannel().open(params, ChannelContext("mail", tmp_path))
    assert str(tmp_path / "nope.pw") in str(info.value)


# --- TLS: a self-signed certificate made with openssl ------------------------------------


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: cannot make a self-signed certificate for the TLS tests")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[Server]:
    handler = Collector()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=server_tls(certificate), require_starttls=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        yield Server(handler, port)
    finally:
        controller.stop()


def test_starttls_with_login_verified_against_ca_file(tmp_path: Path, starttls_server: Server, certificate: tuple[Path, Path]) -> None:
    notifier = open_channel(
        tmp_path, port=starttls_server.port, security="starttls", ca_file=str(certificate[0]), username=USER, password=PASSWORD
    )
    notifier.deliver(make_message())
    assert starttls_server.handler.parsed()["Subject"] == f"[targetwatch] {SUBJECT}"


def test_starttls_without_verification(tmp_path: Path, starttls_server: Server) -> None:
    open_channel(tmp_path, port=starttls_server.port, security="starttls", tls_verify=False).deliver(make_message())
    assert len(starttls_server.handler.envelopes) == 1


def test_self_signed_certificate_is_refused_by_default(tmp_path: Path, starttls_server: Server) -> None:
    with pytest.raises(DeliveryError, match="does not verify") as info:
        open_channel(tmp_path, port=starttls_server.port, security="starttls", username=USER, password=PASSWORD).deliver(make_message())
    assert not info.value.retryable and PASSWORD not in str(info.value)
    assert starttls_server.handler.envelopes == []


def test_implicit_tls(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=server_tls(certificate))
    controller.start()
    try:
        open_channel(tmp_path, port=port, security="tls", ca_file=str(certificate[0])).deliver(make_message())
    finally:
        controller.stop()
    assert handler.parsed()["Message-ID"] == message_id(make_message().key)
