"""The ``apprise`` notification channel: one targetwatch channel, any of Apprise's services
(DingTalk, WeCom, Feishu/Lark, Telegram, Slack, email and about a hundred more).

targetwatch keeps what it is good at (the outbox: retries with back-off, giving up, idempotency
keys) and Apprise does the talking: Apprise's own retries are switched off, and a failed
delivery is raised as a retryable :class:`~targetwatch.notify.DeliveryError` for the outbox to
retry on a later run.

Apprise is imported only when a channel of this type is checked or opened, so installing this
plugin costs a ``targetwatch`` run that does not use it nothing.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import attrs

from targetwatch import hookimpl
from targetwatch.errors import ConfigError, Problem
from targetwatch.notify import ChannelContext, DeliveryError, Notifier, NotifierType, Seconds
from targetwatch.params import Choice, ListOf, Text, param
from targetwatch.secrets import masked_repr, redact, resolve_secret

if TYPE_CHECKING:
    import apprise

    from targetwatch.alerts import Message

__all__ = ["HEADER_SCHEMES", "IDEMPOTENCY_HEADER", "AppriseChannel", "AppriseParams", "check_url"]

#: Apprise's generic HTTP services, which take extra request headers as ``+Name=value``
#: query arguments: only these can carry the idempotency key to the receiver.
HEADER_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
FORMATS = ("text", "markdown", "html")
_SHORT = 6  # a user, a host token or a query value at least this long is treated as a secret
_LONG = 8  # path segments and words in values at least this long are treated as secrets
_HOSTNAME = re.compile(r"^(localhost|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")
_SNIPPET = 200


@attrs.frozen(repr=False)
class AppriseParams:
    """Parameters of the ``apprise`` channel (its repr never shows a URL)."""

    urls: tuple[str, ...] | None = param(
        ListOf(Text()),
        default=None,
        doc="Apprise URLs to send each notification to, e.g. \"dingtalk://${DINGTALK_TOKEN}/\", "
        "\"wecombot://${WECOM_KEY}\", \"feishu://${FEISHU_TOKEN}\", \"tgram://${BOT_TOKEN}/${CHAT_ID}\", "
        "\"json://host/path\". Write secrets as ${ENV} (or use urls_file); only a privacy-safe form of a URL appears in errors.",
    )
    urls_file: str | None = param(
        Text(),
        default=None,
        doc="A file holding the Apprise URLs, one per line (blank lines and lines starting with # are ignored), e.g. a Docker or systemd secret; instead of urls.",
    )
    format: str = param(
        Choice(*FORMATS),
        default="text",
        doc="How Apprise reads the message text: text, markdown or html (it converts for services that need another).",
    )
    timeout: float = param(
        Seconds(),
        default=10.0,
        doc="Seconds to wait for each service (to connect, and for each read) before giving up; retried by targetwatch later.",
    )

    def __repr__(self) -> str:
        return masked_repr(self, ("urls",))

    def problems(self) -> list[tuple[str, str]]:
        if (self.urls is None) == (self.urls_file is None):
            return [("urls", "give either 'urls' or 'urls_file' (one of them, not both)")]
        if self.urls is not None and not self.urls:
            return [("urls", "expected at least one Apprise URL, found an empty list")]
        out = []
        for index, url in enumerate(self.urls or (), start=1):
            found = check_url(url)
            if found:
                out.append(("urls", f"item {index}: {found}"))
        return out


def check_url(url: str) -> str | None:
    """What is wrong with ``url`` as an Apprise URL for this channel, or ``None``.

    The text names the URL's scheme and never its other parts (they may be secrets).
    """
    import apprise

    scheme = url.split("://", 1)[0].strip().lower() if "://" in url else ""
    if not scheme:
        return "expected an Apprise URL such as 'dingtalk://TOKEN/' or 'json://host/path', found text without '://'"
    known = _schemes()
    if scheme not in known:
        close = difflib.get_close_matches(scheme, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown Apprise service {scheme + '://'!r}{hint}"
    with _apprise_logs(_secrets_of(url)) as logs:
        service = apprise.Apprise.instantiate(url)
    if service is None:
        said = f" Apprise says: {' '.join(logs[0].split())[:_SNIPPET]}" if logs else ""
        return (
            f"Apprise cannot use this {scheme}:// URL: a token or another required part is missing or malformed "
            f"(each service's URL form is in Apprise's documentation).{said}"
        )
    if scheme in HEADER_SCHEMES and IDEMPOTENCY_HEADER.lower() in {k.lower() for k in _header_args(url)}:
        return f"the {IDEMPOTENCY_HEADER} header is set by targetwatch (the message's key) and cannot be given"
    return None


def _schemes() -> frozenset[str]:
    import apprise

    manager: Any = apprise.NotificationManager  # partly untyped in Apprise
    return frozenset(str(s).lower() for s in manager().schemas())


def _header_args(url: str) -> list[str]:
    query = urlsplit(url).query
    return [unquote(pair.split("=", 1)[0])[1:] for pair in query.split("&") if unquote(pair).startswith("+")]


def _secrets_of(url: str, shown: str | None = None) -> tuple[str, ...]:
    """Every part of ``url`` that may be a secret and must not appear in a text we show: the
    password; the user, the host unless it is a host name (Apprise puts tokens there:
    ``dingtalk://TOKEN``), each query value (header values such as
    ``+X-Api-Key=Bearer%20TOKEN`` included) and their long words, when at least
    :data:`_SHORT` characters long; and path segments of at least :data:`_LONG` characters.

    Whether the host is a host name is Apprise's call when ``shown``, the service's
    privacy-safe URL, is given: a host Apprise shows there in full is not a secret. Shorter
    parts (``retry=3``, ``method=POST``) are left alone: replacing them wherever they occur
    would garble the text without hiding anything worth hiding.
    """
    parts = urlsplit(url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    host = re.sub(r":\d+$", "", hostport)
    hidden = [password, unquote(password)]
    candidates = [user, unquote(user)]
    public = _HOSTNAME.match(host) if shown is None else f"//{host}" in shown or f"@{host}" in shown
    if host and not public:
        candidates += [hostport, host, unquote(host), *re.split(r"[:/]", unquote(host))]
    for pair in parts.query.split("&"):
        _, _, value = pair.partition("=")
        for form in (value, unquote(value), unquote(value.replace("+", " "))):
            candidates += [form, *(word for word in form.split() if len(word) >= _LONG)]
    candidates += [seg for seg in parts.path.split("/") if len(seg) >= _LONG]
    candidates += [unquote(seg) for seg in parts.path.split("/") if len(seg) >= _LONG]
    hidden += [c for c in candidates if len(c) >= _SHORT]
    return tuple(sorted({h for h in hidden if h}, key=len, reverse=True))


@contextlib.contextmanager
def _apprise_logs(secrets: Sequence[str]) -> Iterator[list[str]]:
    """While the block runs, scrub ``secrets`` from every Apprise log record and take its
    warnings and errors for ourselves: they become the reason of the
    :class:`~targetwatch.notify.DeliveryError` (which targetwatch reports once) instead of
    a second, differently worded line on stderr. Debug and info records go on, scrubbed."""
    found: list[str] = []

    def scrub(record: logging.LogRecord) -> bool:
        text = redact(record.getMessage(), secrets)
        record.msg, record.args = text, ()
        if record.levelno >= logging.WARNING:
            found.append(text)
            return False
        return True

    logger = logging.getLogger("apprise")
    logger.addFilter(scrub)
    try:
        yield found
    finally:
        logger.removeFilter(scrub)


def with_header(url: str, name: str, value: str) -> str:
    """``url`` with Apprise's ``+Name=value`` header argument added to its query."""
    base, hash_, fragment = url.partition("#")
    return f"{base}{'&' if '?' in base else '?'}+{name}={value}{hash_}{fragment}"


