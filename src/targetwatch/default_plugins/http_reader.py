"""Reading the ``http`` source: the request with its retries and back-off, the errors of a
failed attempt, and the rows found in the JSON reply, converted as the file sources convert
theirs (:mod:`.tabular`). Every message is redacted of what may be a secret."""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import attrs

from .. import __version__
from ..errors import SourceError
from ..model import Record
from ..secrets import redact
from ..source import SourceContext
from .http_params import HttpParams, steps
from .tabular import CORE, RowConverter, describe

#: Messages are logged under the name of the source's module.
log = logging.getLogger("targetwatch.default_plugins.http_source")

_RETRYABLE_STATUS = frozenset({408, 425, 429})
_SNIPPET = 200


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
class HttpReader:
    """An opened ``http`` source: :meth:`read` fetches the document (retrying as configured) and yields its rows."""

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
