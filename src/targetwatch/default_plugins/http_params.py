"""The parameters of the ``http`` source: the request (URL, method, query, headers, body),
where the rows are in the reply (``rows``, ``flatten``), timeouts and retries, on top of the
parameters every tabular source shares (:mod:`.tabular_params`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import attrs

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
from ..secrets import masked_repr
from .tabular import TabularParams

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


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
