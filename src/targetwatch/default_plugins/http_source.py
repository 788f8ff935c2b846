"""The ``http`` source: long-format observations as JSON fetched over HTTP(S).

The rows are converted exactly as the file sources convert theirs (:mod:`.tabular`); what
this module adds is the request (method, query, headers, body), retries with back-off, and
finding the array of rows inside the reply.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import attrs

from .. import __version__
from ..errors import SourceError
from ..hookspecs import hookimpl
from ..model import Record
from ..notify import Seconds
from ..params import (
    Choice,
    Integer,
    Invalid,
    ListOf,
    ParamType,
    ParseContext,
    StrMapping,
    Text,
    describe_found,
    param,
)
from ..secrets import masked_repr, redact
from ..source import Source, SourceContext, SourceType
from .tabular import CORE, RowConverter, TabularParams, describe

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_RETRYABLE_STATUS = frozenset({408, 425, 429})
_SNIPPET = 200
_LONG = 8  # words at least this long in header values are treated as secrets on their own


class QueryValues(ParamType):
    """A table of query-string parameters: values are strings or numbers."""

    expected = "a table of names to strings or numbers"

    def convert(self, raw: object, ctx: ParseContext) -> dict[str, str]:
        if not isinstance(raw, Mapping):
            raise Invalid(describe_found(raw))
        out: dict[str, str] = {}
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
                raise Invalid(f"key {key!r}: {describe_found(value)}")
            out[str(key)] = str(value)
        return out

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": {"type": ["string", "number"]}}


@attrs.frozen(repr=False)
class HttpParams(TabularParams):
    """Parameters of the ``http`` source (its repr never shows the URL, headers, query or body)."""

    # Not a parameter of this source (there is no file): redeclared without param() metadata so
    # validation, docs and schema leave it out, while the shared tabular parameters stay shared.
    path: str = attrs.field(default="", kw_only=True)
    url: str = param(
        Text(),
        doc="The http:// or https:// URL of the JSON document. Errors show only scheme://host:port/path, never the query or credentials.",
    )
    method: str = param(Choice("GET", "POST"), default="GET", doc="The HTTP method.")
    query: dict[str, str] | None = param(
        QueryValues(),
        key="params",
        default=None,
        doc='Query-string parameters added to the URL, e.g. { indicator = "edu.expenditure", limit = 1000 }; encoded for you.',
    )
    headers: dict[str, str] | None = param(
        StrMapping(),
        default=None,
        doc='Request headers, e.g. { Authorization = "Bearer ${API_TOKEN}" }. Values are treated as secrets: never shown in errors or logs.',
    )
    body: str | None = param(
        Text(),
        default=None,
        doc='JSON text sent as the body of a POST (Content-Type: application/json), e.g. \'{"query": "edu"}\'.',
    )
    rows: str | None = param(
        Text(),
        default=None,
        doc='Where the array of rows is in the reply: dotted keys and list indexes, e.g. "data.result", '
        '"data.items" or "results[0].rows" (also "results.0.rows"). Default: the reply itself is the array.',
    )
    flatten: tuple[str, ...] = param(
        ListOf(Text()),
        default=("labels",),
        doc='Keys of a row whose object value is merged into the row, so its keys become columns, e.g. ["metric"] '
        'for Prometheus-style rows { "metric": { "district": "A" }, ... }. A key given both ways with different values is a bad row.',
    )
    timeout: float = param(Seconds(), default=30.0, doc="Seconds to wait to connect and for each read before the attempt fails.")
    retries: int = param(
        Integer(minimum=0),
        default=2,
        doc="How many times to try again after a connection error, a timeout, HTTP 408, 425, 429 or any 5xx. Other statuses are not retried.",
    )
    retry_wait: float = param(Seconds(), default=1.0, doc="Seconds before the first retry; doubled before each further one.")

    def __repr__(self) -> str:
        return masked_repr(self, ("url", "query", "headers", "body"))

    def problems(self) -> list[tuple[str, str]]:
        out = super().problems()
        parts = urlsplit(self.url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            out.append(("url", "expected a URL starting with http:// or https:// and naming a host"))
        else:
            try:
                _ = parts.port  # raises for a port that is not a number
            except ValueError:
                out.append(("url", "expected a port number after the host"))
        for name, value in (self.headers or {}).items():
            if not _TOKEN.match(name):
                out.append(("headers", f"{name!r} is not a valid header name"))
            if "\r" in value or "\n" in value:
                out.append(("headers", f"the value of {name!r} contains a line break"))
        if self.body is not None:
            if self.method != "POST":
                out.append(("body", 'a body is sent only with method = "POST"'))
            try:
                json.loads(self.body)
            except json.JSONDecodeError as exc:
                out.append(("body", f"expected JSON text, found text that is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"))
        if self.rows is not None and steps(self.rows) is None:
            out.append(("rows", f'expected dotted keys and list indexes such as "data.result" or "items[0].rows", found {self.rows!r}'))
        return out


def steps(path: str) -> list[str | int] | None:
    """The steps of a ``rows`` path: ``data.items[2].x`` is ``["data", "items", 2, "x"]``
    (``None`` when it is not such a path). A bare number (``items.2``) stays text: it indexes
    a list, or is a key of an object."""
    out: list[str | int] = []
    for part in path.strip().split("."):
        if not part:
            return None
        pos = 0
        for match in _STEP.finditer(part):
            if match.start() != pos or (match.group(1) is not None and pos):
                return None
            out.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
            pos = match.end()
        if pos != len(part):
            return None
    return out


def safe_url(url: str) -> str:
    """``scheme://host:port/path`` of ``url``: no user, password, query or fragment."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class HttpSource(SourceType):
    """Fetches a JSON document over HTTP(S) and reads long-format rows from it.

    What you can rely on:

    - One request per run (plus retries), made when the data is first read. The URL is
      ``url`` with ``params`` added to its query string; headers ``Accept: application/json``,
      ``User-Agent: targetwatch/<version>``, then ``headers`` (which may replace those);
      a POST sends ``body`` with ``Content-Type: application/json; charset=utf-8``. A user
      and password written in the URL (``https://user:pw@host/...``) are sent as HTTP Basic
      authentication (an ``Authorization`` in ``headers`` takes precedence).
    - The rows are the reply itself, or the array at ``rows`` (``data.result``,
      ``items[0].rows``). Each row is an object converted as the ``json`` source converts
      rows: ``indicator``, ``period`` and ``value`` keys unless renamed with ``columns``, every
      other key a label (unless ignored), exact decimals, ``null`` or ``""`` meaning not
      reported. Objects under the keys in ``flatten`` (default ``labels``) are merged into
      their row first.
    - A bad row is located by its index path, zero-based as in jq:
      ``source 'api': https://host:443/v1/obs: data.result[3]: column 'value': expected a number ..., found 'n/a'``;
      with ``on_bad_row = "skip"`` it is skipped and counted instead.
    - Retried (``retries`` times, waiting ``retry_wait`` seconds, then twice that, ...): a
      refused or reset connection, a failed name lookup, a timeout, HTTP 408, 425, 429 and
      any 5xx. Not retried: any other status, a certificate that does not verify, a reply that
      is not JSON or not the expected shape.
    - Redirects are not followed (they would carry the headers, tokens included, to whatever
      host they name): a redirect is an error naming where it points; configure that URL.
    - Errors name the source and ``scheme://host:port/path`` and say what was expected and
      what was found: the HTTP status with the start of the reply, the line and column of
      invalid JSON, the keys found where a ``rows`` key is missing. They never show the query
      string, credentials in the URL, header values or the body.
    """

    name = "http"
    summary = "long-format rows from a JSON document fetched over HTTP(S), with retries"
    Params = HttpParams

    def open(self, params: HttpParams, context: SourceContext) -> Source:
        url = params.url.strip()
        if params.query:
            url += ("&" if urlsplit(url).query else "?") + urlencode(params.query)
        parts = urlsplit(url)
        basic = None
        if parts.username is not None:
            # urllib cannot send credentials written in the URL: send them as Basic auth.
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            basic = "Basic " + base64.b64encode(pair).decode("ascii")
            url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        hidden = _hidden(params, params.url.strip()) + _hidden(params, url) + ((basic,) if basic else ())
        return _HttpReader(params, context, url, safe_url(url), hidden, basic)