def notify_type(message: Message) -> str:
    """Apprise's notification type for ``message``: failure when an event is a BREACH or an
    ERROR, warning for WARN or UNKNOWN, success when every event is a resolution."""
    events = [e for e in message.events if isinstance(e, Mapping)]
    live = [e for e in events if e.get("kind") != "resolved"]
    statuses = {str(e.get("status")) for e in live}
    if statuses & {"BREACH", "ERROR"}:
        return "failure"
    if statuses & {"WARN", "UNKNOWN"}:
        return "warning"
    return "success" if events and not live else "info"


def _privacy_url(service: object) -> str:
    """Apprise's privacy-safe form of a service's URL (tokens shortened, passwords masked),
    without the query, which may hold header values Apprise does not mask."""
    untyped: Any = service  # Apprise's url() is untyped
    return str(untyped.url(privacy=True)).split("?", 1)[0]


@attrs.frozen
class _Target:
    url: str = attrs.field(repr=False)
    scheme: str
    label: str
    hidden: tuple[str, ...] = attrs.field(repr=False)


class AppriseChannel(NotifierType):
    """Sends each notification through Apprise to every URL of the channel.

    What you can rely on:

    - The message's subject is the title and its text the body (``format`` says how Apprise
      reads it). Apprise picks the notification type from the message: failure for a BREACH
      or ERROR, warning for WARN or UNKNOWN, success for a digest of resolutions.
    - Retries are targetwatch's: Apprise's own are switched off (a ``retry=`` in a URL is
      overridden). When Apprise reports a failure for any URL, ``deliver`` raises a retryable
      :class:`~targetwatch.notify.DeliveryError` and the outbox tries again on later runs with
      back-off. Every URL is tried each time; a channel with several URLs is delivered as a
      unit, so the URLs that accepted a message get it again when another fails. Give each
      service its own channel to keep them apart.
    - Idempotency: to ``json://``, ``jsons://``, ``form://``, ``forms://``, ``xml://`` and
      ``xmls://`` URLs the request carries the header ``Idempotency-Key: <message key>``, the
      same on every retry, so the receiver can drop a repeat. Other services (chat bots,
      email) have no way to carry it: a crash between sending and marking sent may show a
      message twice there.
    - Error text names each failing URL in Apprise's privacy-safe form (tokens shortened,
      passwords masked, no query) with Apprise's reason; the URL's secret parts (password,
      tokens, query values, header values, long path segments) are removed from it, and from
      every Apprise log record written while delivering.
    """

    name = "apprise"
    summary = "sends each notification through Apprise (DingTalk, WeCom, Feishu, Telegram, Slack, email and more)"
    Params = AppriseParams

    def open(self, params: AppriseParams, context: ChannelContext) -> Notifier:
        import apprise

        where = f"channels.{context.name}"
        urls = list(params.urls or ())
        if params.urls_file is not None:
            text = resolve_secret(None, params.urls_file, base_dir=context.base_dir, key="urls", where=where) or ""
            problems = []
            for number, line in enumerate(text.splitlines(), start=1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                found = check_url(line)
                if found:
                    problems.append(Problem(f"line {number} of {params.urls_file!r}: {found}", key=f"{where}.urls_file"))
                urls.append(line)
            if not urls and not problems:
                problems.append(Problem(f"{params.urls_file!r} holds no Apprise URL", key=f"{where}.urls_file"))
            if problems:
                raise ConfigError(problems)
        asset = apprise.AppriseAsset(app_id="targetwatch", storage_mode="memory")
        targets = []
        for url in urls:
            with _apprise_logs(_secrets_of(url)):
                service = apprise.Apprise.instantiate(url, asset=asset)
            scheme = url.split("://", 1)[0].lower()
            shown = _privacy_url(service) if service is not None else f"{scheme}://…"
            hidden = _secrets_of(url, shown)
            targets.append(_Target(url, scheme, redact(shown, hidden), hidden))
        return _AppriseNotifier(params, tuple(targets), asset)


@attrs.frozen
class _AppriseNotifier:
    params: AppriseParams
    targets: tuple[_Target, ...]
    asset: apprise.AppriseAsset = attrs.field(repr=False)

    def deliver(self, message: Message) -> None:
        failures = [failure for target in self.targets if (failure := self._send(target, message))]
        if failures:
            raise DeliveryError("; ".join(failures), True)

    def _send(self, target: _Target, message: Message) -> str | None:
        """Send to one URL; ``None`` when Apprise reports success, else why not (redacted)."""
        import apprise

        url = target.url
        if target.scheme in HEADER_SCHEMES:
            url = with_header(url, IDEMPOTENCY_HEADER, message.key)
        try:
            with _apprise_logs(target.hidden) as logs:
                service = apprise.Apprise.instantiate(url, asset=self.asset)
                if service is None:
                    return f"apprise {target.label}: Apprise could not load the URL"
                if hasattr(service, "retry"):
                    service.retry = 0  # the outbox retries, with back-off, across runs
                service.socket_connect_timeout = service.socket_read_timeout = self.params.timeout
                sender = apprise.Apprise(asset=self.asset)
                sender.add(service)
                ok = sender.notify(
                    body=message.text, title=message.subject, notify_type=notify_type(message),
                    body_format=self.params.format,
                )
        except Exception as exc:  # noqa: BLE001 - a bug in a service plugin is a failed delivery, not a crash
            return redact(f"apprise {target.label}: {type(exc).__name__}: {exc}", target.hidden)
        if ok:
            return None
        reason = " ".join(logs[-1].split())[:_SNIPPET] if logs else "Apprise reported a failure"
        return redact(f"apprise {target.label}: {reason}", target.hidden)


@hookimpl
def register_notifiers(register: Callable[[NotifierType], None]) -> None:
    register(AppriseChannel())
