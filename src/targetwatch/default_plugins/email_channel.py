"""The ``email`` channel: notifications sent by SMTP."""

from __future__ import annotations

import base64
import email.policy
import email.utils
import hashlib
import html
import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from typing import Any

import attrs

from ..alerts import Message
from ..hookspecs import hookimpl
from ..notify import ChannelContext, DeliveryError, Notifier, NotifierType, Seconds
from ..params import Choice, Flag, Integer, ListOf, Text, param
from ..secrets import masked_repr, redact, resolve_secret

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def _address_problem(key: str, value: str) -> tuple[str, str] | None:
    _, address = email.utils.parseaddr(value)
    if "\r" in value or "\n" in value or not _ADDRESS.match(address):
        return key, f"expected an email address such as 'ops@example.com' or 'Ops <ops@example.com>', found {value!r}"
    return None


@attrs.frozen(repr=False)
class EmailParams:
    """Parameters of the ``email`` channel (its repr never shows the password)."""

    host: str = param(Text(), doc="The SMTP server's host name.")
    port: int | None = param(
        Integer(minimum=1), default=None, doc="The SMTP server's port; by default 587 with starttls, 465 with tls, 25 with none."
    )
    security: str = param(
        Choice("starttls", "tls", "none"),
        default="starttls",
        doc="starttls: upgrade a plain connection with STARTTLS (refused if the server does not offer it); tls: TLS from the start (SMTPS); none: no encryption (only for a relay on the same host or network).",
    )
    tls_verify: bool = param(
        Flag(), default=True, doc="Check the server's certificate and host name. Turn off only for a test server with a self-signed certificate; prefer ca_file."
    )
    ca_file: str | None = param(
        Text(), default=None, doc="A PEM file of CA certificates to trust instead of the system's (e.g. an internal CA); relative to the config file's folder."
    )
    username: str | None = param(Text(), default=None, doc="The login name, if the server requires authentication.")
    password: str | None = param(
        Text(), default=None, doc='The password; write "${SMTP_PASSWORD}" to take it from the environment. Never shown in output or errors.'
    )
    password_file: str | None = param(
        Text(), default=None, doc="A file holding the password (one trailing newline is ignored); instead of password."
    )
    sender: str = param(Text(), doc="The From address, e.g. 'targetwatch <alerts@example.com>'.")
    to: tuple[str, ...] = param(ListOf(Text()), doc="The recipients' addresses.")
    cc: tuple[str, ...] = param(ListOf(Text()), default=(), doc="Addresses to copy.")
    subject_prefix: str = param(
        Text(nonempty=False), default="[targetwatch]", doc="Text put before each subject (with a space); empty for none."
    )
    timeout: float = param(Seconds(), default=30.0, doc="Seconds to wait for the server at each step before giving up (retried later).")
    html: bool = param(
        Flag(), default=True, doc="Send an HTML part (the text and a table of the events) beside the plain text."
    )

    def __repr__(self) -> str:
        return masked_repr(self, ("password",))

    def problems(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        checks = [_address_problem("sender", self.sender)]
        checks += [_address_problem("to", a) for a in self.to] + [_address_problem("cc", a) for a in self.cc]
        out += [c for c in checks if c is not None]
        if not self.to:
            out.append(("to", "expected at least one recipient"))
        if self.password is not None and self.password_file is not None:
            out.append(("password", "give either 'password' or 'password_file', not both"))
        has_password = self.password is not None or self.password_file is not None
        if self.username is not None and not has_password:
            out.append(("username", "a username needs a password or password_file"))
        if has_password and self.username is None:
            out.append(("username", "missing: a password is only used together with a username"))
        if self.ca_file is not None and self.security == "none":
            out.append(("ca_file", "has no effect with security = 'none'"))
        return out


class EmailChannel(NotifierType):
    """Sends each message as one email through an SMTP server.

    What you can rely on:

    - Headers: ``From`` = ``sender``, ``To``, ``Cc``, ``Subject`` = ``subject_prefix`` + the
      message's subject (non-ASCII text such as Chinese is encoded per RFC 2047 and arrives
      intact), ``Date`` = when the notification was created, and a deterministic
      ``Message-ID: <KEY@targetwatch>`` from the message's idempotency key (a key with
      characters not allowed there is replaced by its SHA-256 hex digest). A repeat after a
      crash carries the same Message-ID and Date, so mail clients and archives can drop it.
    - The body is the message's text as ``text/plain; charset=utf-8``; with ``html`` (the
      default) it is ``multipart/alternative`` with an HTML part showing the text and a table
      of the events (status, rule, labels, value, target, period, message), every value
      HTML-escaped.
    - Security: ``starttls`` (default, port 587) refuses to go on if the server does not offer
      STARTTLS; ``tls`` (port 465) speaks TLS from the start; ``none`` (port 25) sends in the
      clear. Certificates are checked with the system's CAs (or ``ca_file``) unless
      ``tls_verify = false``.
    - Login happens when ``username`` is set, with the password from ``password`` or
      ``password_file`` (read when the channel opens). The password never appears in errors.
    - Errors (:class:`~targetwatch.notify.DeliveryError`): a refused or lost connection, a
      timeout, or a 4xx reply (temporary) is retryable; rejected credentials, a 5xx reply, a
      server without STARTTLS or AUTH, or a certificate that does not verify is not.
    - If the server accepts some recipients and refuses others, the message counts as
      delivered (resending would duplicate it for the others) and the refused addresses are
      logged as a warning on the ``targetwatch.default_plugins.email_channel`` logger.
    """

    name = "email"
    summary = "sends each notification as an email by SMTP (STARTTLS or TLS, optional login)"
    Params = EmailParams

    def open(self, params: EmailParams, context: ChannelContext) -> Notifier:
        password = resolve_secret(
            params.password, params.password_file, base_dir=context.base_dir, key="password", where=f"channels.{context.name}"
        )
        tls: ssl.SSLContext | None = None
        if params.security != "none":
            cafile = str(context.path(params.ca_file)) if params.ca_file else None
            try:
                tls = ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError) as exc:
                from ..errors import ConfigError, Problem

                reason = getattr(exc, "strerror", None) or type(exc).__name__
                raise ConfigError([Problem(f"cannot load CA certificates from {cafile!r}: {reason}", key=f"channels.{context.name}.ca_file")]) from None
            if not params.tls_verify:
                tls.check_hostname = False
                tls.verify_mode = ssl.CERT_NONE
        port = params.port or DEFAULT_PORTS[params.security]
        return _EmailNotifier(params, port, password, tls)


