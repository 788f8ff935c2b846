"""The ``http`` source: long-format observations as JSON fetched over HTTP(S).

The rows are converted exactly as the file sources convert theirs (:mod:`.tabular`); what
this source adds is the request (method, query, headers, body), retries with back-off, and
finding the array of rows inside the reply. Its parameters are declared in
:mod:`.http_params`, the request and the reading of the reply are in :mod:`.http_reader`;
this module turns the parameters into the request and keeps what may be a secret out of
every message.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..hookspecs import hookimpl
from ..source import Source, SourceContext, SourceType
from .http_params import HttpParams, QueryValues, steps
from .http_reader import HttpReader, safe_url

_LONG = 8  # words at least this long in header values are treated as secrets on their own


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
        return HttpReader(params, context, url, safe_url(url), hidden, basic)


def _hidden(params: HttpParams, url: str) -> tuple[str, ...]:
    """Everything that may be a secret: header values (and their long words: the token in
    "Bearer <token>"), credentials in the URL, its query string and each long query value, the body."""
    parts = urlsplit(url)
    hidden = [parts.username, parts.password, parts.query, params.body]
    hidden += [value for _, value in parse_qsl(parts.query, keep_blank_values=True) if len(value) >= _LONG]
    for value in (params.headers or {}).values():
        hidden += [value, *(word for word in value.split() if len(word) >= _LONG)]
    return tuple(h for h in hidden if h)


@hookimpl
def register_sources(register: Callable[[SourceType], None]) -> None:
    register(HttpSource())


__all__ = ["HttpParams", "HttpSource", "QueryValues", "register_sources", "safe_url", "steps"]