def _hidden(params: HttpParams, url: str) -> tuple[str, ...]:
    """Everything that may be a secret: header values (and their long words: the token in
    "Bearer <token>"), credentials in the URL, its query string and each long query value, the body."""
    parts = urlsplit(url)
    hidden = [parts.username, parts.password, parts.query, params.body]
    hidden += [value for _, value in parse_qsl(parts.query, keep_blank_values=True) if len(value) >= _LONG]
    for value in (params.headers or {}).values():
        hidden += [value, *(word for word in value.split() if len(word) >= _LONG)]
    return tuple(h for h in hidden if h)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


class _Converter(RowConverter):
    """A :class:`RowConverter` whose every message is redacted: a reply may echo a token
    back (in a key, a value, an error page), and messages are printed and logged."""

    def __init__(self, params: HttpParams, context: SourceContext, file: str, hidden: tuple[str, ...]) -> None:
        super().__init__(params, context, file)
        self.hidden = hidden

    def fail(self, message: str, *, line: int | None = None, key: str | None = None) -> SourceError:
        return super().fail(redact(message, self.hidden), line=line, key=key)

    def bad(self, message: str, *, line: int | None = None, key: str | None = None) -> None:
        super().bad(redact(message, self.hidden), line=line, key=key)


class _Failed(Exception):
    """One attempt failed; ``retryable`` says whether another attempt may succeed."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@attrs.frozen
class _HttpReader:
    params: HttpParams
    context: SourceContext
    url: str = attrs.field(repr=False)
    shown: str
    hidden: tuple[str, ...] = attrs.field(repr=False)
    basic: str | None = attrs.field(default=None, repr=False)

    def read(self, indicators: Collection[str] | None) -> Iterator[Record]:
        params = self.params
        if params.none_wanted(indicators):
            return
        conv = _Converter(params, self.context, self.shown, self.hidden)
        wanted = None if indicators is None else frozenset(indicators)
        document = self._parse(self._fetch(conv), conv)
        rows, prefix = self._locate(document, conv)
        for index, row in enumerate(rows):
            key = f"{prefix}[{index}]"
            rec = self._row(row, conv, wanted, first=index == 0, key=key)
            if rec is not None:
                yield rec

    # -- the request -----------------------------------------------------------------------------

    def request(self) -> urllib.request.Request:
        """The request :meth:`read` sends."""
        params = self.params
        headers = {"Accept": "application/json", "User-Agent": f"targetwatch/{__version__}"}
        if self.basic is not None:
            headers["Authorization"] = self.basic
        data = None
        if params.method == "POST":
            data = (params.body or "").encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        for name, value in (params.headers or {}).items():
            for existing in [h for h in headers if h.lower() == name.lower()]:
                del headers[existing]
            headers[name] = value
        return urllib.request.Request(self.url, data=data, headers=headers, method=params.method)

    def _fetch(self, conv: RowConverter) -> tuple[bytes, str | None]:
        params = self.params
        attempts = params.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                log.debug("source %r: %s %s (attempt %d of %d)", self.context.name, params.method, self.shown, attempt, attempts)
                return self._attempt()
            except _Failed as exc:
                if not exc.retryable or attempt == attempts:
                    tried = f" (after {attempt} attempts)" if attempt > 1 else ""
                    raise conv.fail(f"{params.method} {exc}{tried}") from None
                wait = params.retry_wait * 2 ** (attempt - 1)
                log.info("source %r: %s; retrying in %g s", self.context.name, self._redact(str(exc)), wait)
                time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _attempt(self) -> tuple[bytes, str | None]:
        opener = urllib.request.build_opener(_NoRedirect())
        timeout = self.params.timeout
        try:
            with opener.open(self.request(), timeout=timeout) as response:
                return response.read(), response.headers.get_content_charset()
        except urllib.error.HTTPError as exc:
            raise self._status_error(exc) from None
        except urllib.error.URLError as exc:
            raise self._network_error(exc.reason) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._network_error(exc) from None

    def _status_error(self, exc: urllib.error.HTTPError) -> _Failed:
        status = exc.code
        try:
            reply = exc.read(4096).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            reply = ""
        finally:
            exc.close()
        text = f"returned HTTP {status} {exc.reason}"
        if 300 <= status < 400:
            location = exc.headers.get("Location", "") or ""
            target = safe_url(location) if urlsplit(location).hostname else "another address"
            text += f" (a redirect to {target}; redirects are not followed, set url to the final address)"
        reply = " ".join(reply.split())[:_SNIPPET]
        if reply:
            text += f"; the reply starts: {reply!r}"
        return _Failed(text, status in _RETRYABLE_STATUS or status >= 500)

    def _network_error(self, reason: object) -> _Failed:
        if isinstance(reason, TimeoutError):
            return _Failed(f"got no answer within {self.params.timeout:g} s", True)
        if isinstance(reason, ssl.SSLCertVerificationError):
            return _Failed(f"failed: the certificate does not verify ({reason.verify_message})", False)
        if isinstance(reason, OSError):
            return _Failed(f"failed: {reason.strerror or reason or type(reason).__name__}", True)
        return _Failed(f"failed: {reason or type(reason).__name__}", True)

    def _redact(self, text: str) -> str:
        return redact(text, self.hidden)

    # -- the document ----------------------------------------------------------------------------

    def _parse(self, reply: tuple[bytes, str | None], conv: RowConverter) -> Any:
        raw, charset = reply
        try:
            # Without a declared charset json finds UTF-8/16/32 (with or without a BOM) itself.
            text: str | bytes = raw if charset is None else raw.decode(charset)
            return json.loads(text, parse_float=Decimal)
        except (LookupError, UnicodeDecodeError) as exc:
            why = f"unknown charset {charset!r}" if isinstance(exc, LookupError) else f"not {exc.encoding} text"
            raise conv.fail(f"expected a JSON reply, found one that does not decode ({why})") from None
        except json.JSONDecodeError as exc:
            start = " ".join(exc.doc[:_SNIPPET].split()) if isinstance(exc.doc, str) else ""
            found = f"; the reply starts: {start!r}" if start else "; the reply is empty"
            raise conv.fail(f"expected a JSON reply, found invalid JSON at line {exc.lineno}, column {exc.colno} (char {exc.pos}): {exc.msg}{found}") from None

    def _locate(self, document: Any, conv: RowConverter) -> tuple[list[Any], str]:
        """The array of rows at ``rows`` (the document itself when not set) and its path text."""
        path = self.params.rows
        node = document
        walked = ""
        for step in (steps(path) or []) if path else []:
            here = repr(walked) if walked else "the top of the reply"
            if isinstance(node, dict) and isinstance(step, str):
                if step not in node:
                    keys = ", ".join(repr(k) for k in node) or "none"
                    raise conv.fail(f"rows: no key {step!r} under {here}; keys found: {keys}", key=path)
                node = node[step]
            elif isinstance(node, list) and (isinstance(step, int) or step.isdigit()):
                index = int(step)
                if index >= len(node):
                    raise conv.fail(f"rows: no item [{index}] under {here}; it has {len(node)} item{'s' if len(node) != 1 else ''}", key=path)
                node = node[index]
                walked += f"[{index}]"
                continue
            else:
                wants = f"an array to take item [{step}] from" if isinstance(step, int) or step.isdigit() else f"an object with key {step!r}"
                raise conv.fail(f"rows: expected {wants} under {here}, {_shape(node)}", key=path)
            walked += f".{step}" if walked else str(step)
        if not isinstance(node, list):
            where = f"at {path!r}" if path else "as the reply (set rows to the path of the array, e.g. \"data.items\")"
            raise conv.fail(f"expected an array of row objects {where}, {_shape(node)}", key=path)
        return node, walked

    def _row(self, row: object, conv: RowConverter, wanted: frozenset[str] | None, *, first: bool, key: str) -> Record | None:
        if not isinstance(row, dict):
            conv.bad(f"expected a row object, {_shape(row)}", key=key)
            return None
        row = self._flat(row, conv, key)
        if row is None:
            return None
        if first:
            conv.check_columns(list(row), key=key, what="keys")
        names = conv.names
        for role in CORE:
            if (role != "indicator" or conv.fixed is None) and names[role] not in row:
                shown = ", ".join(repr(k) for k in row) or "none"
                conv.bad(f"column {names[role]!r}: missing (keys found: {shown})", key=key)
                return None
        if conv.fixed is None and wanted is not None and not conv.wanted(row[names["indicator"]], wanted):
            return None
        return conv.record(
            None if conv.fixed is not None else row[names["indicator"]],
            row[names["period"]],
            row[names["value"]],
            [(k, row.get(k)) for k in conv.label_keys(row)],
            origin=f"{self.shown}: {key}",
            key=key,
        )

    def _flat(self, row: dict[str, Any], conv: RowConverter, key: str) -> dict[str, Any] | None:
        """``row`` with the objects under the ``flatten`` keys merged into it."""
        nested = [k for k in self.params.flatten if k in row and k not in conv.ignore]
        if not nested:
            return row
        flat = {k: v for k, v in row.items() if k not in nested}
        for name in nested:
            inner = row[name]
            if inner is None:
                continue
            if not isinstance(inner, Mapping):
                conv.bad(f"column {name!r}: expected an object of names to values (listed in flatten), {describe(inner)}", key=key)
                return None
            for k, v in inner.items():
                k = str(k)
                if k in conv.ignore:
                    continue
                if k in flat and flat[k] != v:
                    conv.bad(f"{k!r} is given twice, as {flat[k]!r} and as {v!r} (in {name!r})", key=key)
                    return None
                flat[k] = v
        return flat


def _shape(node: object) -> str:
    if isinstance(node, dict):
        keys = ", ".join(repr(k) for k in list(node)[:10]) or "none"
        return f"found an object (keys: {keys})"
    if isinstance(node, list):
        return "found an array"
    return describe(node)


@hookimpl
def register_sources(register: Callable[[SourceType], None]) -> None:
    register(HttpSource())
