"""The ``webhook`` channel: notifications POSTed as JSON to a URL."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

from .. import __version__
from ..alerts import Message
from ..hookspecs import hookimpl
from ..notify import ChannelContext, DeliveryError, Notifier, NotifierType, Seconds
from ..params import Choice, StrMapping, Text, param
from ..secrets import masked_repr, redact, resolve_secret

SIGNATURE_HEADER = "X-Targetwatch-Signature"
#: Placeholders a ``body`` template may use. Text fields are inserted JSON-string-escaped
#: (write them inside quotes); ``count`` and ``omitted`` are numbers; ``events`` is a JSON array.
PLACEHOLDERS = ("subject", "text", "key", "channel", "count", "omitted", "as_of", "created_at", "events")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: Headers the channel sets itself and a config may not replace.
_RESERVED = {"idempotency-key", SIGNATURE_HEADER.lower(), "content-length", "host", "transfer-encoding"}
_RETRYABLE_STATUS = {408, 425, 429}
_SNIPPET = 200
_LONG = 8  # words at least this long in header values and URL paths are treated as secrets


@attrs.frozen(repr=False)
class WebhookParams:
    """Parameters of the ``webhook`` channel (its repr never shows the URL, header values or the secret)."""

    url: str = param(
        Text(),
        doc='The http:// or https:// URL to send to. A token in it may come from the environment ("${HOOK_URL}"); only scheme, host and port appear in errors.',
    )
    method: str = param(Choice("POST", "PUT", "PATCH"), default="POST", doc="The HTTP method.")
    timeout: float = param(
        Seconds(), default=10.0, doc="Seconds to wait for the receiver (to connect, and for each read) before giving up; retried later."
    )
    headers: Mapping[str, str] | None = param(
        StrMapping(),
        default=None,
        doc='Extra request headers, e.g. { Authorization = "Bearer ${HOOK_TOKEN}" }. Values are treated as secrets: never shown in errors. May replace Content-Type and User-Agent.',
    )
    secret: str | None = param(
        Text(),
        default=None,
        doc=f'A key to sign each request: header {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the exact body bytes>. Write "${{HOOK_SECRET}}" to take it from the environment.',
    )
    secret_file: str | None = param(Text(), default=None, doc="A file holding the signing key (one trailing newline is ignored); instead of secret.")
    body: str | None = param(
        Text(),
        default=None,
        doc="A JSON template for receivers that want another shape, e.g. "
        '\'{"msgtype": "text", "text": {"content": "{text}"}}\'. Placeholders: '
        + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        + ". Text is inserted JSON-escaped (put it inside quotes); {count} and {omitted} are numbers; {events} is a JSON array. "
        "Default: the whole message as JSON.",
    )

    def __repr__(self) -> str:
        return masked_repr(self, ("url", "headers", "secret"))

    def problems(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        parts = urlsplit(self.url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            out.append(("url", "expected a URL starting with http:// or https:// and naming a host"))
        for name, value in (self.headers or {}).items():
            if not _TOKEN.match(name):
                out.append(("headers", f"{name!r} is not a valid header name"))
            elif name.lower() in _RESERVED:
                out.append(("headers", f"{name!r} is set by targetwatch and cannot be replaced"))
            if "\r" in value or "\n" in value:
                out.append(("headers", f"the value of {name!r} contains a line break"))
        if self.secret is not None and self.secret_file is not None:
            out.append(("secret", "give either 'secret' or 'secret_file', not both"))
        if self.body is not None:
            out += [("body", p) for p in check_body(self.body)]
        return out


def check_body(template: str) -> list[str]:
    """Problems with a ``body`` template: unknown placeholders, or text that is not JSON once
    filled in with awkward sample values (quotes, line breaks, braces, Chinese)."""
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(template)} - set(PLACEHOLDERS))
    if unknown:
        known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        return [f"unknown placeholder {', '.join('{' + u + '}' for u in unknown)}; expected one of {known}"]
    sample = Message(
        channel='ch "1"', key="k", subject='主题 "quoted" {text}', text='line 1\nline "2" \\ {subject}',
        events=({"rule": "r", "status": "BREACH", "labels": {"district": "田家庵区"}},), omitted=2,
        created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), as_of=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )
    try:
        json.loads(render_body(template, sample))
    except json.JSONDecodeError as exc:
        hint = 'text placeholders belong inside quotes, e.g. "content": "{text}"'
        return [f"the template is not JSON once filled in ({exc.msg} at column {exc.colno}); {hint}"]
    return []


def render_body(template: str | None, message: Message) -> str:
    """The request body for ``message``: ``message.as_dict()`` as JSON, or ``template`` with
    each placeholder replaced once (inserted data is never read as a template)."""
    if template is None:
        return json.dumps(message.as_dict(), ensure_ascii=False)

    def escaped(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)[1:-1]

    values = {
        "subject": escaped(message.subject), "text": escaped(message.text), "key": escaped(message.key),
        "channel": escaped(message.channel), "count": str(len(message.events)), "omitted": str(message.omitted),
        "as_of": escaped(message.as_of.isoformat()), "created_at": escaped(message.created_at.isoformat()),
        "events": json.dumps([dict(e) for e in message.events], ensure_ascii=False),
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` + hex HMAC-SHA256 of ``body`` keyed by ``secret``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookChannel(NotifierType):
    """Sends each message as an HTTP request with a JSON body.

    What you can rely on:

    - The body is ``Message.as_dict()`` as UTF-8 JSON (``channel``, ``key``, ``subject``,
      ``text``, ``events``, ``omitted``, ``created_at``, ``as_of``), or the ``body`` template
      filled in. Templates are checked when the config loads: an unknown placeholder or a
      template that would not give valid JSON is a config error.
    - Headers: ``Content-Type: application/json; charset=utf-8``, ``Idempotency-Key: <key>``
      (the same on every retry of a message, so the receiver can drop a repeat),
      ``User-Agent: targetwatch/<version>``, then ``headers`` from the config; with ``secret``
      (or ``secret_file``) also ``X-Targetwatch-Signature: sha256=<hex>``, the HMAC-SHA256 of
      the exact body bytes. A receiver checks it by computing the same HMAC over the raw body
      and comparing in constant time.
    - Any 2xx reply means delivered. (Some chat bots, e.g. DingTalk, answer 200 with an error
      code in the body; that counts as delivered.)
    - Errors (:class:`~targetwatch.notify.DeliveryError`): a timeout, a refused or reset
      connection, a failed name lookup, 408, 425, 429 or any 5xx is retryable; any other 4xx,
      a redirect, or a TLS certificate that does not verify is not.
    - Redirects are not followed: urllib would turn a redirected POST into a GET without the
      body (the message lost, yet reported delivered) and forward our headers to whatever host
      the redirect names. Configure the final URL instead.
    - Error text shows the method, ``scheme://host:port``, the status and up to 200
      characters of the reply; never the URL's path or query, a header value or the secret.
    - Proxies are taken from the usual ``https_proxy`` / ``http_proxy`` / ``no_proxy``
      environment variables, as urllib does.
    """

    name = "webhook"
    summary = "sends each notification as JSON in an HTTP POST (signed, templatable, with an Idempotency-Key)"
    Params = WebhookParams

    def open(self, params: WebhookParams, context: ChannelContext) -> Notifier:
        secret = resolve_secret(params.secret, params.secret_file, base_dir=context.base_dir, key="secret", where=f"channels.{context.name}")
        if params.body is not None:
            found = check_body(params.body)
            if found:
                from ..errors import ConfigError, Problem

                raise ConfigError([Problem(p, key=f"channels.{context.name}.body") for p in found])
        parts = urlsplit(params.url.strip())
        origin = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return _WebhookNotifier(params, params.url.strip(), origin, secret, _hidden(params, secret))


def _hidden(params: WebhookParams, secret: str | None) -> tuple[str, ...]:
    """Everything that may be a secret and must not appear in an error: the signing key,
    each header value (and its long words: the token in "Bearer <token>"), and the URL's
    user, password, path, query and each query value or long path segment."""
    parts = urlsplit(params.url.strip())
    hidden = [secret, parts.username, parts.password, parts.query]
    hidden += [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    if len(parts.path) > 1:
        hidden += [parts.path, *(seg for seg in parts.path.split("/") if len(seg) >= _LONG)]
    for value in (params.headers or {}).values():
        hidden += [value, *(word for word in value.split() if len(word) >= _LONG)]
    return tuple(h for h in hidden if h)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


@attrs.frozen
class _WebhookNotifier:
    params: WebhookParams
    url: str = attrs.field(repr=False)
    origin: str
    secret: str | None = attrs.field(repr=False)
    hidden: tuple[str, ...] = attrs.field(repr=False)

    def request(self, message: Message) -> urllib.request.Request:
        """The request :meth:`deliver` sends for ``message``."""
        body = render_body(self.params.body, message).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"targetwatch/{__version__}",
        }
        for name, value in (self.params.headers or {}).items():
            for existing in [h for h in headers if h.lower() == name.lower()]:
                del headers[existing]
            headers[name] = value
        headers["Idempotency-Key"] = message.key
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.secret, body)
        return urllib.request.Request(self.url, data=body, headers=headers, method=self.params.method)

    def deliver(self, message: Message) -> None:
        opener = urllib.request.build_opener(_NoRedirect())
        where = f"{self.params.method} {self.origin}"
        try:
            with opener.open(self.request(message), timeout=self.params.timeout) as response:
                response.read(65536)
        except urllib.error.HTTPError as exc:
            status = exc.code
            try:
                reply = exc.read(2048).decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):
                reply = ""
            finally:
                exc.close()
            reply = " ".join(reply.split())[:_SNIPPET]
            retryable = status in _RETRYABLE_STATUS or status >= 500
            text = f"{where}: HTTP {status} {exc.reason}"
            if 300 <= status < 400:
                location = urlsplit(exc.headers.get("Location", "") or "")
                target = f"{location.scheme}://{location.hostname}" if location.hostname else "elsewhere"
                text += f" (redirected to {target}; redirects are not followed, set url to the final address)"
            if reply:
                text += f": {reply}"
            raise DeliveryError(self._redact(text), retryable) from None
        except urllib.error.URLError as exc:
            raise self._network_error(where, exc.reason) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._network_error(where, exc) from None

    def _network_error(self, where: str, reason: object) -> DeliveryError:
        if isinstance(reason, TimeoutError):
            return DeliveryError(f"{where}: no answer within {self.params.timeout:g} s", True)
        if isinstance(reason, ssl.SSLCertVerificationError):
            return DeliveryError(f"{where}: the certificate does not verify ({reason.verify_message})", False)
        if isinstance(reason, OSError):
            text = reason.strerror or str(reason) or type(reason).__name__
            return DeliveryError(self._redact(f"{where}: {text}"), True)
        text = str(reason) or type(reason).__name__
        return DeliveryError(self._redact(f"{where}: {text}"), True)

    def _redact(self, text: str) -> str:
        return redact(text, self.hidden)


@hookimpl
def register_notifiers(register: Callable[[NotifierType], None]) -> None:
    register(WebhookChannel())