@attrs.frozen
class _EmailNotifier:
    params: EmailParams
    port: int
    password: str | None = attrs.field(repr=False)
    tls: ssl.SSLContext | None = attrs.field(repr=False)

    @property
    def where(self) -> str:
        return f"SMTP {self.params.host}:{self.port}"

    def deliver(self, message: Message) -> None:
        mail = build_email(message, self.params)
        recipients = [email.utils.parseaddr(a)[1] for a in (*self.params.to, *self.params.cc)]
        sender = email.utils.parseaddr(self.params.sender)[1]
        try:
            refused = self._send(mail, sender, recipients)
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise self._error("login refused", exc, exc.smtp_code) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise self._error("the server does not support this", exc, None, retryable=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            retryable = any(400 <= c < 500 for c in codes)
            detail = "; ".join(f"{addr}: {code} {_text(reply)}" for addr, (code, reply) in exc.recipients.items())
            raise DeliveryError(self._redact(f"{self.where}: every recipient was refused ({detail})"), retryable) from None
        except smtplib.SMTPResponseException as exc:
            raise self._error("refused", exc, exc.smtp_code) from None
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, TimeoutError):  # smtplib wraps a read timeout
                raise DeliveryError(f"{self.where}: no answer within {self.params.timeout:g} s", True) from None
            raise self._error("the server closed the connection", exc, None, retryable=True) from None
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or "certificate verify failed"
            raise DeliveryError(
                f"{self.where}: the server's certificate does not verify ({reason}); set ca_file, or tls_verify = false for a test server",
                False,
            ) from None
        except ssl.SSLError as exc:
            raise DeliveryError(
                f"{self.where}: TLS failed ({exc.reason or type(exc).__name__}); check security ({self.params.security!r}) and port",
                False,
            ) from None
        except TimeoutError:
            raise DeliveryError(f"{self.where}: no answer within {self.params.timeout:g} s", True) from None
        except smtplib.SMTPException as exc:
            raise self._error("failed", exc, None, retryable=True) from None
        except OSError as exc:
            raise DeliveryError(f"{self.where}: cannot connect: {exc.strerror or type(exc).__name__}", True) from None
        if refused:
            log.warning(
                "%s accepted message %s but refused %s",
                self.where,
                message.key,
                ", ".join(f"{addr} ({code})" for addr, (code, _) in refused.items()),
            )

    def _send(self, mail: EmailMessage, sender: str, recipients: Sequence[str]) -> Mapping[str, tuple[int, bytes]]:
        p = self.params
        client: smtplib.SMTP
        if p.security == "tls":
            client = smtplib.SMTP_SSL(p.host, self.port, timeout=p.timeout, context=self.tls)
        else:
            client = smtplib.SMTP(p.host, self.port, timeout=p.timeout)
        try:
            client.ehlo()
            if p.security == "starttls":
                if not client.has_extn("starttls"):
                    raise DeliveryError(f"{self.where}: the server does not offer STARTTLS; set security = 'tls' or 'none' if that is intended", False)
                client.starttls(context=self.tls)
                client.ehlo()
            if p.username is not None and self.password is not None:
                _login(client, p.username, self.password)
            refused = client.send_message(mail, from_addr=sender, to_addrs=list(recipients))
        except BaseException:
            client.close()
            raise
        # The server has the message: a failing QUIT must not turn that into a retry (a duplicate).
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
        return refused

    def _redact(self, text: str) -> str:
        return redact(text, [self.password])

    def _error(self, what: str, exc: Exception, code: int | None, *, retryable: bool | None = None) -> DeliveryError:
        reply = ""
        if isinstance(exc, smtplib.SMTPResponseException):
            reply = f": {exc.smtp_code} {_text(exc.smtp_error)}"
        elif str(exc):
            reply = f": {exc}"
        if retryable is None:
            retryable = code is not None and 400 <= code < 500
        return DeliveryError(self._redact(f"{self.where}: {what}{reply}"), retryable)


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """Log in; smtplib's own login cannot send non-ASCII credentials, so those go as
    AUTH PLAIN in UTF-8 (RFC 4616)."""
    if username.isascii() and password.isascii():
        client.login(username, password)
        return
    if not client.has_extn("auth") or "PLAIN" not in client.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPNotSupportedError("a non-ASCII username or password needs AUTH PLAIN, which the server does not offer")
    token = base64.b64encode(b"\0" + username.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
    code, reply = client.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def message_id(key: str) -> str:
    """The Message-ID of the mail for idempotency key ``key``: ``<key@targetwatch>``."""
    local = key if _DOT_ATOM.match(key) else hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"<{local}@targetwatch>"


def build_email(message: Message, params: EmailParams) -> EmailMessage:
    """The email for ``message`` (also useful to preview what the channel sends)."""
    mail = EmailMessage(policy=email.policy.SMTP)
    subject = f"{params.subject_prefix} {message.subject}".strip() if params.subject_prefix else message.subject
    mail["Subject"] = " ".join(subject.split())  # a header must not carry line breaks
    mail["From"] = params.sender
    mail["To"] = ", ".join(params.to)
    if params.cc:
        mail["Cc"] = ", ".join(params.cc)
    mail["Date"] = email.utils.format_datetime(message.created_at)
    mail["Message-ID"] = message_id(message.key)
    mail["X-Targetwatch-Key"] = message.key
    # base64, not 8bit: a server without 8BITMIME must get 7-bit clean lines.
    mail.set_content(message.text, charset="utf-8", cte="base64")
    if params.html:
        mail.add_alternative(render_html(message), subtype="html", charset="utf-8", cte="base64")
    return mail


_COLUMNS: tuple[tuple[str, str], ...] = (
    ("status", "Status"), ("title", "Rule"), ("labels", "Labels"), ("value", "Value"),
    ("target", "Target"), ("period", "Period"), ("message", "Message"),
)


def render_html(message: Message) -> str:
    """The HTML part: the text in a ``<pre>`` and a table of the events, all values escaped."""
    esc = html.escape
    rows = []
    for event in message.events:
        cells = "".join(f"<td>{esc(_cell(event, field))}</td>" for field, _ in _COLUMNS)
        rows.append(f"<tr>{cells}</tr>")
    head = "".join(f"<th>{esc(title)}</th>" for _, title in _COLUMNS)
    table = ""
    if rows:
        table = (
            '<table border="1" cellpadding="4" cellspacing="0" style="border-collapse:collapse">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    more = f"<p>… and {message.omitted} more not shown.</p>" if message.omitted else ""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f"<h3>{esc(message.subject)}</h3><pre>{esc(message.text)}</pre>{table}{more}</body></html>\n"
    )


def _cell(event: Mapping[str, Any], field: str) -> str:
    value = event.get(field)
    if field == "title" and not value:
        value = event.get("rule")
    if field in ("value", "target") and value is not None and event.get("unit"):
        value = f"{value} {event['unit']}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return "" if value is None else str(value)


@hookimpl
def register_notifiers(register: Callable[[NotifierType], None]) -> None:
    register(EmailChannel())
